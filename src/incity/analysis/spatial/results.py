"""What the local statistics return: one value per observation, in the weights' order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]

# The smallest number of observations each statistic is defined for: Gi leaves the site out
# (n - 1 others, variance divides by n - 2); local Moran's variance divides by n - 2; the
# global Moran's randomisation variance by (n - 1)(n - 2)(n - 3).
MINIMUM_OBSERVATIONS = {"Gi": 3, "Gi*": 3, "local Moran's I": 3, "Moran's I": 4}
MINIMUM_PERMUTATIONS_FOR_MORAN = 99


@dataclass(frozen=True)
class LocalResult:
    statistic: str  # "Gi*", "Gi" or "local Moran's I"
    transform: str
    ids: tuple[str, ...]
    values: Floats
    local: Floats  # G_i or I_i
    expected: Floats  # analytic expectation under the null
    variance: Floats  # analytic variance under the null
    z: Floats  # analytic z (Gi); for local Moran's I from the total-randomisation moments
    p: Floats  # one-sided normal p in the direction of z, as esda's p_norm
    p_sim: Floats | None
    z_sim: Floats | None
    labels: tuple[str, ...]  # hot / cold (Gi), high-high ... (Moran), "" if not significant
    fdr_threshold: float  # two-sided p below this is significant (Benjamini-Hochberg)
    alpha: float
    permutations: int
    seed: int | None
