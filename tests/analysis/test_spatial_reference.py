"""incity's spatial statistics against PySAL (esda, libpysal) on the same data and weights.

Synthetic seeded point sets with distance bands and nearest neighbours, lon/lat points
projected to metres, H3 hexagon counts, and published datasets bundled with libpysal
(Columbus crime, St Louis homicides, de Smith's example) read with their GAL files.
Analytic figures must agree to 1e-9; permutation figures exactly, with the same seed.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import esda
import h3
import libpysal
import numpy as np
import pytest
from pyproj import Geod

from incity.analysis.spatial import (
    distance_band,
    global_moran,
    hexagon_weights,
    hotspots_on_cells,
    k_nearest,
    local_g,
    local_moran,
    read_gal,
)
from incity.analysis.spatial.inference import fdr_threshold
from incity.analysis.spatial.points import project_lonlat
from incity.analysis.spatial.weights import SpatialWeights

TOLERANCE = 1e-9
# esda draws its permutations with NumPy's legacy generator only when numba is absent;
# with numba the stream differs and only the analytic figures can be compared.
SAME_PERMUTATION_STREAM = importlib.util.find_spec("numba") is None
needs_same_stream = pytest.mark.skipif(
    not SAME_PERMUTATION_STREAM, reason="numba installed: esda draws another random stream"
)

pytestmark = pytest.mark.filterwarnings("ignore")


def _points(seed: int, n: int = 250) -> tuple[np.ndarray, np.ndarray]:
    """Points on a 100 x 100 square with a high-valued cluster, values like counts."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 100, (n, 2))
    values = rng.gamma(2.0, 3.0, n) + 6.0 * (np.hypot(*(points - 30).T) < 20)
    return points, values


def _ids(n: int) -> list[str]:
    return [str(i + 1) for i in range(n)]


def _same_weights(ours: SpatialWeights, theirs: libpysal.weights.W) -> None:
    theirs_dense = theirs.full()[0]
    assert np.array_equal(ours.matrix.toarray(), theirs_dense)


SYNTHETIC = [
    pytest.param(seed, kind, id=f"seed{seed}-{kind}")
    for seed in (1, 2, 3)
    for kind in ("band", "knn")
]


def _synthetic(seed: int, kind: str) -> tuple[SpatialWeights, libpysal.weights.W, np.ndarray]:
    points, values = _points(seed)
    if kind == "band":
        ours = distance_band(_ids(len(points)), points, 14.0)
        theirs = libpysal.weights.DistanceBand(points, threshold=14.0, silence_warnings=True)
    else:
        ours = k_nearest(_ids(len(points)), points, 5)
        theirs = libpysal.weights.KNN(points, k=5)
    return ours, theirs, values


@pytest.mark.parametrize(("seed", "kind"), SYNTHETIC)
def test_weights_equal_libpysal_distance_band_and_knn(seed: int, kind: str) -> None:
    ours, theirs, _ = _synthetic(seed, kind)
    _same_weights(ours, theirs)


@pytest.mark.parametrize(("seed", "kind"), SYNTHETIC)
@pytest.mark.parametrize("star", [True, False], ids=["star", "nostar"])
@pytest.mark.parametrize("transform", ["B", "R"])
def test_getis_ord_z_scores_equal_esda_g_local(
    seed: int, kind: str, star: bool, transform: str
) -> None:
    ours, theirs, values = _synthetic(seed, kind)
    result = local_g(ours, values, star=star, transform=transform)  # type: ignore[arg-type]
    reference = esda.G_Local(values, theirs, transform=transform, star=star, permutations=0)
    assert np.abs(result.local - reference.Gs).max() < TOLERANCE
    assert np.abs(result.expected - reference.EGs).max() < TOLERANCE
    assert np.abs(result.variance - reference.VGs).max() < TOLERANCE
    assert np.abs(result.z - reference.Zs).max() < TOLERANCE
    assert np.abs(result.p - reference.p_norm).max() < TOLERANCE


