"""Spatial weights as a sparse matrix: distance band, k nearest neighbours, GAL files.

Weights are built binary (1 for a neighbour) and transformed afterwards, the way PySAL's
libpysal does: B keeps them binary, R divides each row by its sum. Every builder refuses
weights that leave an observation without neighbours (an "island"), naming it, because the
local statistics are undefined there and a silent NaN would read as "not significant".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.spatial import cKDTree

from incity.errors import InvalidInput

Transform = Literal["B", "R"]
TRANSFORMS: tuple[Transform, ...] = ("B", "R")
# How many offending ids a message names before it says "and N more".
_NAMED_IN_MESSAGE = 10


@dataclass(frozen=True)
class SpatialWeights:
    """Binary neighbour structure (no self-neighbours) in the order of `ids`."""

    ids: tuple[str, ...]
    matrix: Any  # scipy.sparse.csr_matrix of 0/1, zero diagonal
    description: str

    @property
    def n(self) -> int:
        return len(self.ids)

    def cardinalities(self) -> NDArray[np.int64]:
        return np.diff(self.matrix.indptr).astype(np.int64)

    def transformed(self, transform: Transform, *, self_weight: bool) -> Any:
        """The matrix with an optional self-weight of 1, then binary or row-standardised."""
        matrix = self.matrix.astype(np.float64)
        if self_weight:
            matrix = (matrix + sparse.identity(self.n, format="csr")).tocsr()
        if transform == "R":
            row_sums = np.asarray(matrix.sum(axis=1)).ravel()
            matrix = sparse.diags(1.0 / row_sums) @ matrix
        return sparse.csr_matrix(matrix)


def name_some(ids: Sequence[str]) -> str:
    named = ", ".join(ids[:_NAMED_IN_MESSAGE])
    rest = len(ids) - _NAMED_IN_MESSAGE
    return f"{named} and {rest} more" if rest > 0 else named


def _refuse_islands(ids: Sequence[str], matrix: Any, how: str) -> None:
    cardinality = np.diff(matrix.indptr)
    islands = [ids[int(i)] for i in np.flatnonzero(cardinality == 0)]
    if islands:
        raise InvalidInput(
            "weights",
            f"{how} leaves {len(islands)} observation(s) without neighbours (islands): "
            f"id {name_some(islands)}; widen the band, use --k, or drop them.",
            islands=islands[:100],
        )


def distance_band(
    ids: Sequence[str], coordinates: NDArray[np.float64], threshold: float
) -> SpatialWeights:
    """Neighbours within `threshold` (inclusive) in the coordinates' own planar units.

    Unlike libpysal's DistanceBand, points at the same place are neighbours of each other
    (libpysal builds the band from a sparse distance matrix, which drops zero distances).
    """
    if not np.isfinite(threshold) or threshold <= 0:
        raise InvalidInput(
            "distance", f"the distance band must be a positive number, not {threshold}."
        )
    tree = cKDTree(coordinates)
    pairs = tree.query_pairs(r=threshold, output_type="ndarray")
    n = len(ids)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.sort_indices()
    _refuse_islands(ids, matrix, f"a distance band of {threshold:g}")
    return SpatialWeights(tuple(ids), matrix, f"distance band {threshold:g}")


def k_nearest(ids: Sequence[str], coordinates: NDArray[np.float64], k: int) -> SpatialWeights:
    """Each observation's k nearest others (not symmetric: i may be j's neighbour only)."""
    n = len(ids)
    if k < 1:
        raise InvalidInput("k", f"--k must be at least 1, not {k}.")
    if k >= n:
        raise InvalidInput("k", f"--k {k} needs more than {k} observations; the file has {n}.")
    _, found = cKDTree(coordinates).query(coordinates, k=k + 1)
    found = np.asarray(found, dtype=np.int64)
    keep = found != np.arange(n)[:, None]
    # With more than k points at the same place the query may not return i itself;
    # then the k closest others are the first k, so the farthest one is dropped.
    keep[keep.all(axis=1), k] = False
    rows = np.repeat(np.arange(n), k)
    cols = found[keep]
    matrix = sparse.csr_matrix((np.ones(n * k), (rows, cols)), shape=(n, n))
    matrix.sort_indices()
    return SpatialWeights(tuple(ids), matrix, f"{k} nearest neighbours")


def from_neighbours(
    ids: Sequence[str], neighbours: dict[str, list[str]], description: str
) -> SpatialWeights:
    """Binary weights from a neighbour list keyed by id (GAL files, H3 rings)."""
    position = {identifier: i for i, identifier in enumerate(ids)}
    rows: list[int] = []
    cols: list[int] = []
    for identifier, others in neighbours.items():
        i = position[identifier]
        for other in others:
            rows.append(i)
            cols.append(position[other])
    n = len(ids)
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    matrix.sort_indices()
    _refuse_islands(ids, matrix, description)
    return SpatialWeights(tuple(ids), matrix, description)


def read_gal(path: Path, ids: Sequence[str]) -> SpatialWeights:
    """A GAL contiguity file whose ids are values of `ids` (an --id column or row numbers)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput("weights", f"the GAL file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput("weights", f"cannot read the GAL file {path}: {error}.") from None
    neighbours = _parse_gal(text, path.name)
    _check_gal_against_data(neighbours, ids, path.name)
    _refuse_asymmetry(neighbours, path.name)
    ordered = {identifier: neighbours[identifier] for identifier in ids}
    return from_neighbours(ids, ordered, f"GAL file {path.name}")


def _parse_gal(text: str, name: str) -> dict[str, list[str]]:
    lines = text.splitlines()
    if not lines or not lines[0].split():
        raise InvalidInput("weights", f"the GAL file {name} is empty.")
    header = lines[0].split()
    # Either "n" or the newer "0 n shapefile idvariable".
    count_token = header[1] if len(header) >= 2 else header[0]
    if not count_token.isdigit():
        raise InvalidInput("weights", f"the GAL file {name} does not start with a count of ids.")
    expected = int(count_token)
    tokens = " ".join(lines[1:]).split()
    neighbours: dict[str, list[str]] = {}
    position = 0
    while position < len(tokens):
        if position + 1 >= len(tokens) or not tokens[position + 1].isdigit():
            raise InvalidInput(
                "weights",
                f"the GAL file {name} is malformed after id {tokens[position]}: "
                "expected 'id number-of-neighbours' then that many ids.",
            )
        identifier, count = tokens[position], int(tokens[position + 1])
        others = tokens[position + 2 : position + 2 + count]
        if len(others) < count:
            raise InvalidInput(
                "weights",
                f"the GAL file {name} says id {identifier} has {count} neighbours "
                f"but lists {len(others)}.",
            )
        if identifier in neighbours:
            raise InvalidInput("weights", f"the GAL file {name} lists id {identifier} twice.")
        if identifier in others:
            raise InvalidInput(
                "weights", f"the GAL file {name} lists id {identifier} as its own neighbour."
            )
        neighbours[identifier] = others
        position += 2 + count
    if len(neighbours) != expected:
        raise InvalidInput(
            "weights",
            f"the GAL file {name} announces {expected} ids but has {len(neighbours)} entries.",
        )
    return neighbours


def _check_gal_against_data(
    neighbours: dict[str, list[str]], ids: Sequence[str], name: str
) -> None:
    known = set(ids)
    named = set(neighbours) | {other for others in neighbours.values() for other in others}
    unknown = sorted(named - known, key=_natural)
    if unknown:
        raise InvalidInput(
            "weights",
            f"the GAL file {name} names ids that are not in the data: {name_some(unknown)} "
            "(ids refer to the --id column, or to 1-based row numbers without it).",
            unknown=unknown[:100],
        )
    missing = [identifier for identifier in ids if identifier not in neighbours]
    if missing:
        raise InvalidInput(
            "weights", f"the GAL file {name} has no entry for id {name_some(missing)}."
        )


def _refuse_asymmetry(neighbours: dict[str, list[str]], name: str) -> None:
    for identifier, others in neighbours.items():
        for other in others:
            if identifier not in neighbours[other]:
                raise InvalidInput(
                    "weights",
                    f"the GAL file {name} is not symmetric: id {identifier} lists {other} "
                    f"as a neighbour but {other} does not list {identifier}.",
                )


def _natural(identifier: str) -> tuple[int, float, str]:
    try:
        return (0, float(identifier), identifier)
    except ValueError:
        return (1, 0.0, identifier)
