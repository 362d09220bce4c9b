"""`incity stats hotspots` and `incity stats moran`: spatial statistics on a CSV or GeoJSON.

Both read the whole file and check it before printing anything, so a refusal leaves
standard output empty and says on one stderr line what is wrong.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from incity.analysis.spatial.getis_ord import local_g
from incity.analysis.spatial.moran import global_moran, local_moran
from incity.analysis.spatial.points import PointTable, read_points
from incity.analysis.spatial.results import LocalResult
from incity.analysis.spatial.weights import (
    TRANSFORMS,
    SpatialWeights,
    distance_band,
    k_nearest,
    read_gal,
)
from incity.errors import InvalidInput

P_VALUE_NOTE = (
    "p is the one-sided normal p-value in the direction of z (as PySAL esda reports it); "
    "labels use the two-sided p (2p, or 2 p_sim for local Moran's I) with the "
    "Benjamini-Hochberg false discovery rate at alpha"
)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hotspots = sub.add_parser(
        "hotspots",
        help="local Getis-Ord Gi/Gi* or local Moran's I, one row per feature",
        description="Hot and cold spots. " + P_VALUE_NOTE + ".",
    )
    _add_common_arguments(hotspots)
    hotspots.add_argument(
        "--statistic",
        choices=("getis-ord", "local-moran"),
        default="getis-ord",
        help="Getis-Ord Gi (Gi* with --star; the default) or local Moran's I",
    )
    hotspots.add_argument("--star", action="store_true", help="Gi*: include the site itself")
    hotspots.add_argument("--format", choices=("csv", "json"), default="csv")
    hotspots.add_argument(
        "--alpha", type=float, default=0.05, help="false discovery rate for the labels (0.05)"
    )
    hotspots.set_defaults(handler=cmd_hotspots)

    moran = sub.add_parser(
        "moran",
        help="global Moran's I with its expectation, variance, z and p (JSON)",
        description="Global Moran's I; variances under normality (VI_norm) and "
        "randomisation (VI_rand), two-sided p-values, and a permutation test.",
    )
    _add_common_arguments(moran)
    moran.set_defaults(handler=cmd_moran)


def _add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="CSV with lon/lat or x/y columns, or GeoJSON")
    parser.add_argument("--value", required=True, help="the column or property to analyse")
    parser.add_argument("--distance", type=float, help="distance band D (metres for lon/lat)")
    parser.add_argument("--k", type=int, help="k nearest neighbours")
    parser.add_argument("--weights", type=Path, help="a GAL contiguity file")
    parser.add_argument(
        "--id",
        dest="id_column",
        help="column of feature ids (GAL ids refer to it; else row numbers)",
    )
    parser.add_argument(
        "--transform",
        type=str.upper,
        choices=TRANSFORMS,
        default=None,
        help="B binary or R row-standardised weights (B for Getis-Ord, R for Moran's I)",
    )
    parser.add_argument(
        "--planar", action="store_true", help="coordinates are planar x/y: do not project lon/lat"
    )
    parser.add_argument("--permutations", type=int, default=999, help="permutations (999)")
    parser.add_argument("--seed", type=int, default=None, help="permutation seed (12345)")


def cmd_hotspots(args: argparse.Namespace) -> int:
    if not 0 < args.alpha < 1:
        raise InvalidInput("alpha", f"--alpha must be between 0 and 1, not {args.alpha}.")
    table, weights = _load(args)
    if args.statistic == "local-moran":
        result = local_moran(
            weights,
            table.values,
            transform=args.transform or "R",
            permutations=args.permutations,
            seed=args.seed,
            alpha=args.alpha,
        )
    else:
        # Getis and Ord defined G on binary weights; its z under row standardisation is
        # a standardised local mean that ignores how many neighbours back it up.
        result = local_g(
            weights,
            table.values,
            star=args.star,
            transform=args.transform or "B",
            permutations=args.permutations,
            seed=args.seed,
            alpha=args.alpha,
        )
    if args.format == "json":
        print(json.dumps(_local_json(result, table, weights), indent=2))
    else:
        for note in table.notes:
            print(f"incity: note: {note}", file=sys.stderr)
        _write_local_csv(result)
    return 0


def cmd_moran(args: argparse.Namespace) -> int:
    table, weights = _load(args)
    result = global_moran(
        weights,
        table.values,
        transform=args.transform or "R",
        permutations=args.permutations,
        seed=args.seed,
    )
    document = {
        "statistic": "global Moran's I",
        "weights": weights.description,
        "coordinates": table.crs,
        "notes": list(table.notes),
        "p_values": "p_norm and p_rand two-sided; p_sim folded to the nearer tail; "
        "p_z_sim one-sided (as PySAL esda)",
        **asdict(result),
    }
    print(json.dumps(_finite(document), indent=2))
    return 0


def _load(args: argparse.Namespace) -> tuple[PointTable, SpatialWeights]:
    chosen = [flag for flag in ("distance", "k", "weights") if getattr(args, flag) is not None]
    if len(chosen) != 1:
        raise InvalidInput(
            "weights",
            "give exactly one of --distance D, --k K or --weights FILE.gal"
            + (f" (got --{' and --'.join(chosen)})." if chosen else "."),
        )
    if args.permutations < 0:
        raise InvalidInput("permutations", "--permutations cannot be negative.")
    table = read_points(
        args.file,
        value=args.value,
        id_column=args.id_column,
        planar=args.planar,
        need_coordinates=args.weights is None,
    )
    if args.weights is not None:
        return table, read_gal(args.weights, table.ids)
    assert table.coordinates is not None  # required when the weights come from distances
    if args.distance is not None:
        return table, distance_band(table.ids, table.coordinates, args.distance)
    return table, k_nearest(table.ids, table.coordinates, args.k)


def _rows(result: LocalResult) -> list[dict[str, Any]]:
    statistic = "I" if result.statistic == "local Moran's I" else "G"
    rows = []
    for i, identifier in enumerate(result.ids):
        rows.append(
            {
                "id": identifier,
                "value": float(result.values[i]),
                statistic: float(result.local[i]),
                "z": float(result.z[i]),
                "p": float(result.p[i]),
                "z_sim": None if result.z_sim is None else float(result.z_sim[i]),
                "p_sim": None if result.p_sim is None else float(result.p_sim[i]),
                "label": result.labels[i],
            }
        )
    return rows


def _write_local_csv(result: LocalResult) -> None:
    rows = _rows(result)
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})


def _local_json(result: LocalResult, table: PointTable, weights: SpatialWeights) -> Any:
    return _finite(
        {
            "statistic": result.statistic,
            "weights": weights.description,
            "transform": result.transform,
            "coordinates": table.crs,
            "notes": list(table.notes),
            "n": len(result.ids),
            "alpha": result.alpha,
            "fdr_threshold": result.fdr_threshold,
            "p_values": P_VALUE_NOTE,
            "permutations": result.permutations,
            "seed": result.seed,
            "features": _rows(result),
        }
    )


def _finite(value: Any) -> Any:
    """NaN and infinity are not JSON; they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
