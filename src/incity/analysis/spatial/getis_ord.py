"""Local Getis-Ord G (Gi) and G* (Gi*, the site counts itself), as in Getis & Ord (1992),
Ord & Getis (1995); the moments are those of PySAL esda's G_Local, so z-scores match it."""

from __future__ import annotations

import numpy as np

from incity.analysis.spatial.inference import (
    Floats,
    RandomStatistic,
    conditional_permutation,
    normal_p,
    significant,
    weighted_lag,
)
from incity.analysis.spatial.results import MINIMUM_OBSERVATIONS, LocalResult
from incity.analysis.spatial.weights import SpatialWeights, Transform
from incity.errors import InvalidInput


def local_g(
    weights: SpatialWeights,
    values: Floats,
    *,
    star: bool,
    transform: Transform = "B",
    permutations: int = 0,
    seed: int | None = None,
    alpha: float = 0.05,
) -> LocalResult:
    name = "Gi*" if star else "Gi"
    y = np.asarray(values, dtype=np.float64)
    check_g_values(y, name)
    matrix = weights.transformed(transform, self_weight=star)
    leave_out = 0.0 if star else 1.0
    others = y.sum() - y * leave_out  # the sum G divides by: all values, or all but the site's
    n_others = weights.n - leave_out
    local = (matrix @ y) / others
    mean = others / n_others
    variance_of_values = ((y**2).sum() - (y**2) * leave_out) / n_others - mean**2
    weight_sums = np.asarray(matrix.sum(axis=1)).ravel()
    expected = weight_sums / n_others
    variance = weight_sums * (n_others - weight_sums) / (n_others - 1) / n_others**2
    variance = variance * variance_of_values / mean**2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (local - expected) / np.sqrt(variance)
    p_sim = z_sim = None
    if permutations:
        total = float(y.sum())
        result = conditional_permutation(
            y,
            matrix,
            local,
            permutations=permutations,
            seed=_seed(seed),
            statistic=(_g_star_random if star else _g_random)(total),
        )
        p_sim, z_sim = result.p_sim, result.z_sim
    hot_or_cold, threshold = significant(normal_p(z), alpha)
    labels = tuple(
        ("hot" if zi > 0 else "cold") if flag else ""
        for zi, flag in zip(z, hot_or_cold, strict=True)
    )
    return LocalResult(
        statistic=name,
        transform=transform,
        ids=weights.ids,
        values=y,
        local=local,
        expected=expected,
        variance=variance,
        z=z,
        p=normal_p(z),
        p_sim=p_sim,
        z_sim=z_sim,
        labels=labels,
        fdr_threshold=threshold,
        alpha=alpha,
        permutations=permutations,
        seed=_seed(seed) if permutations else None,
    )


def check_g_values(y: Floats, name: str) -> None:
    if len(y) < MINIMUM_OBSERVATIONS[name]:
        raise InvalidInput(
            "value",
            f"{name} needs at least {MINIMUM_OBSERVATIONS[name]} observations; got {len(y)}.",
        )
    if (y < 0).any():
        raise InvalidInput(
            "value",
            f"{name} needs non-negative values (counts, rates); the value column has "
            f"{int((y < 0).sum())} negative value(s), e.g. {y[y < 0][0]:g}.",
        )
    if np.ptp(y) == 0:
        raise InvalidInput("value", f"every value is {y[0]:g}; {name} needs values that vary.")


def _seed(seed: int | None) -> int:
    # One documented default, so repeated runs give the same pseudo p-values.
    return 12345 if seed is None else seed


def _g_random(total: float) -> RandomStatistic:
    def statistic(site: Floats, drawn: Floats, weights: Floats, self_weights: Floats) -> Floats:
        return weighted_lag(drawn, weights) / (total - site)[:, None]

    return statistic


def _g_star_random(total: float) -> RandomStatistic:
    def statistic(site: Floats, drawn: Floats, weights: Floats, self_weights: Floats) -> Floats:
        return (weighted_lag(drawn, weights) + (self_weights * site)[:, None]) / total

    return statistic
