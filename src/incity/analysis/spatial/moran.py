"""Moran's I: local (Anselin 1995) with conditional permutation inference, and global with
its moments under normality and randomisation (Cliff & Ord). Formulas as PySAL esda's
Moran_Local and Moran, so the figures match it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from incity.analysis.spatial.inference import (
    Floats,
    RandomStatistic,
    conditional_permutation,
    normal_p,
    significant,
    weighted_lag,
)
from incity.analysis.spatial.results import (
    MINIMUM_OBSERVATIONS,
    MINIMUM_PERMUTATIONS_FOR_MORAN,
    LocalResult,
)
from incity.analysis.spatial.weights import SpatialWeights, Transform
from incity.errors import InvalidInput

DEFAULT_SEED = 12345
QUADRANTS = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}
# Global permutations are evaluated this many at a time (n x chunk values in memory).
_GLOBAL_CHUNK = 64


@dataclass(frozen=True)
class GlobalMoran:
    n: int
    transform: str
    I: float  # noqa: E741 -- the statistic's name
    EI: float
    VI_norm: float
    z_norm: float
    p_norm: float  # two-sided
    VI_rand: float
    z_rand: float
    p_rand: float  # two-sided
    permutations: int
    seed: int | None
    p_sim: float | None
    EI_sim: float | None
    VI_sim: float | None
    z_sim: float | None
    p_z_sim: float | None  # one-sided in the direction of z_sim, as esda


def local_moran(
    weights: SpatialWeights,
    values: Floats,
    *,
    transform: Transform = "R",
    permutations: int = 999,
    seed: int | None = None,
    alpha: float = 0.05,
) -> LocalResult:
    y = np.asarray(values, dtype=np.float64)
    _check_values(y, "local Moran's I")
    if permutations < MINIMUM_PERMUTATIONS_FOR_MORAN:
        raise InvalidInput(
            "permutations",
            f"local Moran's I is tested by permutation; give --permutations "
            f"{MINIMUM_PERMUTATIONS_FOR_MORAN} or more (999 is usual), not {permutations}.",
        )
    n = weights.n
    z = (y - y.mean()) / y.std()
    matrix = weights.transformed(transform, self_weight=False)
    lag = matrix @ z
    local = (n - 1) * z * lag / (z * z).sum()
    expected, variance = _local_moments(matrix, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_local = (local - expected) / np.sqrt(variance)
    used_seed = DEFAULT_SEED if seed is None else seed
    simulated = conditional_permutation(
        z,
        matrix,
        local,
        permutations=permutations,
        seed=used_seed,
        statistic=_moran_random((n - 1) / (z * z).sum()),
    )
    flags, threshold = significant(simulated.p_sim, alpha)
    quadrant = np.where(z > 0, np.where(lag > 0, 1, 4), np.where(lag > 0, 2, 3))
    labels = tuple(
        QUADRANTS[int(q)] if flag else "" for q, flag in zip(quadrant, flags, strict=True)
    )
    return LocalResult(
        statistic="local Moran's I",
        transform=transform,
        ids=weights.ids,
        values=y,
        local=local,
        expected=expected,
        variance=variance,
        z=z_local,
        p=normal_p(z_local),
        p_sim=simulated.p_sim,
        z_sim=simulated.z_sim,
        labels=labels,
        fdr_threshold=threshold,
        alpha=alpha,
        permutations=permutations,
        seed=used_seed,
    )


def global_moran(
    weights: SpatialWeights,
    values: Floats,
    *,
    transform: Transform = "R",
    permutations: int = 999,
    seed: int | None = None,
) -> GlobalMoran:
    y = np.asarray(values, dtype=np.float64)
    _check_values(y, "Moran's I")
    n = weights.n
    matrix = weights.transformed(transform, self_weight=False)
    z = y - y.mean()
    squares = float((z * z).sum())
    s0 = float(matrix.sum())
    symmetric = matrix + matrix.T
    s1 = float(symmetric.multiply(symmetric).sum()) / 2.0
    s2 = float(
        (
            (np.asarray(matrix.sum(axis=1)).ravel() + np.asarray(matrix.sum(axis=0)).ravel()) ** 2
        ).sum()
    )
    statistic = n / s0 * float((z * (matrix @ z)).sum()) / squares
    expected = -1.0 / (n - 1)
    variance_norm = (n * n * s1 - n * s2 + 3 * s0 * s0) / (
        (n - 1) * (n + 1) * s0 * s0
    ) - expected**2
    kurtosis = ((z**4).sum() / n) / ((z**2).sum() / n) ** 2
    a = n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0)
    b = kurtosis * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
    variance_rand = (a - b) / ((n - 1) * (n - 2) * (n - 3) * s0 * s0) - expected**2
    z_norm = (statistic - expected) / variance_norm**0.5
    z_rand = (statistic - expected) / variance_rand**0.5
    sim = _global_simulations(matrix, z, s0, squares, permutations, seed)
    return GlobalMoran(
        n=n,
        transform=transform,
        I=statistic,
        EI=expected,
        VI_norm=float(variance_norm),
        z_norm=float(z_norm),
        p_norm=_two_sided(z_norm),
        VI_rand=float(variance_rand),
        z_rand=float(z_rand),
        p_rand=_two_sided(z_rand),
        permutations=permutations,
        seed=(DEFAULT_SEED if seed is None else seed) if permutations else None,
        **_simulation_summary(sim, statistic, permutations),
    )


def _check_values(y: Floats, name: str) -> None:
    if len(y) < MINIMUM_OBSERVATIONS[name]:
        raise InvalidInput(
            "value",
            f"{name} needs at least {MINIMUM_OBSERVATIONS[name]} observations; got {len(y)}.",
        )
    if np.ptp(y) == 0:
        raise InvalidInput("value", f"every value is {y[0]:g}; {name} needs values that vary.")


def _local_moments(matrix: Any, z: Floats) -> tuple[Floats, Floats]:
    """Expectation and variance under total randomisation (Sokal et al. 1998, A3 and A4*)."""
    n = len(z)
    m2 = (z * z).sum() / n
    row_sums = np.asarray(matrix.sum(axis=1)).ravel()
    row_squares = np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()
    b2 = ((z**4).sum() / n) / m2**2
    expected = -row_sums / (n - 1)
    variance = row_squares * (n - b2) / (n - 1)
    variance = variance + (row_sums**2 - row_squares) * (2 * b2 - n) / ((n - 1) * (n - 2))
    variance = variance - expected**2
    return expected, variance


def _moran_random(scaling: float) -> RandomStatistic:
    def statistic(site: Floats, drawn: Floats, weights: Floats, self_weights: Floats) -> Floats:
        lag = weighted_lag(drawn, weights) + (self_weights * site)[:, None]
        return site[:, None] * lag * scaling

    return statistic


def _global_simulations(
    matrix: Any, z: Floats, s0: float, squares: float, permutations: int, seed: int | None
) -> Floats:
    if not permutations:
        return np.empty(0)
    state = np.random.RandomState(DEFAULT_SEED if seed is None else seed)  # esda's stream
    simulations = np.empty(permutations)
    n = len(z)
    for start in range(0, permutations, _GLOBAL_CHUNK):
        count = min(_GLOBAL_CHUNK, permutations - start)
        shuffled = np.column_stack([state.permutation(z) for _ in range(count)])
        lags = matrix @ shuffled
        simulations[start : start + count] = n / s0 * (shuffled * lags).sum(axis=0) / squares
    return simulations


def _simulation_summary(
    sim: Floats, statistic: float, permutations: int
) -> dict[str, float | None]:
    if not permutations:
        return {"p_sim": None, "EI_sim": None, "VI_sim": None, "z_sim": None, "p_z_sim": None}
    larger = int((sim >= statistic).sum())
    larger = min(larger, permutations - larger)
    spread = float(sim.std())
    expected = float(sim.sum() / permutations)
    z_sim = (statistic - expected) / spread
    return {
        "p_sim": (larger + 1.0) / (permutations + 1.0),
        "EI_sim": expected,
        "VI_sim": spread * spread,
        "z_sim": z_sim,
        "p_z_sim": float(stats.norm.sf(abs(z_sim))),
    }


def _two_sided(z: float) -> float:
    return float(2.0 * stats.norm.sf(abs(z)))
