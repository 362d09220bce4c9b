"""The disclosure gate for the units of a filtered layer: no differencing with wider ones.

A layer filtered by time of day, date window or respondent group (migration background,
gender, ...) counts a subset of the marks of the same layer without that filter. Shown
side by side, the two would give the count of everyone the filter left out: unfiltered
21 and filtered 12 in one cell say that 9 marks there came from the other group. So each
unit of a filtered layer goes through `protect_table` with the wider units as overlaps
(as `analysis.tables` does for cross-tables), and the gate hides more in the filtered
unit until no small difference (1 to threshold - 1) can be worked out.

- A cell published on its own, and an area, is the same unit in every wider layer: its
  wider table is what that layer publishes for it, protected by the same rule
  (one filter dropped at a time, recursively), so both answers stay consistent.
- A filtered layer merges no small cells: a merged area is cut from the cells that are
  small in that layer, so it differs from the wider layer's merged area, and the two
  could be subtracted in ways no one table shows. Small cells of a filtered layer stay
  hidden.

Unfiltered layers are protected as before, unit by unit, without overlaps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from incity.analysis.disclosure import (
    TOTAL,
    CountTable,
    Overlap,
    ProtectedTable,
    count_table,
    protect_table,
)
from incity.maps.layers.hexagons import ProtectedUnit, protect_counts

Counts = Mapping[str, Mapping[str, int]]  # unit key (cell, area) -> category -> count
CountsFor = Callable[[frozenset[int]], Counts]  # the exact counts with these filters on


class LayerGate:
    """Protects the units of a layer whose request has `dimensions` filters."""

    def __init__(
        self,
        counts_for: CountsFor,
        dimensions: int,
        categories: tuple[str, ...],
        threshold: int,
    ) -> None:
        self._counts_for = counts_for
        self._counts: dict[frozenset[int], Counts] = {}
        self.full = frozenset(range(dimensions))
        self.categories = categories
        self.threshold = threshold
        self._done: dict[tuple[str, frozenset[int]], ProtectedTable] = {}

    def counts(self, active: frozenset[int]) -> Counts:
        if active not in self._counts:
            self._counts[active] = self._counts_for(active)
        return self._counts[active]

    def fixed(self, key: str) -> ProtectedUnit:
        """A unit every wider layer shows the same way: a cell on its own, or an area."""
        if not self.full:
            return protect_counts(dict(self.counts(self.full).get(key, {})), *self._rule())
        return _as_unit(self._fixed(key, self.full), self.categories)

    def unit(self, counts: Mapping[str, int]) -> ProtectedUnit:
        """A unit of an unfiltered layer that no wider layer shows (a merged one)."""
        if self.full:
            raise ValueError("A filtered layer has only units the wider layers show too.")
        return protect_counts(dict(counts), *self._rule())

    def _fixed(self, key: str, active: frozenset[int]) -> ProtectedTable:
        """What the layer with the filters in `active` publishes for the unit `key`."""
        if (key, active) not in self._done:
            table = self._table(self.counts(active).get(key, {}))
            overlaps: list[Overlap] = []
            # A unit hidden for its own small total needs no wider look: nothing shows.
            if table.counts[(TOTAL, TOTAL)] >= self.threshold:
                overlaps = [
                    Overlap(
                        self._table(self.counts(active - {i}).get(key, {})),
                        self._fixed(key, active - {i}),
                    )
                    for i in sorted(active)
                ]
            self._done[(key, active)] = protect_table(
                table, threshold=self.threshold, overlaps=overlaps
            )
        return self._done[(key, active)]

    def _table(self, counts: Mapping[str, int]) -> CountTable:
        return count_table(
            {name: counts.get(name, 0) for name in self.categories}, rows=self.categories
        )

    def _rule(self) -> tuple[tuple[str, ...], int]:
        return self.categories, self.threshold


def _as_unit(protected: ProtectedTable, categories: tuple[str, ...]) -> ProtectedUnit:
    total = protected.entry(TOTAL)
    return ProtectedUnit(
        total.count,
        total.reason,
        {name: protected.entry(name).count for name in categories},
        {
            name: str(protected.entry(name).reason)
            for name in categories
            if protected.entry(name).reason is not None
        },
    )
