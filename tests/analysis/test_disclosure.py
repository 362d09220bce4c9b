"""The disclosure gate: no published output reveals a count from 1 to threshold - 1.

The attacker here is written independently of the gate's own audit: it reads
only what is published (shown counts, which entries are marked `primary`,
that rows and columns add up, that counts are not negative) and solves a
linear programme for the smallest and largest value of each hidden count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from incity.analysis import disclosure
from incity.analysis.disclosure import (
    TOTAL,
    CountTable,
    Overlap,
    ProtectedTable,
    count_table,
    protect_cells,
    protect_count,
    protect_table,
)

SMALLISH = st.integers(min_value=0, max_value=40) | st.sampled_from([0, 1, 2, 3, 9, 10, 11])


@st.composite
def tables(draw: st.DrawFn, max_rows: int = 5, max_cols: int = 4) -> CountTable:
    rows = [f"r{i}" for i in range(draw(st.integers(1, max_rows)))]
    cols = [f"c{j}" for j in range(draw(st.integers(0, max_cols)))]
    if not cols:
        return count_table({row: draw(SMALLISH) for row in rows}, rows=rows)
    cells = {(row, col): draw(SMALLISH) for row in rows for col in cols}
    return count_table(cells, rows=rows, cols=cols)


@st.composite
def nested_tables(draw: st.DrawFn) -> tuple[CountTable, CountTable]:
    """A table and a sub-table of it (the same table for a filter)."""
    wider = draw(tables(max_rows=4, max_cols=3))
    if not wider.cols:
        inner = {row: draw(st.integers(0, wider.counts[(row, TOTAL)])) for row in wider.rows}
        return wider, count_table(inner, rows=list(wider.rows))
    cells = {
        (row, col): draw(st.integers(0, wider.counts[(row, col)]))
        for row in wider.rows
        for col in wider.cols
    }
    return wider, count_table(cells, rows=list(wider.rows), cols=list(wider.cols))


def _lines(table: ProtectedTable) -> list[list[tuple[str, str]]]:
    """Each row and column with its total last (an equation: members - total = 0)."""
    found = []
    if table.cols:
        for row in [*table.rows, TOTAL]:
            found.append([*((row, col) for col in table.cols), (row, TOTAL)])
    for col in [*table.cols, TOTAL]:
        found.append([*((row, col) for row in table.rows), (TOTAL, col)])
    return found


class Attacker:
    """Everything a reader of the published tables knows, as a linear programme."""

    def __init__(self) -> None:
        self.bounds: list[tuple[float, float | None]] = []
        self.eq: list[dict[int, float]] = []
        self.ub: list[dict[int, float]] = []

    def read(self, table: ProtectedTable) -> dict[tuple[str, str], int]:
        lowest = 0.0 if table.threshold == 2 else 1.0
        index = {}
        for key, entry in table.entries.items():
            index[key] = len(self.bounds)
            if entry.count is not None:
                self.bounds.append((entry.count, entry.count))
            elif entry.reason == "primary":
                self.bounds.append((lowest, table.threshold - 1))
            else:
                self.bounds.append((0, None))
        for line in _lines(table):
            equation = {index[key]: 1.0 for key in line[:-1]}
            equation[index[line[-1]]] = -1.0
            self.eq.append(equation)
        return index

    def at_most(self, smaller: dict[Any, int], larger: dict[Any, int]) -> None:
        for key, position in smaller.items():
            self.ub.append({position: 1.0, larger[key]: -1.0})

    def interval(self, objective: dict[int, float]) -> tuple[float, float]:
        size = len(self.bounds)
        c = np.zeros(size)
        for position, weight in objective.items():
            c[position] = weight

        def matrix(rows: list[dict[int, float]]) -> Any:
            if not rows:
                return None
            m = np.zeros((len(rows), size))
            for i, row in enumerate(rows):
                for j, w in row.items():
                    m[i, j] = w
            return m

        a_eq, a_ub = matrix(self.eq), matrix(self.ub)
        kwargs: dict[str, Any] = {"bounds": self.bounds, "method": "highs"}
        if a_eq is not None:
            kwargs.update(A_eq=a_eq, b_eq=np.zeros(len(self.eq)))
        if a_ub is not None:
            kwargs.update(A_ub=a_ub, b_ub=np.zeros(len(self.ub)))
        low = linprog(c, **kwargs)
        high = linprog(-c, **kwargs)
        assert low.status in (0, 3)
        assert high.status in (0, 3)
        return (
            low.fun if low.status == 0 else -np.inf,
            -high.fun if high.status == 0 else np.inf,
        )


def _small(count: int, threshold: int) -> bool:
    return 1 <= count < threshold


def _assert_no_small_count_shown(table: CountTable, published: ProtectedTable, t: int) -> None:
    for key, entry in published.entries.items():
        if entry.count is not None:
            assert not _small(entry.count, t), key
            assert entry.count == table.counts[key]
        if entry.percent is not None:
            # A percentage is shown only beside its shown count and denominator.
            assert entry.count is not None
            assert published.entries[(TOTAL, key[1])].count is not None


def _assert_no_line_has_one_hidden(published: ProtectedTable) -> None:
    for line in _lines(published):
        hidden = [key for key in line if published.entries[key].count is None]
        assert len(hidden) != 1, line


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), threshold=st.sampled_from([2, 3, 5, 10]))
def test_no_published_table_reveals_a_small_count(table: CountTable, threshold: int) -> None:
    published = protect_table(table, threshold=threshold)
    _assert_no_small_count_shown(table, published, threshold)
    _assert_no_line_has_one_hidden(published)
    attacker = Attacker()
    index = attacker.read(published)
    for key, position in index.items():
        if _small(table.counts[key], threshold) or (threshold == 2 and table.counts[key] == 0):
            low, high = attacker.interval({position: 1.0})
            assert high - low >= 0.5, (key, table.counts[key], low, high)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=nested_tables(), threshold=st.sampled_from([3, 5, 10]))
def test_differencing_a_table_with_its_filtered_table_reveals_no_small_count(
    pair: tuple[CountTable, CountTable], threshold: int
) -> None:
    wider, inner = pair
    wider_published = protect_table(wider, threshold=threshold)
    inner_published = protect_table(
        inner, threshold=threshold, overlaps=[Overlap(wider, wider_published)]
    )
    _assert_no_small_count_shown(inner, inner_published, threshold)
    _assert_no_line_has_one_hidden(inner_published)
    attacker = Attacker()
    outer_index = attacker.read(wider_published)
    inner_index = attacker.read(inner_published)
    attacker.at_most(inner_index, outer_index)
    for key in inner.all_keys():
        difference = wider.counts[key] - inner.counts[key]
        if _small(difference, threshold):
            low, high = attacker.interval({outer_index[key]: 1.0, inner_index[key]: -1.0})
            assert high - low >= 0.5, ("difference", key, difference, low, high)
        for index, counts in ((inner_index, inner.counts), (outer_index, wider.counts)):
            if _small(counts[key], threshold):
                low, high = attacker.interval({index[key]: 1.0})
                assert high - low >= 0.5, (key, counts[key], low, high)


# --- examples ----------------------------------------------------------------------------


def test_a_small_count_alone_in_its_row_takes_a_second_cell_with_it() -> None:
    table = count_table(
        {("a", "x"): 3, ("a", "y"): 20, ("b", "x"): 15, ("b", "y"): 30},
        rows=["a", "b"],
        cols=["x", "y"],
    )
    published = protect_table(table, threshold=10)
    reasons = {key: e.reason for key, e in published.entries.items() if e.reason}
    assert reasons == {
        ("a", "x"): "primary",
        ("a", "y"): "secondary",
        ("b", "x"): "secondary",
        ("b", "y"): "secondary",
    }
    assert published.entry("a").count == 23
    assert published.entry("a", "x").percent is None
    assert published.entry("a", "x").percent_reason == "derived"


def test_zeros_are_shown_and_are_the_last_choice_of_complement() -> None:
    published = protect_cells({"h1": 4, "h2": 0, "h3": 12, "h4": 50}, threshold=10)
    assert published.entry("h2").count == 0
    assert published.entry("h1").reason == "primary"
    assert published.entry("h3").reason == "secondary"
    assert published.entry("h4").count == 50


def test_at_threshold_two_zeros_are_hidden_too() -> None:
    published = protect_cells({"a": 0, "b": 1, "c": 30, "d": 31}, threshold=2)
    assert published.entry("a").reason == "primary"
    assert published.entry("b").reason == "primary"


def test_a_one_beside_a_zero_is_not_given_away_by_its_label() -> None:
    # Hiding the zero with the 1 would tell the reader "primary + other = 1", so 1.
    published = protect_cells({"a": 1, "b": 0, "c": 50}, threshold=10)
    assert published.entry("a").count is None
    assert published.entry("c").count is None


def test_a_small_total_is_hidden_with_everything_it_would_give_away() -> None:
    published = protect_cells({"a": 2, "b": 3}, threshold=10)
    assert all(entry.count is None for entry in published.entries.values())


def test_a_single_count_is_hidden_below_the_threshold_and_zero_is_shown() -> None:
    assert protect_count(9, threshold=10).as_dict() == {
        "value": None,
        "suppressed": "primary",
        "threshold": 10,
    }
    assert protect_count(10, threshold=10).value == 10
    assert protect_count(0, threshold=10).value == 0
    assert protect_count(1, threshold=2).value is None


def test_a_threshold_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        protect_count(3, threshold=1)


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        count_table({"a": -1}, rows=["a"])


def test_an_overlap_that_does_not_contain_the_table_is_refused() -> None:
    wider = count_table({"a": 1, "b": 2}, rows=["a", "b"])
    inner = count_table({"a": 5, "b": 2}, rows=["a", "b"])
    with pytest.raises(ValueError, match="fewer"):
        protect_table(
            inner,
            threshold=3,
            overlaps=[Overlap(wider, protect_table(wider, threshold=3))],
        )


def test_the_difference_with_the_unfiltered_table_is_protected() -> None:
    wider = count_table({"a": 40, "b": 50, "c": 60}, rows=["a", "b", "c"])
    inner = count_table({"a": 38, "b": 20, "c": 30}, rows=["a", "b", "c"])
    plain = protect_table(inner, threshold=10)
    assert plain.entry("a").count == 38  # on its own, nothing is small
    published = protect_table(
        inner, threshold=10, overlaps=[Overlap(wider, protect_table(wider, threshold=10))]
    )
    assert published.entry("a").count is None
    assert published.entry("a").reason == "secondary"


def test_multiple_choice_margins_need_not_add_up() -> None:
    table = count_table(
        {("x", "g"): 12, ("y", "g"): 15}, rows=["x", "y"], cols=["g"], col_totals={"g": 20}
    )
    assert not table.rows_add_up
    published = protect_table(table, threshold=10)
    assert published.entry(TOTAL, "g").count == 20
    assert published.suppressed() == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    counts=st.lists(SMALLISH, min_size=1, max_size=8),
    threshold=st.sampled_from([2, 3, 5, 10]),
)
def test_one_line_in_closed_form_publishes_what_the_linear_programme_would(
    counts: list[int], threshold: int
) -> None:
    cells = {f"cell{i}": count for i, count in enumerate(counts)}
    fast = protect_cells(cells, threshold=threshold)
    disclosure.CLOSED_FORM_FOR_ONE_LINE = False
    try:
        slow = protect_cells(cells, threshold=threshold)
    finally:
        disclosure.CLOSED_FORM_FOR_ONE_LINE = True
    assert fast.entries == slow.entries
    table = count_table(cells, rows=list(cells))
    _assert_no_small_count_shown(table, fast, threshold)
    _assert_no_line_has_one_hidden(fast)
