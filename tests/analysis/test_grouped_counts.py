"""`query.grouped_counts` against people counted one by one in Python, on random tables
with single and multiple choices, unanswered questions, empty choices, a filter and a
date window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from incity.analysis.query import (
    Categorical,
    ChoiceFilter,
    GroupedCounts,
    TableQuery,
    grouped_counts,
)

LEVELS = ["a", "b", "c"]
QUESTIONS = {"s1": False, "s2": False, "m1": True, "m2": True}
START = datetime(2026, 1, 1, tzinfo=UTC)
SINCE = START + timedelta(days=10)

single = st.one_of(st.none(), st.sampled_from(LEVELS))
multiple = st.one_of(st.none(), st.lists(st.sampled_from(LEVELS), max_size=3))
person = st.fixed_dictionaries(
    {"day": st.integers(0, 30), "s1": single, "s2": single, "m1": multiple, "m2": multiple}
)


def _levels(person: dict[str, Any], name: str) -> set[str]:
    value = person[name]
    if value is None:
        return set()
    return set(value) if QUESTIONS[name] else {value}


def _expected(
    people: list[dict[str, Any]], rows: str, cols: str | None, where: str | None, window: bool
) -> GroupedCounts:
    counts: GroupedCounts = {}
    for one in people:
        row_levels = _levels(one, rows)
        col_levels = _levels(one, cols) if cols else {None}
        if not row_levels or not col_levels:
            continue  # not answered: in no cell and no margin
        met: list[bool] = []
        if where is not None:
            met.append("a" in _levels(one, where))
        if window:
            met.append(START + timedelta(days=one["day"]) >= SINCE)
        flags = tuple(met)
        keys = {(r, c) for r in row_levels for c in col_levels}
        keys |= {(r, None) for r in row_levels}
        keys |= {(None, c) for c in col_levels}
        keys.add((None, None))
        for row, col in keys:
            counts[(row, col, flags)] = counts.get((row, col, flags), 0) + 1
    return counts


@settings(max_examples=60, deadline=None)
@given(
    people=st.lists(person, max_size=40),
    rows=st.sampled_from(sorted(QUESTIONS)),
    cols=st.one_of(st.none(), st.sampled_from(sorted(QUESTIONS))),
    where=st.one_of(st.none(), st.sampled_from(sorted(QUESTIONS))),
    window=st.booleans(),
)
def test_counts_are_people_in_every_cell_and_margin(
    tmp_path_factory: Any,
    people: list[dict[str, Any]],
    rows: str,
    cols: str | None,
    where: str | None,
    window: bool,
) -> None:
    if cols == rows:
        cols = None
    path = Path(tmp_path_factory.mktemp("counts")) / "snapshot.parquet"
    table = {
        "submission_id": pa.array(range(1, len(people) + 1), pa.int64()),
        "received_at": pa.array(
            [START + timedelta(days=one["day"]) for one in people], pa.timestamp("us", "UTC")
        ),
    }
    for name, is_multiple in QUESTIONS.items():
        kind = pa.list_(pa.string()) if is_multiple else pa.string()
        table[name] = pa.array([one[name] for one in people], kind)
    pq.write_table(pa.table(table), path)
    query = TableQuery(
        Categorical(rows, QUESTIONS[rows]),
        Categorical(cols, QUESTIONS[cols]) if cols else None,
        (ChoiceFilter(Categorical(where, QUESTIONS[where]), "a"),) if where else (),
        SINCE if window else None,
    )
    assert grouped_counts(path, query) == _expected(people, rows, cols, where, window)
