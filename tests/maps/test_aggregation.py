"""Aggregation and publication on known and random mark sets (no database needed)."""

from __future__ import annotations

import h3
import numpy as np
from h3.api import basic_int as h3int
from hypothesis import given, settings
from hypothesis import strategies as st

from incity.maps.layers.hexagons import (
    CellCounts,
    balance,
    choose_resolution,
    merge_small,
    protect_units,
    published_features,
)
from incity.maps.layers.marks import parent_cells

ORIGIN = "89195c0594bffff"  # a resolution-9 cell in Riverton
CATEGORIES = ("safe", "unsafe")


def test_vectorised_parents_equal_h3s_own() -> None:
    cells = np.array(
        [h3int.latlng_to_cell(52.45 + i * 0.003, -1.9 + i * 0.002, 10) for i in range(20)],
        dtype=np.uint64,
    )
    for resolution in range(7, 11):
        expected = [h3int.cell_to_parent(int(cell), resolution) for cell in cells]
        assert parent_cells(cells, resolution).tolist() == expected


def test_the_resolution_suits_the_area() -> None:
    city_district = (-1.92, 52.45, -1.88, 52.50)  # about 5.5 km tall
    assert choose_resolution(city_district) == 9
    assert choose_resolution((-2.5, 52.0, -1.3, 53.0)) == 7
    assert choose_resolution((-1.901, 52.480, -1.899, 52.482)) == 10
    assert choose_resolution(None) == 9


def test_balance_needs_both_counts() -> None:
    assert balance(3, 1) == 0.5
    assert balance(None, 4) is None
    assert balance(0, 0) is None


def test_small_siblings_merge_into_their_parent_when_together_they_pass() -> None:
    parent = h3.cell_to_parent(ORIGIN, 8)
    children = sorted(h3.cell_to_children(parent, 9))
    counts = {children[0]: {"unsafe": 6}, children[1]: {"unsafe": 5}, children[2]: {"safe": 20}}
    units = merge_small(CellCounts(9, CATEGORIES, counts), threshold=10)
    by_id = {unit.id: unit for unit in units}
    assert by_id[parent].kind == "merged"
    assert by_id[parent].counts == {"unsafe": 11}
    assert sorted(by_id[parent].members) == children[:2]
    assert by_id[children[2]].kind == "cell"
    features, summary = published_features(units, protect_units(units, CATEGORIES, 10), None)
    assert summary["small_cells_merged"] == 2
    merged = next(f for f in features if f["id"] == parent)
    assert merged["properties"]["total"] == 11
    assert merged["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_a_small_cell_without_small_siblings_is_left_off() -> None:
    counts = {ORIGIN: {"unsafe": 4}}
    units = merge_small(CellCounts(9, CATEGORIES, counts), threshold=10)
    features, summary = published_features(units, protect_units(units, CATEGORIES, 10), None)
    assert features == []
    assert summary["cells_suppressed_small"] == 1


def test_a_small_category_inside_a_shown_cell_is_hidden_with_its_complement() -> None:
    units = merge_small(CellCounts(9, CATEGORIES, {ORIGIN: {"unsafe": 30, "safe": 2}}), 10)
    features, _ = published_features(units, protect_units(units, CATEGORIES, 10), None)
    properties = features[0]["properties"]
    assert properties["counts"]["safe"] is None
    assert properties["counts"]["unsafe"] is None or properties["total"] is None
    assert properties["balance"] is None


_cells = st.sampled_from(sorted(h3.grid_disk(ORIGIN, 2)))
_counts = st.dictionaries(
    _cells,
    st.fixed_dictionaries({"safe": st.integers(0, 25), "unsafe": st.integers(0, 25)}),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(counts=_counts, threshold=st.integers(2, 12))
def test_published_output_never_shows_a_small_count(
    counts: dict[str, dict[str, int]], threshold: int
) -> None:
    counts = {cell: c for cell, c in counts.items() if sum(c.values()) > 0}
    units = merge_small(CellCounts(9, CATEGORIES, counts), threshold)
    features, _ = published_features(units, protect_units(units, CATEGORIES, threshold), None)
    for feature in features:
        properties = feature["properties"]
        shown = [properties["total"], *properties["counts"].values()]
        for value in shown:
            if value is None:
                continue
            assert not (1 <= value < threshold)
        total = properties["total"]
        assert total is not None
        assert total >= threshold
    # Every mark is either in a shown unit or accounted as hidden: nothing is counted twice.
    assert sum(f["properties"]["total"] for f in features) <= sum(
        sum(c.values()) for c in counts.values()
    )
