"""Spatial statistics: local Getis-Ord Gi/Gi*, local and global Moran's I, and their weights.

Computed with NumPy/SciPy sparse matrices; PySAL's esda/libpysal are the reference the tests
compare against (to 1e-9), not a runtime dependency.
"""

from incity.analysis.spatial.cells import hexagon_weights, hotspots_on_cells
from incity.analysis.spatial.getis_ord import local_g
from incity.analysis.spatial.moran import GlobalMoran, global_moran, local_moran
from incity.analysis.spatial.results import LocalResult
from incity.analysis.spatial.weights import SpatialWeights, distance_band, k_nearest, read_gal

__all__ = [
    "GlobalMoran",
    "LocalResult",
    "SpatialWeights",
    "distance_band",
    "global_moran",
    "hexagon_weights",
    "hotspots_on_cells",
    "k_nearest",
    "local_g",
    "local_moran",
    "read_gal",
]
