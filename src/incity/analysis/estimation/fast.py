"""The same estimates as svy, vectorised with NumPy for large tables.

svy answers a proportion by neighbourhood on a million rows in 4 to 26 s, most of
it in per-group bookkeeping. The statistics are small enough to do in a few array
passes, so this module recomputes exactly what svy computes and the engine uses it
whenever it covers the case (`tests/analysis/test_estimate_fast.py` checks it
against svy on many random designs):

* Domain estimation (R's `svyby`): the domain mean is the ratio
  sum(w*y)/sum(w) over the domain's answered rows; its linearised score is
  u_i = I_d(i) * (y_i - mean_d) / W_d, zero outside the domain (total: I_d(i) * y_i).
* Taylor variance with replacement: PSU totals of w*u, centred within their
  stratum, times n_h/(n_h-1) and the finite population correction 1 - n_h/N_h.
  Without PSUs each row is its own.
* Calibration (as svy's variance sweep, which follows R): after
  post-stratification the scores lose their weighted cell means; after raking they
  lose, margin by margin until nothing moves, their unweighted cell means. Both
  only subtract a value per calibration cell, so the sweep runs on the few
  combinations of margin levels instead of on the rows.
* Raked weights come from svy's own raking kernel (`svy_rs`), with the tolerance
  and iteration cap the engine passes to svy, so the weights are the same to the
  last bit; when it does not converge the engine lets svy report the failure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from svy.core._check import margin_totals_check
from svy_rs._internal import rake as svy_rake

from incity.analysis.estimation.prepare import Codes, Floats, Prepared, margin_column
from incity.analysis.estimation.spec import Adjustment, Target

# The raking sweep stops when a pass moves no score by more than this, relative to
# the scores' size: svy's converged sweep agrees with ours to the last digits.
SWEEP_TOLERANCE = 1e-15
SWEEP_MAX_PASSES = 1000


@dataclass(frozen=True)
class FastResult:
    """Per group (sorted labels; one None entry without `by`), estimate and SE."""

    groups: list[str | None]
    estimates: list[float]
    ses: list[float]
    sum_of_weights: float


def fast_estimates(
    prepared: Prepared,
    *,
    target: Target,
    adjustment: Adjustment,
    by: str | None,
    rake_tolerance: float,
    rake_max_iterations: int,
) -> FastResult | None:
    """The estimates, or None where svy must answer (it then reports the problem)."""
    weights = prepared.weights
    cells: Codes | None = None
    if adjustment.method == "poststratify":
        margin = adjustment.margins[0]
        coded = prepared.margins[margin_column(margin)]
        cells, levels = coded.codes, coded.labels
        totals = np.array([margin.totals[level] for level in levels])
        weights = weights * (totals / _bincount(cells, weights, len(levels)))[cells]
    elif adjustment.method == "rake":
        raked = _raked(weights, adjustment, prepared, rake_tolerance, rake_max_iterations)
        if raked is None:
            return None
        weights, cells = raked

    y = prepared.y
    answered = ~np.isnan(y)
    if by is not None and prepared.group is not None:
        group = prepared.group.codes
        names: list[str | None] = list(prepared.group.labels)
    else:
        group, names = np.zeros(len(y), dtype=np.int64), [None]
    n_groups = len(names)
    values = np.where(answered, y, 0.0)
    domain_weights = np.where(answered, weights, 0.0)
    weight_sums = _bincount(group, domain_weights, n_groups)
    value_sums = _bincount(group, domain_weights * values, n_groups)
    if not np.all(weight_sums > 0):
        return None  # a domain with no answers: svy's rules for it apply
    if target.kind == "total":
        estimates = value_sums
        scores = values
    else:
        estimates = value_sums / weight_sums
        scores = np.where(answered, (values - estimates[group]) / weight_sums[group], 0.0)

    unit_totals, unit_stratum = _unit_totals(
        prepared, weights, scores, group, n_groups, cells, adjustment
    )
    variance = _variance(prepared, unit_totals, unit_stratum)
    return FastResult(
        groups=names,
        estimates=[float(v) for v in estimates],
        ses=[float(v) for v in np.sqrt(variance)],
        sum_of_weights=float(weights.sum()),
    )


def _raked(
    weights: Floats,
    adjustment: Adjustment,
    prepared: Prepared,
    tolerance: float,
    max_iterations: int,
) -> tuple[Floats, Codes] | None:
    """svy's raking kernel on svy's inputs; the cells are the margins' level combinations."""
    if not margin_totals_check({m.variable: m.grand_total for m in adjustment.margins}).agree:
        return None
    indices, targets, sizes = [], [], []
    for margin in adjustment.margins:
        coded = prepared.margins[margin_column(margin)]
        indices.append(coded.codes)
        targets.append(np.array([margin.totals[level] for level in coded.labels], dtype=np.float64))
        sizes.append(len(coded.labels))
    raked = svy_rake(
        weights.reshape(-1, 1), indices, targets, None, None, tolerance, max_iterations
    )
    raked = np.asarray(raked, dtype=np.float64)[:, 0]
    for codes, target, size in zip(indices, targets, sizes, strict=True):
        reached = _bincount(codes, raked, size)
        if np.max(np.abs(reached - target) / target) > tolerance:
            return None
    combination = np.zeros(len(weights), dtype=np.int64)
    for codes, size in zip(indices, sizes, strict=True):
        combination = combination * size + codes
    return raked, combination