@needs_same_stream
@pytest.mark.parametrize("star", [True, False], ids=["star", "nostar"])
@pytest.mark.parametrize("transform", ["B", "R"])
def test_getis_ord_permutations_equal_esda_with_the_same_seed(star: bool, transform: str) -> None:
    ours, theirs, values = _synthetic(4, "band")
    result = local_g(ours, values, star=star, transform=transform, permutations=199, seed=99)  # type: ignore[arg-type]
    reference = esda.G_Local(
        values, theirs, transform=transform, star=star, permutations=199, seed=99, n_jobs=1
    )
    assert result.p_sim is not None
    assert result.z_sim is not None
    # esda keeps its pseudo p-values as float32.
    assert np.array_equal(result.p_sim.astype(np.float32), reference.p_sim)
    assert np.abs(result.z_sim - reference.z_sim).max() < TOLERANCE


@pytest.mark.parametrize(("seed", "kind"), SYNTHETIC)
@pytest.mark.parametrize("transform", ["B", "R"])
def test_local_moran_equals_esda_moran_local(seed: int, kind: str, transform: str) -> None:
    ours, theirs, values = _synthetic(seed, kind)
    result = local_moran(ours, values, transform=transform, permutations=99, seed=seed)  # type: ignore[arg-type]
    reference = esda.Moran_Local(
        values, theirs, transformation=transform, permutations=99, seed=seed
    )
    assert np.abs(result.local - reference.Is).max() < TOLERANCE
    assert np.abs(result.expected - reference.EI).max() < TOLERANCE
    assert np.abs(result.variance - reference.VI).max() < TOLERANCE
    if SAME_PERMUTATION_STREAM:
        assert np.array_equal(result.p_sim, reference.p_sim)  # type: ignore[arg-type]
        assert np.abs(result.z_sim - reference.z_sim).max() < TOLERANCE  # type: ignore[operator]


@pytest.mark.parametrize(("seed", "kind"), SYNTHETIC)
@pytest.mark.parametrize("transform", ["B", "R"])
def test_global_moran_equals_esda_moran(seed: int, kind: str, transform: str) -> None:
    ours, theirs, values = _synthetic(seed, kind)
    result = global_moran(ours, values, transform=transform, permutations=99, seed=seed)  # type: ignore[arg-type]
    np.random.seed(seed)
    reference = esda.Moran(values, theirs, transformation=transform, permutations=99)
    for name in ("I", "EI", "VI_norm", "z_norm", "p_norm", "VI_rand", "z_rand", "p_rand"):
        assert abs(getattr(result, name) - getattr(reference, name)) < TOLERANCE, name
    if SAME_PERMUTATION_STREAM:
        assert result.p_sim == reference.p_sim
        for name in ("EI_sim", "VI_sim", "z_sim", "p_z_sim"):
            assert abs(getattr(result, name) - getattr(reference, name)) < TOLERANCE, name


def test_lonlat_points_are_projected_so_the_band_is_in_metres() -> None:
    rng = np.random.default_rng(11)
    lon = 13.40 + rng.uniform(-0.05, 0.05, 300)
    lat = 52.52 + rng.uniform(-0.03, 0.03, 300)
    projected, crs = project_lonlat(lon, lat)
    assert crs == "EPSG:32633"  # UTM zone 33N holds Berlin
    _, _, metres = Geod(ellps="WGS84").inv(lon[0], lat[0], lon[1], lat[1])
    assert abs(np.hypot(*(projected[0] - projected[1])) - metres) / metres < 1e-3
    values = rng.poisson(4.0, 300).astype(float)
    ours = distance_band(_ids(300), projected, 900.0)
    theirs = libpysal.weights.DistanceBand(projected, threshold=900.0, silence_warnings=True)
    _same_weights(ours, theirs)
    result = local_g(ours, values, star=True, transform="B")
    reference = esda.G_Local(values, theirs, transform="B", star=True, permutations=0)
    assert np.abs(result.z - reference.Zs).max() < TOLERANCE


def test_coincident_points_are_neighbours_unlike_libpysal() -> None:
    points = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [5.5, 5.0]])
    ours = distance_band(_ids(5), points, 1.5)
    assert ours.matrix[0, 1] == 1.0
    theirs = libpysal.weights.DistanceBand(points, threshold=1.5, silence_warnings=True)
    assert theirs.full()[0][0, 1] == 0.0


LIBPYSAL_EXAMPLES = Path(libpysal.examples.get_path("columbus.gal")).parents[1]


