"""Significance for local statistics: conditional permutations, normal p-values, FDR.

The permutation scheme is PySAL esda's `crand` (without numba): one table of
`permutations x max-cardinality` draws without replacement from the n-1 other sites,
seeded through NumPy's legacy generator, shared by every site; site i reads its first
k_i columns, skipping itself. With the same seed the pseudo p-values equal esda's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

# Observations x permutations x neighbours held at once while permuting (about 32 MB).
_CHUNK_ELEMENTS = 4_000_000

Floats = NDArray[np.float64]
# (the sites' own values (m,), permuted neighbour values (m, p, k), their weights (m, k),
#  the sites' self-weights (m,)) -> simulated statistics (m, p)
RandomStatistic = Callable[[Floats, Floats, Floats, Floats], Floats]


@dataclass(frozen=True)
class PermutationResult:
    p_sim: Floats  # pseudo p-value, (larger + 1) / (permutations + 1), folded to the nearer tail
    z_sim: Floats  # (observed - mean of simulations) / their standard deviation
    expected_sim: Floats


def normal_p(z: Floats) -> Floats:
    """One-sided p-value in the direction of z (esda's p_norm); double it for two-sided."""
    return np.asarray(stats.norm.sf(np.abs(z)), dtype=np.float64)


def permuted_ids(
    sites: int, max_cardinality: int, permutations: int, seed: int
) -> NDArray[np.int64]:
    state = np.random.RandomState(seed)  # legacy generator: the stream esda's crand draws
    table = np.empty((permutations, max_cardinality), dtype=np.int64)
    for row in range(permutations):
        table[row] = state.choice(sites - 1, size=max_cardinality, replace=False)
    return table


def conditional_permutation(
    values: Floats,
    matrix: Any,
    observed: Floats,
    *,
    permutations: int,
    seed: int,
    statistic: RandomStatistic,
) -> PermutationResult:
    """Hold each site's value, shuffle the others over its neighbours `permutations` times."""
    n = len(values)
    self_weights = np.asarray(matrix.diagonal(), dtype=np.float64)
    others = matrix.tolil()
    others.setdiag(0)
    others = others.tocsr()
    others.eliminate_zeros()
    cardinalities = np.diff(others.indptr)
    table = permuted_ids(n, int(cardinalities.max()), permutations, seed)
    p_sim = np.empty(n)
    z_sim = np.empty(n)
    expected = np.empty(n)
    for k in np.unique(cardinalities):
        sites_k = np.flatnonzero(cardinalities == k)
        step = max(1, _CHUNK_ELEMENTS // (permutations * max(int(k), 1)))
        draws = table[:, :k][None, :, :]
        for start in range(0, len(sites_k), step):
            sites = sites_k[start : start + step]
            # Site i never draws itself: draw j stands for j, or j + 1 from i onwards.
            shifted = draws + (draws >= sites[:, None, None])
            weights = others.data[others.indptr[sites][:, None] + np.arange(k)]
            simulated = statistic(values[sites], values[shifted], weights, self_weights[sites])
            larger = (simulated >= observed[sites, None]).sum(axis=1)
            larger = np.minimum(larger, permutations - larger)
            p_sim[sites] = (larger + 1.0) / (permutations + 1.0)
            expected[sites] = simulated.mean(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                z_sim[sites] = (observed[sites] - expected[sites]) / simulated.std(axis=1)
    return PermutationResult(p_sim=p_sim, z_sim=z_sim, expected_sim=expected)


def weighted_lag(drawn: Floats, weights: Floats) -> Floats:
    """Sum of permuted neighbour values times their weights, per site and permutation."""
    return np.asarray(np.matmul(drawn, weights[:, :, None])[:, :, 0], dtype=np.float64)


def fdr_threshold(p_values: Floats, alpha: float) -> float:
    """Benjamini-Hochberg cut-off as esda's `fdr`: significant where p < threshold.

    When no p-value passes, esda returns alpha / n, which no p-value is below either.
    """
    n = len(p_values)
    descending = np.sort(p_values)[::-1]
    bounds = np.arange(n, 0, -1) * alpha / n
    passing = np.flatnonzero(descending < bounds)
    return float(bounds[passing[0]]) if len(passing) else alpha / n


def significant(p_one_sided: Floats, alpha: float) -> tuple[NDArray[np.bool_], float]:
    """Two-sided (twice the one-sided p, at most 1) Benjamini-Hochberg significance at alpha."""
    two_sided = np.minimum(1.0, 2.0 * p_one_sided)
    threshold = fdr_threshold(two_sided, alpha)
    return two_sided < threshold, threshold