def _unit_totals(
    prepared: Prepared,
    weights: Floats,
    scores: Floats,
    group: Codes,
    n_groups: int,
    cells: Codes | None,
    adjustment: Adjustment,
) -> tuple[Floats, Codes]:
    """PSU (or row) totals of the calibrated scores, one row per group, and their stratum.

    Groups are rows so that each group's totals lie contiguous: without PSUs there
    is a total per respondent and group, and strided columns cost seconds there.
    """
    stratum = prepared.stratum.codes
    if prepared.units is not None:
        unit = prepared.units
        n_units = int(unit.max()) + 1
        unit_stratum = np.zeros(n_units, dtype=np.int64)
        unit_stratum[unit] = stratum
    else:
        unit, n_units, unit_stratum = np.arange(len(weights)), len(weights), stratum
    weighted = weights * scores
    totals = _bincount(group * n_units + unit, weighted, n_units * n_groups).reshape(
        n_groups, n_units
    )
    if cells is None:
        return totals, unit_stratum
    shift = _calibration_shift(adjustment, weights, scores, weighted, group, n_groups, cells)
    # Each row's score loses w_i * shift[cell_i, :]; summed over a unit that is the
    # unit's weight in each cell times the cell's shift.
    if prepared.units is not None:
        n_cells = shift.shape[0]
        unit_cell_weights = _bincount(unit * n_cells + cells, weights, n_units * n_cells)
        totals -= (unit_cell_weights.reshape(n_units, n_cells) @ shift).T
    else:
        totals -= shift[cells].T * weights[None, :]
    return totals, unit_stratum


def _calibration_shift(
    adjustment: Adjustment,
    weights: Floats,
    scores: Floats,
    weighted: Floats,
    group: Codes,
    n_groups: int,
    cells: Codes,
) -> Floats:
    """What each calibration cell takes off the scores (u-scale), per group."""
    n_cells = int(cells.max()) + 1
    by_cell = _bincount(cells * n_groups + group, weighted, n_cells * n_groups).reshape(
        n_cells, n_groups
    )
    if adjustment.method == "poststratify":
        # The score's weighted mean in its post-stratum (R's postStratify).
        return by_cell / _bincount(cells, weights, n_cells)[:, None]
    # Raking: sweep each margin's unweighted cell means of u until none is left.
    score_sums = _bincount(cells * n_groups + group, scores, n_cells * n_groups).reshape(
        n_cells, n_groups
    )
    rows = _bincount(cells, minlength=n_cells).astype(np.float64)
    sizes = [len(m.totals) for m in adjustment.margins]
    margin_of_cell = _margin_levels(n_cells, sizes)
    shift = np.zeros((n_cells, n_groups))
    scale = float(np.max(np.abs(score_sums))) or 1.0
    for _ in range(SWEEP_MAX_PASSES):
        largest = 0.0
        for levels, size in zip(margin_of_cell, sizes, strict=True):
            remaining = score_sums - rows[:, None] * shift
            sums = _sum_by(levels, remaining, size)
            counts = _bincount(levels, rows, size)
            means = np.divide(
                sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0
            )
            shift += means[levels]
            largest = max(largest, float(np.max(np.abs(means))) if means.size else 0.0)
        if largest <= SWEEP_TOLERANCE * scale:
            break
    return shift


def _margin_levels(n_cells: int, sizes: list[int]) -> list[Codes]:
    """For each margin, the level of every cell code (cells number the combinations)."""
    combination = np.arange(n_cells, dtype=np.int64)
    levels: list[Codes] = []
    for size in reversed(sizes):
        levels.append(combination % size)
        combination = combination // size
    return list(reversed(levels))


def _variance(prepared: Prepared, totals: Floats, unit_stratum: Codes) -> Floats:
    """With-replacement variance of the unit totals (one row per group) within strata,
    with the FPC."""
    n_strata = int(unit_stratum.max()) + 1
    units = _bincount(unit_stratum, minlength=n_strata).astype(np.float64)
    n_groups = totals.shape[0]
    squares = np.zeros((n_strata, n_groups))
    # One group at a time: without PSUs a unit is a row, and a million-by-groups
    # temporary per step would cost more than the arithmetic.
    for j in range(n_groups):
        means = _bincount(unit_stratum, totals[j], n_strata) / units
        centred = totals[j] - (means[0] if n_strata == 1 else means[unit_stratum])
        squares[:, j] = _bincount(unit_stratum, centred * centred, n_strata)
    factor = np.where(units > 1, units / np.maximum(units - 1, 1), 0.0)
    if prepared.population is not None:
        population = np.zeros(n_strata)
        population[prepared.stratum.codes] = prepared.population
        factor = factor * (1 - units / population)
    result: Floats = (factor[:, None] * squares).sum(axis=0)
    return result


def _sum_by(codes: Codes, matrix: Floats, n_codes: int) -> Floats:
    """Column sums of `matrix` within each code (a loop over the few columns only)."""
    columns = matrix.T
    return np.stack(
        [_bincount(codes, columns[j], n_codes) for j in range(matrix.shape[1])], axis=1
    ).reshape(n_codes, matrix.shape[1])


def _bincount(codes: Codes, weights: Floats | None = None, minlength: int = 0) -> Floats:
    """np.bincount as floats (its stubs type a weighted count as integers)."""
    counted: Floats = np.bincount(codes, weights, minlength).astype(np.float64, copy=False)
    return counted
