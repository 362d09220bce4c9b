"""Hexagon layers: marks counted per H3 cell and category, published through the gate.

Published (the default): cells whose total is below the project's threshold are merged
with their small siblings into the parent cell where that brings them over it (the
merged area is the parent minus its cells published on their own, so it tells nothing
about which small cells had marks); the rest goes through `protect_table` (cells x
categories with margins), which hides small counts and what would reveal them. Hidden
cells are left off the map altogether: showing where a small cell lies would say that
someone marked a place there. The balance uses published counts only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import h3
import numpy as np
import shapely
from h3.api import basic_int as h3int
from numpy.typing import NDArray
from shapely.geometry import Polygon, mapping

from incity.analysis.disclosure import TOTAL, protect_cells, protect_count
from incity.maps.layers.marks import MarkColumns, parent_cells
from incity.maps.layers.request import MAX_RESOLUTION, MIN_RESOLUTION, MapQuestion

# A map_marks question's whole list is one column; a geopoint's marks have no category.
UNCATEGORISED = "marks"
# How many cells across the project area the automatic resolution aims for (at most).
CELLS_ACROSS = 40


@dataclass(frozen=True)
class CellCounts:
    """Counts per cell (H3 id) and category at one resolution, before any protection."""

    resolution: int
    categories: tuple[str, ...]
    counts: dict[str, dict[str, int]]  # cell -> category -> count (zeros left out)

    def total(self, cell: str) -> int:
        return sum(self.counts[cell].values())


@dataclass
class Unit:
    """A published row of the map: one cell, or small sibling cells merged into their parent."""

    id: str
    kind: str  # "cell" or "merged"
    resolution: int
    counts: dict[str, int]
    members: list[str] = field(default_factory=list)


def columns_of(question: MapQuestion) -> tuple[str, ...]:
    return question.categories or (UNCATEGORISED,)


def choose_resolution(bounds: tuple[float, float, float, float] | None) -> int:
    """The finest resolution (7-10) at which the area spans at most CELLS_ACROSS cells."""
    if bounds is None:
        return 9
    west, south, east, north = bounds
    middle = math.radians((south + north) / 2)
    span = max((east - west) * 111_320 * math.cos(middle), (north - south) * 110_540)
    for resolution in range(MAX_RESOLUTION, MIN_RESOLUTION - 1, -1):
        across = math.sqrt(3) * h3.average_hexagon_edge_length(resolution, unit="m")
        if span / across <= CELLS_ACROSS:
            return resolution
    return MIN_RESOLUTION


def count_cells(
    columns: MarkColumns, keep: NDArray[np.bool_], question: MapQuestion, resolution: int
) -> CellCounts:
    categories = columns_of(question)
    cells = parent_cells(columns.cell[keep], resolution)
    if question.categories:
        codes = columns.category[keep].astype(np.int64)
        known = codes >= 0
        cells, codes = cells[known], codes[known]
    else:
        codes = np.zeros(cells.size, dtype=np.int64)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    if cells.size:
        # Sort the cells alone and count (cell, category) pairs by bincount: np.unique over
        # rows of pairs sorts a million of them as opaque records, some ten times slower.
        unique, inverse = np.unique(cells, return_inverse=True)
        width = len(categories)
        tally = np.bincount(inverse.ravel() * width + codes, minlength=unique.size * width)
        for cell, row in zip(unique.tolist(), tally.reshape(-1, width).tolist(), strict=True):
            name = h3int.int_to_str(cell)
            for code, n in enumerate(row):
                if n:
                    counts[name][categories[code]] = n
    return CellCounts(resolution, categories, dict(counts))


def merge_small(cells: CellCounts, threshold: int) -> list[Unit]:
    """Cells as units; small cells merged into their parent where together they pass."""
    units: list[Unit] = []
    small_by_parent: dict[str, list[str]] = defaultdict(list)
    for cell in sorted(cells.counts):
        if cells.total(cell) < threshold and cells.resolution > 0:
            small_by_parent[h3.cell_to_parent(cell, cells.resolution - 1)].append(cell)
        else:
            units.append(Unit(cell, "cell", cells.resolution, dict(cells.counts[cell])))
    for parent, children in sorted(small_by_parent.items()):
        together = sum(cells.total(child) for child in children)
        if together >= threshold and len(children) > 1:
            merged: dict[str, int] = defaultdict(int)
            for child in children:
                for category, n in cells.counts[child].items():
                    merged[category] += n
            units.append(Unit(parent, "merged", cells.resolution - 1, dict(merged), children))
        else:
            units.extend(
                Unit(child, "cell", cells.resolution, dict(cells.counts[child]))
                for child in children
            )
    return units


@dataclass(frozen=True)
class ProtectedUnit:
    """One unit as it may be published: its total and category counts, None where hidden."""

    total: int | None
    total_reason: str | None
    counts: dict[str, int | None]
    reasons: dict[str, str]


def protect_units(
    units: list[Unit], categories: tuple[str, ...], threshold: int
) -> dict[str, ProtectedUnit]:
    """Each unit through the gate on its own: its categories add up to its total.

    The map publishes no margins (no column or grand totals), so a unit's row is the
    only line a hidden count could be worked out from: a unit whose total is small is
    hidden whole, and inside a shown unit a small category count is hidden together
    with the cheapest other one so that the total does not give it away.
    """
    return {unit.id: protect_counts(unit.counts, categories, threshold) for unit in units}


def protect_counts(
    counts: dict[str, int], categories: tuple[str, ...], threshold: int
) -> ProtectedUnit:
    if len(categories) == 1:
        alone = protect_count(sum(counts.values()), threshold=threshold)
        return ProtectedUnit(
            alone.value,
            alone.reason,
            {categories[0]: alone.value},
            {categories[0]: alone.reason} if alone.reason else {},
        )
    protected = protect_cells(
        {name: counts.get(name, 0) for name in categories}, threshold=threshold
    )
    total = protected.entry(TOTAL)
    shown = {name: protected.entry(name).count for name in categories}
    reasons = {
        name: str(protected.entry(name).reason)
        for name in categories
        if protected.entry(name).reason is not None
    }
    return ProtectedUnit(total.count, total.reason, shown, reasons)


def balance(safe: int | None, unsafe: int | None) -> float | None:
    """(safe - unsafe) / (safe + unsafe) from published counts; None when either is hidden."""
    if safe is None or unsafe is None or safe + unsafe == 0:
        return None
    return round((safe - unsafe) / (safe + unsafe), 3)


def cell_polygon(cell: str) -> Polygon:
    return Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])


def unit_geometry(unit: Unit, published_cells: set[str]) -> dict[str, Any]:
    if unit.kind == "cell":
        return dict(mapping(cell_polygon(unit.id)))
    # The parent minus its children published on their own: no hint which children had marks.
    siblings = [
        cell_polygon(child)
        for child in h3.cell_to_children(unit.id, unit.resolution + 1)
        if child not in published_cells
    ]
    return dict(mapping(shapely.union_all(siblings).buffer(0)))


def published_features(
    units: list[Unit], protected: dict[str, ProtectedUnit], category: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """GeoJSON features of the units whose total is published, and what was left out."""
    shown = [(unit, protected[unit.id]) for unit in units if protected[unit.id].total is not None]
    left_out = {"primary": 0, "secondary": 0}
    for unit in units:
        if protected[unit.id].total is None:
            left_out[protected[unit.id].total_reason or "secondary"] += 1
    published_cells = {unit.id for unit, _ in shown if unit.kind == "cell"}
    features = []
    for unit, entry in shown:
        features.append(
            {
                "type": "Feature",
                "id": unit.id,
                "geometry": unit_geometry(unit, published_cells),
                "properties": {
                    "cell": unit.id,
                    "kind": unit.kind,
                    "resolution": unit.resolution,
                    "merged_cells": len(unit.members),
                    "value": entry.total if category is None else entry.counts.get(category),
                    "total": entry.total,
                    "counts": entry.counts,
                    "suppressed": entry.reasons,
                    "balance": balance(entry.counts.get("safe"), entry.counts.get("unsafe")),
                },
            }
        )
    summary = {
        "cells_published": sum(1 for unit, _ in shown if unit.kind == "cell"),
        "cells_merged": sum(1 for unit, _ in shown if unit.kind == "merged"),
        "small_cells_merged": sum(len(unit.members) for unit, _ in shown if unit.kind == "merged"),
        "cells_suppressed_small": left_out["primary"],
        "cells_suppressed_secondary": left_out["secondary"],
        "counts_suppressed_in_published_cells": sum(len(entry.reasons) for _, entry in shown),
    }
    return features, summary
