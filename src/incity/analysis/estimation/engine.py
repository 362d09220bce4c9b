"""Design-based estimates through svy: calibrate the weights, then linearise.

svy (MIT, the maintained successor of samplics) does the statistics: the Taylor
linearised variance with replacement at the PSU level within strata, the finite
population correction, iterative proportional fitting (raking) and
post-stratification, and variances that account for the calibration (residuals
within the calibration cells, as R's `postStratify` and `calibrate`). Here we only
choose the options, read its answer and form the interval on the design's
degrees of freedom.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import polars as pl
import svy
from scipy import stats

from incity.analysis.estimation.fast import FastResult, fast_estimates
from incity.analysis.estimation.prepare import (
    GROUP,
    POP_SIZE,
    PSU,
    STRATUM,
    WEIGHT,
    Prepared,
    RowLabel,
    Y,
    default_row_label,
    margin_column,
    prepare,
)
from incity.analysis.estimation.spec import Adjustment, Design, Target
from incity.errors import InvalidInput

CONFIDENCE = 0.95
# Raking stops when no weight moves by more than this (relative); svy's default 1e-4
# leaves estimates off in the seventh digit, which printed comparisons can see.
RAKE_TOLERANCE = 1e-10
RAKE_MAX_ITERATIONS = 500
VARIANCE_METHOD = "Taylor linearisation, with replacement at the PSU level within strata"
INTERVAL_METHOD = (
    "Wald interval with Student's t on the design degrees of freedom (PSUs minus strata)"
)


@dataclass(frozen=True)
class GroupEstimate:
    """One estimate; `group` is None for the whole sample."""

    group: str | None
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
        }


@dataclass(frozen=True)
class EstimateReport:
    target: Target
    by: str | None
    groups: list[GroupEstimate]
    design: dict[str, Any]


def estimate(
    frame: pl.DataFrame,
    *,
    target: Target,
    design: Design | None = None,
    adjustment: Adjustment | None = None,
    by: str | None = None,
    row_label: RowLabel = default_row_label,
) -> EstimateReport:
    """Estimate `target` from `frame` (one row per respondent) under `design`."""
    design = design or Design()
    adjustment = adjustment or Adjustment.none()
    prepared = prepare(
        frame, target=target, design=design, adjustment=adjustment, by=by, row_label=row_label
    )
    # The vectorised path computes exactly what svy does (tests/analysis/
    # test_estimate_fast.py); svy answers whatever it does not cover, and reports
    # calibration failures in its own words.
    fast = fast_estimates(
        prepared,
        target=target,
        adjustment=adjustment,
        by=by,
        rake_tolerance=RAKE_TOLERANCE,
        rake_max_iterations=RAKE_MAX_ITERATIONS,
    )
    if fast is not None:
        groups = _fast_groups(fast, prepared, by)
        sum_of_weights = fast.sum_of_weights
    else:
        sample = _calibrated(_sample(prepared), adjustment)
        groups = _estimates(sample, prepared, target, by)
        sum_of_weights = float(sample.data[sample.design.wgt].sum())
    return EstimateReport(
        target=target,
        by=by,
        groups=groups,
        design=_describe(design, adjustment, prepared, sum_of_weights),
    )


def _fast_groups(fast: FastResult, prepared: Prepared, by: str | None) -> list[GroupEstimate]:
    counts = prepared.answered_counts()
    quantile = float(stats.t.ppf(0.5 + CONFIDENCE / 2, prepared.degrees_of_freedom))
    return [
        GroupEstimate(
            group=group,
            estimate=value,
            se=se,
            ci_low=value - quantile * se,
            ci_high=value + quantile * se,
            n=counts.get(group, 0),
        )
        for group, value, se in zip(fast.groups, fast.estimates, fast.ses, strict=True)
    ]


def _sample(prepared: Prepared) -> Any:
    return svy.Sample(
        prepared.frame,
        svy.Design(
            wgt=WEIGHT,
            psu=PSU if prepared.has_psu else None,
            stratum=STRATUM if prepared.has_strata else None,
            pop_size=POP_SIZE if prepared.fpc_applied else None,
        ),
    )


def _calibrated(sample: Any, adjustment: Adjustment) -> Any:
    try:
        if adjustment.method == "poststratify":
            margin = adjustment.margins[0]
            return sample.weighting.poststratify(
                controls=dict(margin.totals), cells=margin_column(margin)
            )
        if adjustment.method == "rake":
            controls = {margin_column(m): dict(m.totals) for m in adjustment.margins}
            return sample.weighting.rake(
                controls=controls, tol=RAKE_TOLERANCE, max_iter=RAKE_MAX_ITERATIONS
            )
    except svy.errors.SvyError as error:
        raise InvalidInput("margins", f"{adjustment.method} failed: {_first_line(error)}") from None
    return sample


def _estimates(
    sample: Any, prepared: Prepared, target: Target, by: str | None
) -> list[GroupEstimate]:
    method = sample.estimation.total if target.kind == "total" else sample.estimation.mean
    try:
        result = method(Y, by=GROUP if by is not None else None, drop_nulls=True)
    except svy.errors.SvyError as error:
        raise InvalidInput("data", f"the estimate failed: {_first_line(error)}") from None
    table = result.to_polars()
    counts = _answered_counts(prepared.frame, by)
    quantile = float(stats.t.ppf(0.5 + CONFIDENCE / 2, prepared.degrees_of_freedom))
    estimates = []
    for row in table.iter_rows(named=True):
        group = str(row[GROUP]) if by is not None else None
        value, se = float(row["est"]), float(row["se"])
        estimates.append(
            GroupEstimate(
                group=group,
                estimate=value,
                se=se,
                ci_low=value - quantile * se,
                ci_high=value + quantile * se,
                n=counts.get(group, 0),
            )
        )
    return sorted(estimates, key=lambda e: (e.group is None, e.group or ""))


def _answered_counts(frame: pl.DataFrame, by: str | None) -> dict[str | None, int]:
    answered = frame.filter(pl.col(Y).is_not_null())
    if by is None:
        return {None: answered.height}
    grouped = answered.group_by(GROUP).agg(pl.len().alias("n"))
    return {str(g): int(n) for g, n in grouped.iter_rows()}


def _describe(
    design: Design, adjustment: Adjustment, prepared: Prepared, sum_of_weights: float
) -> dict[str, Any]:
    described: dict[str, Any] = {
        "weight": design.weight,
        "weights_from": prepared.weights_from,
        "psu": design.psu,
        "strata": design.strata,
        "fpc": design.fpc,
        "fpc_applied": prepared.fpc_applied,
        "n_psu": prepared.n_psu,
        "n_strata": prepared.n_strata,
        "df": prepared.degrees_of_freedom,
        "sum_of_weights": sum_of_weights,
        "variance": VARIANCE_METHOD,
        "interval": f"{CONFIDENCE:.0%} {INTERVAL_METHOD}",
        "adjustment": adjustment.method,
        "library": f"svy {version('svy')}",
    }
    if adjustment.method != "none":
        described["margins"] = {m.variable: dict(m.totals) for m in adjustment.margins}
        described["se_reflects_calibration"] = True
    return described


def _first_line(error: Exception) -> str:
    """svy's messages are multi-line and decorated; keep the sentence that explains."""
    lines = [line.strip(" -❌") for line in str(error).splitlines() if line.strip()]
    meaningful = [line for line in lines if "[" not in line and not line.startswith("where:")]
    return (meaningful or lines or [type(error).__name__])[0]
