"""Weighted estimates with uncertainty: the engine behind `incity stats estimate` and the API."""

from incity.analysis.estimation.engine import EstimateReport, GroupEstimate, estimate
from incity.analysis.estimation.spec import (
    Adjustment,
    Design,
    Margin,
    Target,
    parse_margin,
    parse_proportion,
)

__all__ = [
    "Adjustment",
    "Design",
    "EstimateReport",
    "GroupEstimate",
    "Margin",
    "Target",
    "estimate",
    "parse_margin",
    "parse_proportion",
]
