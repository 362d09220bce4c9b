"""The disclosure audit's linear programme: what a reader can work out from the tables.

Kept apart from `disclosure.py` (which decides what to hide) because it is the
numerical part: the variables are every entry of every published table, their
bounds what was shown (or the box a suppressed entry lies in), and the rows the
lines that add up. HiGHS (through `highspy`) solves it; one model per audit is
re-solved from its last basis as only the objective changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import highspy
import numpy as np
from scipy.sparse import csr_matrix

if TYPE_CHECKING:
    from incity.analysis.disclosure import CountTable, Key


@dataclass
class AttackerProgramme:
    """The attacker's knowledge as a linear programme over every entry of every table."""

    size: int = 0
    bounds: list[tuple[float, float | None]] = field(default_factory=list)
    equalities: list[dict[int, float]] = field(default_factory=list)
    inequalities: list[dict[int, float]] = field(default_factory=list)  # row . x <= 0
    # Built on the first solve, once every table is added.
    _highs: highspy.Highs | None = None

    def variables(self, keys: Iterable[Key]) -> dict[Key, int]:
        index: dict[Key, int] = {}
        for key in keys:
            index[key] = self.size
            self.size += 1
            self.bounds.append((0.0, None))
        return index

    def add_table(
        self,
        shape: CountTable,
        index: Mapping[Key, int],
        shown: Mapping[Key, int | None],
        primary: Iterable[Key],
        threshold: int,
    ) -> None:
        lowest = 0.0 if threshold == 2 else 1.0
        for key in primary:
            self.bounds[index[key]] = (lowest, float(threshold - 1))
        for key, value in shown.items():
            if value is not None:
                self.bounds[index[key]] = (float(value), float(value))
        for line in shape.lines():
            if line.adds_up:
                equation = {index[key]: 1.0 for key in line.members}
                equation[index[line.total]] = -1.0
                self.equalities.append(equation)
            else:
                # People counted in several members: each member is at most the total,
                # and the members together at least the total.
                for key in line.members:
                    self.inequalities.append({index[key]: 1.0, index[line.total]: -1.0})
                if line.members:
                    at_least = {index[key]: -1.0 for key in line.members}
                    at_least[index[line.total]] = 1.0
                    self.inequalities.append(at_least)

    def is_pinned(self, objective: Mapping[int, float], truth: int) -> bool:
        """True when the objective can take one value only (`truth`, which is feasible).

        The constraint matrices are totally unimodular (rows and columns adding up),
        so the bounds are whole numbers and an interval of width < 0.5 is one value.
        """
        c = np.zeros(self.size)
        for position, weight in objective.items():
            c[position] = weight
        low = self._solve(c)
        if low is None or low < truth - 0.5:
            return False
        high = self._solve(-c)
        return high is not None and -high < truth + 0.5

    def _solve(self, c: np.ndarray[Any, Any]) -> float | None:
        """The least value of c . x: None when it is unbounded below.

        One HiGHS model a programme; only the objective changes between solves, so
        each solve starts from the last basis (a few pivots), where a fresh
        `scipy.optimize.linprog` call rebuilt and presolved the model every time.
        """
        if self._highs is None:
            self._highs = self._model()
        highs = self._highs
        highs.changeColsCost(self.size, np.arange(self.size, dtype=np.int32), c)
        highs.run()
        status = highs.getModelStatus()
        if status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"disclosure audit failed: {highs.modelStatusToString(status)}")
        return float(highs.getInfo().objective_function_value)

    def _model(self) -> highspy.Highs:
        """Equalities (= 0) and inequalities (<= 0) as one row-wise matrix, with the bounds."""
        rows = [*self.equalities, *self.inequalities]
        matrix = _matrix(rows, self.size)
        model = highspy.HighsLp()
        model.num_col_ = self.size
        model.num_row_ = len(rows)
        model.col_cost_ = np.zeros(self.size)
        model.col_lower_ = np.array([low for low, _ in self.bounds], dtype=float)
        model.col_upper_ = np.array(
            [highspy.kHighsInf if high is None else high for _, high in self.bounds], dtype=float
        )
        model.row_lower_ = np.array(
            [0.0] * len(self.equalities) + [-highspy.kHighsInf] * len(self.inequalities)
        )
        model.row_upper_ = np.zeros(len(rows))
        model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        if matrix is None:  # bounds only
            model.a_matrix_.start_ = np.zeros(1, dtype=np.int32)
        else:
            model.a_matrix_.start_ = matrix.indptr.astype(np.int32)
            model.a_matrix_.index_ = matrix.indices.astype(np.int32)
            model.a_matrix_.value_ = matrix.data.astype(float)
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.passModel(model)
        return highs


def _matrix(rows: Sequence[Mapping[int, float]], size: int) -> csr_matrix | None:
    if not rows:
        return None
    data: list[float] = []
    row_numbers: list[int] = []
    columns: list[int] = []
    for number, row in enumerate(rows):
        for position, weight in row.items():
            data.append(weight)
            row_numbers.append(number)
            columns.append(position)
    return csr_matrix((data, (row_numbers, columns)), shape=(len(rows), size))