def _published(name: str) -> tuple[SpatialWeights, libpysal.weights.W, np.ndarray]:
    """Columbus (Anselin 1988) crime, St Louis homicide rates 1988-93, de Smith's z."""
    if name == "columbus":
        table = libpysal.io.open(str(LIBPYSAL_EXAMPLES / "columbus" / "columbus.dbf"))
        ids = [str(int(polyid)) for polyid in table.by_col("POLYID")]
        values = np.array(table.by_col("CRIME"), dtype=float)
        gal = LIBPYSAL_EXAMPLES / "columbus" / "columbus.gal"
    elif name == "stl":
        table = libpysal.io.open(str(LIBPYSAL_EXAMPLES / "stl" / "stl_hom.csv"))
        values = np.array(table.by_col("HR8893"), dtype=float)
        ids = _ids(len(values))
        gal = LIBPYSAL_EXAMPLES / "stl" / "stl.gal"
    else:
        table = libpysal.io.open(str(LIBPYSAL_EXAMPLES / "desmith" / "desmith.txt"))
        values = np.array(table.by_col("z"), dtype=float)
        ids = [str(int(i)) for i in table.by_col("id")]
        gal = LIBPYSAL_EXAMPLES / "desmith" / "desmith.gal"
    theirs = libpysal.io.open(str(gal)).read()
    order = [theirs.id_order.index(type(theirs.id_order[0])(i)) for i in ids]
    assert order == list(range(len(ids)))  # the data and the GAL list ids in the same order
    return read_gal(gal, ids), theirs, values


@pytest.mark.parametrize("name", ["columbus", "stl"])
@pytest.mark.parametrize("star", [True, False], ids=["star", "nostar"])
@pytest.mark.parametrize("transform", ["B", "R"])
def test_published_datasets_getis_ord_equals_esda(name: str, star: bool, transform: str) -> None:
    ours, theirs, values = _published(name)
    result = local_g(ours, values, star=star, transform=transform)  # type: ignore[arg-type]
    reference = esda.G_Local(values, theirs, transform=transform, star=star, permutations=0)
    assert np.abs(result.z - reference.Zs).max() < TOLERANCE


@pytest.mark.parametrize("name", ["columbus", "stl", "desmith"])
def test_published_datasets_moran_equals_esda(name: str) -> None:
    ours, theirs, values = _published(name)
    _same_weights(ours, theirs)
    result = local_moran(ours, values, permutations=999, seed=5)
    reference = esda.Moran_Local(values, theirs, permutations=999, seed=5)
    assert np.abs(result.local - reference.Is).max() < TOLERANCE
    if SAME_PERMUTATION_STREAM:
        assert np.array_equal(result.p_sim, reference.p_sim)  # type: ignore[arg-type]
    overall = global_moran(ours, values, permutations=0)
    reference_global = esda.Moran(values, theirs, permutations=0)
    for name_ in ("I", "EI", "VI_norm", "VI_rand", "z_norm", "z_rand", "p_norm", "p_rand"):
        assert abs(getattr(overall, name_) - getattr(reference_global, name_)) < TOLERANCE


def test_columbus_crime_moran_is_the_published_figure() -> None:
    # Anselin (1988) / GeoDa: Moran's I of CRIME with row-standardised rook weights is 0.500.
    ours, _, values = _published("columbus")
    assert round(global_moran(ours, values, permutations=0).I, 3) == 0.500


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1, 0.2])
def test_fdr_threshold_equals_esda_fdr(alpha: float) -> None:
    _, theirs, values = _published("stl")
    reference = esda.Moran_Local(values, theirs, permutations=999, seed=1)
    assert fdr_threshold(reference.p_sim, alpha) == esda.fdr(reference.p_sim, alpha)


def test_hexagon_counts_gi_star_equals_esda_with_ring_neighbours() -> None:
    rng = np.random.default_rng(8)
    centre = h3.latlng_to_cell(48.2082, 16.3738, 9)
    cells = sorted(h3.grid_disk(centre, 8))
    counts = [float(rng.poisson(6 if h3.grid_distance(centre, c) < 3 else 2)) for c in cells]
    result = hotspots_on_cells(cells, counts, k_ring=1)
    neighbours = {c: [o for o in h3.grid_disk(c, 1) if o != c and o in set(cells)] for c in cells}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = libpysal.weights.W(neighbours, id_order=cells)
    reference = esda.G_Local(np.array(counts), theirs, transform="B", star=True, permutations=0)
    assert np.abs(result.z - reference.Zs).max() < TOLERANCE
    assert "hot" in result.labels  # the seeded cluster at the centre is found
    assert hexagon_weights(cells).n == len(cells)
