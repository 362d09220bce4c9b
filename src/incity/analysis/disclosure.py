"""The disclosure gate: every figure that leaves the raw tier passes through here.

A published dashboard, a shared table, a map layer, a peer comparison, a
briefing and an API response with `scope=published` all call one of three
functions, with the project's threshold (`Project.disclosure_threshold`,
default 10):

- `protect_table(table, threshold=..., overlaps=...)` for a 1-D or 2-D table
  of counts with its margins (build the table with `count_table`);
- `protect_cells(counts, threshold=..., overlaps=...)` for a list of map cells
  or any other counts that add up to a total (a 1-D table);
- `protect_count(count, threshold=...)` for one number on its own.

The rules (docs/analysis.md, "Disclosure control", says the same in words):

1. **Primary suppression.** A count from 1 to threshold - 1 is not shown,
   margins included. Zeros are shown: nobody can be singled out from an empty
   cell. The one exception is a threshold of 2, where "below the threshold and
   not zero" would mean exactly 1, so zeros are suppressed with the ones.
2. **Secondary suppression.** In every row and column (margins count as
   members of their line) that has a suppressed entry, at least two are
   suppressed. The extra ("complementary") entries are the cheapest in the
   line: the smallest non-zero counts, cells before totals, zeros last
   because a zero hides nothing.
3. **Audit.** The published table is then attacked the way an analyst would:
   a linear programme per suppressed small count finds the smallest and
   largest value consistent with everything published — every shown count and
   total, that rows and columns add up, that counts are not negative, and that
   a cell marked `primary` lies between 1 and threshold - 1. If any small
   count is pinned to a single value, one more complementary entry is
   suppressed and the audit runs again. At worst everything is suppressed,
   which always passes: when even then the `primary` labels would pin a
   count (a tiny table of small counts), every entry is published as
   `secondary` instead, so the labels tell nothing.
4. **Overlapping tables.** A table with a filter (or a date window) is a
   sub-table of the same table without it; subtracting one from the other
   gives the table of everyone the filter left out. Callers pass the wider
   table and its published form as an `Overlap`; the audit then also solves
   for each small count in the difference (and for the wider table's own
   small counts) and suppresses more in *this* table until none is pinned.
   The wider table is never changed: it is what the API would publish for
   that request on its own, so both answers stay consistent.
5. **Percentages** are published only when their count and their
   denominator are; otherwise they are suppressed with the reason `derived`.

Every suppressed entry says why: `primary` (a small count), `secondary`
(hidden so that a small count cannot be worked out from totals or from an
overlapping table) or `derived` (a percentage whose count or denominator is
hidden). Limits (what the gate cannot see) are in docs/analysis.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from incity.analysis.disclosure_lp import AttackerProgramme

Reason = Literal["primary", "secondary", "derived"]
Key = tuple[str, str]

# The margin's name in a key: (row, TOTAL) is a row total, (TOTAL, TOTAL) the grand total.
TOTAL = "__total__"


@dataclass(frozen=True)
class CountTable:
    """Counts of a 1-D table (`cols == ()`, keys `(row, TOTAL)`) or a 2-D table.

    `counts` has every key of `keys()`: cells and margins. Margins are usually
    the sums of their line; for a multiple-choice question a person may count
    in several rows, so the margin (people) is less than the sum — say so with
    `rows_add_up=False` (the rows of a column do not add up to its total) or
    `cols_add_up=False`.
    """

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    counts: Mapping[Key, int]
    rows_add_up: bool = True
    cols_add_up: bool = True

    def all_keys(self) -> list[Key]:
        columns = [*self.cols, TOTAL]
        return [(row, col) for row in [*self.rows, TOTAL] for col in columns]

    def lines(self) -> list[Line]:
        """Every row and column with its total, margins included."""
        found: list[Line] = []
        if self.cols:
            for row in [*self.rows, TOTAL]:
                members = tuple((row, col) for col in self.cols)
                found.append(Line(members, (row, TOTAL), self.cols_add_up))
        for col in [*self.cols, TOTAL]:
            members = tuple((row, col) for row in self.rows)
            found.append(Line(members, (TOTAL, col), self.rows_add_up))
        return found


@dataclass(frozen=True)
class Line:
    members: tuple[Key, ...]
    total: Key
    adds_up: bool

    def entries(self) -> tuple[Key, ...]:
        return (*self.members, self.total)


def count_table(
    cells: Mapping[Key, int] | Mapping[str, int],
    *,
    rows: Sequence[str],
    cols: Sequence[str] = (),
    row_totals: Mapping[str, int] | None = None,
    col_totals: Mapping[str, int] | None = None,
    total: int | None = None,
) -> CountTable:
    """A `CountTable` from its cells; margins not given are the sums (and then add up).

    1-D: `cells` maps row -> count and `cols` is empty. 2-D: `cells` maps
    (row, col) -> count; missing cells are zero.
    """
    counts: dict[Key, int] = {}
    if not cols:
        for row in rows:
            counts[(row, TOTAL)] = _non_negative(cells.get(row, 0))  # type: ignore[call-overload]
        summed = sum(counts[(row, TOTAL)] for row in rows)
        counts[(TOTAL, TOTAL)] = summed if total is None else _non_negative(total)
        return CountTable(tuple(rows), (), counts, rows_add_up=total is None or total == summed)
    for row in rows:
        for col in cols:
            counts[(row, col)] = _non_negative(cells.get((row, col), 0))  # type: ignore[call-overload]
    sums_by_row = {row: sum(counts[(row, col)] for col in cols) for row in rows}
    sums_by_col = {col: sum(counts[(row, col)] for row in rows) for col in cols}
    for row in rows:
        counts[(row, TOTAL)] = _non_negative((row_totals or sums_by_row)[row])
    for col in cols:
        counts[(TOTAL, col)] = _non_negative((col_totals or sums_by_col)[col])
    grand = sum(counts[(TOTAL, col)] for col in cols) if total is None else total
    counts[(TOTAL, TOTAL)] = _non_negative(grand)
    return CountTable(
        tuple(rows),
        tuple(cols),
        counts,
        rows_add_up=all(counts[(TOTAL, col)] == sums_by_col[col] for col in cols)
        and sum(counts[(row, TOTAL)] for row in rows) == counts[(TOTAL, TOTAL)],
        cols_add_up=all(counts[(row, TOTAL)] == sums_by_row[row] for row in rows)
        and sum(counts[(TOTAL, col)] for col in cols) == counts[(TOTAL, TOTAL)],
    )


def _non_negative(value: int) -> int:
    if value < 0:
        raise ValueError(f"A count cannot be negative ({value}).")
    return int(value)


@dataclass(frozen=True)
class Entry:
    """One published entry: its count and percentage, or None with the reason."""

    row: str
    col: str
    count: int | None
    percent: float | None
    reason: Reason | None  # why the count is hidden; None when shown
    percent_reason: Reason | None  # why the percentage is hidden; None when shown

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": None if self.row == TOTAL else self.row,
            "col": None if self.col == TOTAL else self.col,
            "count": self.count,
            "percent": self.percent,
            "suppressed": self.reason or self.percent_reason,
        }


@dataclass(frozen=True)
class ProtectedTable:
    """A table as it may be published, with what was suppressed and why.

    Percentages are column percentages (a cell over its column's total); in a
    1-D table, shares of the grand total.
    """

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    threshold: int
    entries: Mapping[Key, Entry]
    rows_add_up: bool = True
    cols_add_up: bool = True

    def entry(self, row: str, col: str = TOTAL) -> Entry:
        return self.entries[(row, col)]

    def published(self) -> dict[Key, int | None]:
        return {key: entry.count for key, entry in self.entries.items()}

    def suppressed(self) -> list[dict[str, Any]]:
        """Each hidden count or percentage: where it is and why."""
        found: list[dict[str, Any]] = []
        for entry in self.entries.values():
            reason = entry.reason or entry.percent_reason
            if reason is not None:
                found.append(
                    {
                        "row": None if entry.row == TOTAL else entry.row,
                        "col": None if entry.col == TOTAL else entry.col,
                        "what": "count" if entry.reason else "percent",
                        "reason": reason,
                    }
                )
        return found

    def shape(self) -> CountTable:
        """The table's structure without its counts (for an attacker's view)."""
        return CountTable(
            self.rows, self.cols, {}, rows_add_up=self.rows_add_up, cols_add_up=self.cols_add_up
        )


@dataclass(frozen=True)
class Overlap:
    """A wider table that contains the one being protected, cell for cell.

    `wider` is the same rows and columns without one of the filters (or
    without the date window); `published` is what the gate publishes for it on
    its own. Every count of the protected table must be at most the wider
    table's count at the same key.
    """

    wider: CountTable
    published: ProtectedTable


@dataclass(frozen=True)
class ProtectedCount:
    value: int | None
    reason: Reason | None
    threshold: int

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "suppressed": self.reason, "threshold": self.threshold}


def protect_count(count: int, *, threshold: int) -> ProtectedCount:
    """One number on its own (a headline figure): hidden when it is a small count."""
    _check_threshold(threshold)
    if _is_small(_non_negative(count), threshold):
        return ProtectedCount(None, "primary", threshold)
    return ProtectedCount(count, None, threshold)


def protect_cells(
    counts: Mapping[str, int],
    *,
    threshold: int,
    total: int | None = None,
    overlaps: Sequence[Overlap] = (),
) -> ProtectedTable:
    """Counts that add up to a total (map cells, areas): a 1-D table through the gate.

    Read `result.entry(name).count` (None when hidden) and `.reason`; the
    total is `result.entry(TOTAL)`. Pass `total` when cells may overlap (a
    person counted in several cells): then they need not add up to it.
    """
    table = count_table(counts, rows=list(counts), total=total)
    return protect_table(table, threshold=threshold, overlaps=overlaps)


def protect_table(
    table: CountTable, *, threshold: int, overlaps: Sequence[Overlap] = ()
) -> ProtectedTable:
    """The table as it may be published (rules in the module docstring)."""
    _check_threshold(threshold)
    for overlap in overlaps:
        _check_overlap(table, overlap)
    primary = {key for key in table.all_keys() if _is_small(table.counts[key], threshold)}
    hidden = set(primary)
    # Entries published with the reason "primary"; a reader knows they are small.
    labelled = set(primary)
    lines = table.lines()
    # Each round hides one more entry or drops the labels, so this ends.
    for _ in range(len(table.all_keys()) + 2):
        _complete_lines(table, lines, hidden)
        exposed = _first_exposed(table, primary, labelled, hidden, threshold, overlaps)
        if exposed is None:
            break
        if not _hide_one_more(table, lines, hidden, exposed):
            # Everything is hidden and the labels alone pin a count (a tiny table of
            # small counts): publish every hidden entry as "secondary" instead.
            labelled = set()
    return _publish(table, threshold, labelled, hidden)


def _check_threshold(threshold: int) -> None:
    if threshold < 2:
        raise ValueError(f"The disclosure threshold must be at least 2, not {threshold}.")


def _check_overlap(table: CountTable, overlap: Overlap) -> None:
    if overlap.wider.rows != table.rows or overlap.wider.cols != table.cols:
        raise ValueError("An overlapping table must have the same rows and columns.")
    for key in table.all_keys():
        if table.counts[key] > overlap.wider.counts[key]:
            raise ValueError(f"The wider table has fewer at {key} than the table it contains.")


def _is_small(count: int, threshold: int) -> bool:
    # At threshold 2 a hidden non-zero count could only be 1: hide zeros too.
    lowest = 0 if threshold == 2 else 1
    return lowest <= count < threshold


def _cost(table: CountTable, key: Key) -> tuple[bool, bool, int]:
    """Cheapest complement first: non-zero before zero, cells before totals, small first."""
    count = table.counts[key]
    return (count == 0, TOTAL in key, count)


def _complete_lines(table: CountTable, lines: Sequence[Line], hidden: set[Key]) -> None:
    """Until no line has exactly one hidden entry, hide the cheapest other one."""
    changed = True
    while changed:
        changed = False
        for line in lines:
            entries = line.entries()
            if sum(key in hidden for key in entries) != 1:
                continue
            candidates = [key for key in entries if key not in hidden]
            if candidates:
                hidden.add(min(candidates, key=lambda key: _cost(table, key)))
                changed = True


def _hide_one_more(
    table: CountTable, lines: Sequence[Line], hidden: set[Key], exposed: Key
) -> bool:
    """Hide the entry at `exposed` if shown, else the cheapest shown entry beside it.

    False when everything is hidden already.
    """
    if exposed not in hidden:
        hidden.add(exposed)
        return True
    beside = [key for line in lines if exposed in line.entries() for key in line.entries()]
    candidates = [key for key in beside if key not in hidden] or [
        key for key in table.all_keys() if key not in hidden
    ]
    if not candidates:
        return False
    hidden.add(min(candidates, key=lambda key: _cost(table, key)))
    return True


def _publish(
    table: CountTable, threshold: int, primary: set[Key], hidden: set[Key]
) -> ProtectedTable:
    entries: dict[Key, Entry] = {}
    for row, col in table.all_keys():
        key = (row, col)
        count = None if key in hidden else table.counts[key]
        reason: Reason | None = None
        if key in hidden:
            reason = "primary" if key in primary else "secondary"
        denominator_key = (TOTAL, col)
        denominator = table.counts[denominator_key]
        percent: float | None = None
        percent_reason: Reason | None = None
        if key in hidden or denominator_key in hidden:
            percent_reason = "derived"
        elif denominator > 0:
            percent = round(100.0 * table.counts[key] / denominator, 1)
        entries[key] = Entry(row, col, count, percent, reason, percent_reason)
    return ProtectedTable(
        table.rows,
        table.cols,
        threshold,
        entries,
        rows_add_up=table.rows_add_up,
        cols_add_up=table.cols_add_up,
    )


# ----------------------------------------------------------------------------- the audit

# A 1-D table that adds up is audited in closed form (the tests switch it off to compare).
CLOSED_FORM_FOR_ONE_LINE = True


def _first_exposed(
    table: CountTable,
    primary: set[Key],
    labelled: set[Key],
    hidden: set[Key],
    threshold: int,
    overlaps: Sequence[Overlap],
) -> Key | None:
    """The key of a small count the published entries pin down, or None if none is."""
    sensitive_here = sorted(primary)
    differences = [
        [key for key in table.all_keys() if 0 < o.wider.counts[key] - table.counts[key] < threshold]
        for o in overlaps
    ]
    wider_primary = [
        [key for key, e in o.published.entries.items() if e.reason == "primary"] for o in overlaps
    ]
    if not sensitive_here and not any(differences) and not any(wider_primary):
        return None
    if CLOSED_FORM_FOR_ONE_LINE and not table.cols and not overlaps and table.rows_add_up:
        return _first_exposed_in_one_line(table, sensitive_here, labelled, hidden, threshold)
    programme = AttackerProgramme()
    here = programme.variables(table.all_keys())
    shown = {key: (None if key in hidden else table.counts[key]) for key in table.all_keys()}
    programme.add_table(table, here, shown, labelled, threshold)
    wider_indexes: list[dict[Key, int]] = []
    for overlap in overlaps:
        there = programme.variables(table.all_keys())
        wider_indexes.append(there)
        published = overlap.published
        programme.add_table(
            published.shape(),
            there,
            published.published(),
            [key for key, e in published.entries.items() if e.reason == "primary"],
            published.threshold,
        )
        for key in table.all_keys():
            programme.inequalities.append({here[key]: 1.0, there[key]: -1.0})
    for key in sensitive_here:
        if key not in hidden or programme.is_pinned({here[key]: 1.0}, table.counts[key]):
            return key
    for overlap, there, keys in zip(overlaps, wider_indexes, differences, strict=True):
        for key in keys:
            difference = overlap.wider.counts[key] - table.counts[key]
            if programme.is_pinned({there[key]: 1.0, here[key]: -1.0}, difference):
                return key
    for overlap, there, keys in zip(overlaps, wider_indexes, wider_primary, strict=True):
        for key in keys:
            if programme.is_pinned({there[key]: 1.0}, overlap.wider.counts[key]):
                return key
    return None


def _first_exposed_in_one_line(
    table: CountTable,
    sensitive: Sequence[Key],
    labelled: set[Key],
    hidden: set[Key],
    threshold: int,
) -> Key | None:
    """`_first_exposed` for a 1-D table that adds up, with no overlaps, in closed form.

    One equation (members add up to the total) with a box on each entry: an
    entry's feasible values are its box cut by what the others' boxes leave,
    exactly what the linear programme finds, without solving one per count (map
    layers protect hundreds of such lines per request). `test_disclosure` checks
    both give the same answer.
    """
    lowest = 0.0 if threshold == 2 else 1.0
    box: dict[Key, tuple[float, float]] = {}
    for key in table.all_keys():
        if key not in hidden:
            box[key] = (float(table.counts[key]), float(table.counts[key]))
        elif key in labelled:
            box[key] = (lowest, float(threshold - 1))
        else:
            box[key] = (0.0, math.inf)
    total = (TOTAL, TOTAL)
    members = [key for key in table.all_keys() if key != total]
    low_sum = math.fsum(box[key][0] for key in members)
    high_sum = math.fsum(box[key][1] for key in members)
    for key in sensitive:
        if key not in hidden:
            return key
        low, high = box[key]
        if key == total:
            low, high = max(low, low_sum), min(high, high_sum)
        else:
            # x = total - (the other members), each within its box.
            low = max(low, box[total][0] - (high_sum - box[key][1]))
            high = min(high, box[total][1] - (low_sum - box[key][0]))
        if high - low < 0.5:
            return key
    return None
