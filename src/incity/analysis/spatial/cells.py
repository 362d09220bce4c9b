"""Hotspots on H3 hexagon counts, for the map layers: neighbours are the cells within
`k_ring` grid steps (h3.grid_disk) that are in the list, binary, not the cell itself."""

from __future__ import annotations

from collections.abc import Sequence

import h3
import numpy as np

from incity.analysis.spatial.getis_ord import local_g
from incity.analysis.spatial.results import LocalResult
from incity.analysis.spatial.weights import SpatialWeights, Transform, from_neighbours, name_some
from incity.errors import InvalidInput


def hexagon_weights(cell_ids: Sequence[str], *, k_ring: int = 1) -> SpatialWeights:
    if k_ring < 1:
        raise InvalidInput("k_ring", f"k_ring must be at least 1, not {k_ring}.")
    invalid = [cell for cell in cell_ids if not h3.is_valid_cell(cell)]
    if invalid:
        raise InvalidInput("cells", f"not H3 cell ids: {name_some(invalid)}.")
    resolutions = {h3.get_resolution(cell) for cell in cell_ids}
    if len(resolutions) > 1:
        raise InvalidInput(
            "cells", f"cells of one resolution only; got resolutions {sorted(resolutions)}."
        )
    present = set(cell_ids)
    if len(present) != len(cell_ids):
        raise InvalidInput("cells", "a cell id appears more than once.")
    neighbours = {
        cell: [other for other in h3.grid_disk(cell, k_ring) if other != cell and other in present]
        for cell in cell_ids
    }
    return from_neighbours(list(cell_ids), neighbours, f"H3 cells within {k_ring} ring(s)")


def hotspots_on_cells(
    cell_ids: Sequence[str],
    counts: Sequence[float],
    *,
    k_ring: int = 1,
    star: bool = True,
    transform: Transform = "B",
    permutations: int = 0,
    seed: int | None = None,
    alpha: float = 0.05,
) -> LocalResult:
    """Gi* (by default) of counts per hexagon; pass empty cells with a count of 0."""
    if len(cell_ids) != len(counts):
        raise InvalidInput("counts", f"{len(cell_ids)} cells but {len(counts)} counts.")
    weights = hexagon_weights(cell_ids, k_ring=k_ring)
    return local_g(
        weights,
        np.asarray(counts, dtype=np.float64),
        star=star,
        transform=transform,
        permutations=permutations,
        seed=seed,
        alpha=alpha,
    )
