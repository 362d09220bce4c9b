"""Getis-Ord Gi* in incity (NumPy/SciPy sparse) beside PySAL esda/libpysal in the same run.

Two workloads from the maps issue: 100,000 synthetic marks aggregated to H3 hexagons
(resolution 9, first ring as neighbours), and 10,000 raw points with a distance band.
Each side builds its own weights and computes Gi*; time is the best of three runs, peak
memory is measured by tracemalloc in a separate run. The results must agree to 1e-9 (the
z-scores; with permutations also the pseudo p-values, same seed) or the benchmark fails.
Details (peak memory, max abs difference) are printed on stderr.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import esda
import h3
import libpysal
import numpy as np

from bench.access_bench import Row
from incity.analysis.spatial import distance_band, hotspots_on_cells, local_g

MARKS = 100_000
RAW_POINTS = 10_000
BAND_METRES = 300.0
RESOLUTION = 9
RINGS = 40  # cells within 40 steps of the centre: 4,921 hexagons (about 12 km across)
PERMUTATIONS = 999
SEED = 7
TOLERANCE = 1e-9


def _measure(function: Callable[[], Any]) -> tuple[float, float, Any]:
    """Best of three wall-clock times (ms), peak traced memory (MB), and the result."""
    times = []
    result = None
    for _ in range(3):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return min(times), peak / 2**20, result


def _hexagon_counts() -> tuple[list[str], list[float]]:
    """Synthetic marks around Vienna with three dense 'dark spots', counted per hexagon."""
    rng = np.random.default_rng(SEED)
    centre = h3.latlng_to_cell(48.2082, 16.3738, RESOLUTION)
    cells = sorted(h3.grid_disk(centre, RINGS))
    area = set(cells)
    spots = rng.choice(len(cells), 3, replace=False)
    centres = np.array([h3.cell_to_latlng(cell) for cell in cells])
    counter: Counter[str] = Counter()
    while (missing := MARKS - sum(counter.values())) > 0:
        in_spot = rng.random(missing) < 0.3
        origin = np.where(
            in_spot, rng.choice(spots, missing), rng.integers(len(cells), size=missing)
        )
        spread = np.where(in_spot, 4.0, 1.0)[:, None] * np.array([0.001, 0.0015])
        marks = centres[origin] + rng.normal(0.0, 1.0, (missing, 2)) * spread
        found = (h3.latlng_to_cell(lat, lng, RESOLUTION) for lat, lng in marks)
        # Marks that fall outside the area are drawn again in the next batch.
        counter.update(cell for cell in found if cell in area)
    return cells, [float(counter[cell]) for cell in cells]


def _esda_on_cells(cells: list[str], counts: list[float], permutations: int) -> Any:
    area = set(cells)
    neighbours = {c: [o for o in h3.grid_disk(c, 1) if o != c and o in area] for c in cells}
    weights = libpysal.weights.W(neighbours, id_order=cells, silence_warnings=True)
    return esda.G_Local(
        np.asarray(counts),
        weights,
        transform="B",
        star=True,
        permutations=permutations,
        seed=SEED,
        n_jobs=1,
    )


def _raw_points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    points = rng.uniform(0, 10_000, (RAW_POINTS, 2))
    values = rng.poisson(2.0, RAW_POINTS) + 4.0 * (np.hypot(*(points - 3000).T) < 800)
    return points, values.astype(float)


def _compare(name: str, ours: Any, theirs: Any, peaks: tuple[float, float]) -> None:
    difference = float(np.abs(ours.z - theirs.Zs).max())
    detail = f"max |z - esda z| = {difference:.1e}"
    if ours.p_sim is not None:
        same = np.array_equal(ours.p_sim.astype(np.float32), theirs.p_sim)
        detail += f", p_sim equal: {same}"
        assert same, f"{name}: pseudo p-values differ from esda's"
    assert difference <= TOLERANCE, f"{name}: {detail}"
    print(
        f"{name}: {detail}; peak memory incity {peaks[0]:.1f} MB, esda {peaks[1]:.1f} MB",
        file=sys.stderr,
    )


def run() -> list[Row]:
    warnings.simplefilter("ignore")
    rows = []
    cells, counts = _hexagon_counts()
    for permutations in (0, PERMUTATIONS):
        name = f"Gi* on {MARKS:,} marks in {len(cells):,} H3 hexagons" + (
            f", {permutations} permutations" if permutations else ", analytic"
        )
        ours_ms, ours_mb, ours = _measure(
            lambda p=permutations: hotspots_on_cells(cells, counts, permutations=p, seed=SEED)
        )
        theirs_ms, theirs_mb, theirs = _measure(
            lambda p=permutations: _esda_on_cells(cells, counts, p)
        )
        _compare(name, ours, theirs, (ours_mb, theirs_mb))
        rows.append(Row(name, ours_ms, theirs_ms))

    points, values = _raw_points()
    ids = [str(i + 1) for i in range(RAW_POINTS)]
    name = f"Gi* on {RAW_POINTS:,} points, {BAND_METRES:g} m distance band, analytic"
    ours_ms, ours_mb, ours = _measure(
        lambda: local_g(distance_band(ids, points, BAND_METRES), values, star=True)
    )
    theirs_ms, theirs_mb, theirs = _measure(
        lambda: esda.G_Local(
            values,
            libpysal.weights.DistanceBand(points, BAND_METRES, silence_warnings=True),
            transform="B",
            star=True,
            permutations=0,
        )
    )
    _compare(name, ours, theirs, (ours_mb, theirs_mb))
    rows.append(Row(name, ours_ms, theirs_ms))
    return rows
