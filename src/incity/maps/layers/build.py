"""The layers a caller gets: published hexagons, areas and hotspots, and the raw tier.

Published layers are cached in Django's cache per (form, data version, parameters,
threshold): a warm request costs the data-version query and a cache read. The data
version changes whenever a submission is added, edited, reviewed or withdrawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from django.core.cache import cache

from incity.accounts.models import Project
from incity.analysis.spatial import hotspots_on_cells
from incity.errors import Conflict
from incity.maps.layers.hexagons import (
    CellCounts,
    balance,
    cell_polygon,
    choose_resolution,
    columns_of,
    count_cells,
    merge_small,
    protect_counts,
    protect_units,
    published_features,
)
from incity.maps.layers.marks import (
    MarkColumns,
    data_version,
    group_members,
    mark_columns,
    selected,
)
from incity.maps.layers.request import LayerRequest
from incity.places.boundaries import to_geojson
from incity.places.geometry import project_area
from incity.surveys.definition import TIMES_OF_DAY

CACHE_SECONDS = 24 * 3600
_CACHE_FORMAT = 1


def _cache_key(kind: str, request: LayerRequest, version: str, threshold: int) -> str:
    return (
        f"maps:{_CACHE_FORMAT}:{kind}:{request.form.pk}:{version}:{threshold}:{request.cache_key()}"
    )


def _base(request: LayerRequest, kind: str, scope: str) -> dict[str, Any]:
    project: Project = request.form.project
    return {
        "type": "FeatureCollection",
        "features": [],
        "layer": {
            "kind": kind,
            "scope": scope,
            "form": request.form.pk,
            "question": request.question.name,
            "category": request.category,
            "categories": list(columns_of(request.question)),
            "category_labels": request.question.labels,
            "time": request.time,
            "group": [f"{name}={level}" for name, level in request.groups],
            "since": request.since.isoformat() if request.since else None,
            "until": request.until.isoformat() if request.until else None,
            "threshold": project.disclosure_threshold,
            "is_synthetic": bool(project.is_synthetic or request.form.is_synthetic),
        },
    }


def resolution_for(request: LayerRequest) -> int:
    if request.resolution is not None:
        return request.resolution
    area = project_area(request.form.project)
    return choose_resolution(area.bounds if area is not None else None)


def _filtered(request: LayerRequest, version: str) -> tuple[MarkColumns, Any]:
    columns = mark_columns(request.form, request.question, version)
    keep = selected(columns, request, group_members(request.form, request.groups))
    return columns, keep


def _cell_counts(request: LayerRequest, version: str) -> CellCounts:
    columns, keep = _filtered(request, version)
    return count_cells(columns, keep, request.question, resolution_for(request))


# --------------------------------------------------------------------------- hexagons


def published_hexagons(request: LayerRequest) -> dict[str, Any]:
    version = data_version(request.form)
    threshold = request.form.project.disclosure_threshold
    key = _cache_key("hexagons", request, version, threshold)
    found = cache.get(key)
    if found is not None:
        return dict(found)
    layer = _published_hexagons(request, version, threshold)
    cache.set(key, layer, CACHE_SECONDS)
    return layer


def _published_hexagons(request: LayerRequest, version: str, threshold: int) -> dict[str, Any]:
    cells = _cell_counts(request, version)
    units = merge_small(cells, threshold)
    layer = _base(request, "hexagons", "published")
    layer["layer"]["resolution"] = cells.resolution
    if not units:
        layer["disclosure"] = _disclosure_note(threshold, {})
        return layer
    protected = protect_units(units, cells.categories, threshold)
    features, summary = published_features(units, protected, request.category)
    layer["features"] = features
    layer["disclosure"] = _disclosure_note(threshold, summary)
    return layer


def _disclosure_note(threshold: int, summary: dict[str, Any]) -> dict[str, Any]:
    parts = [
        f"Published layer: only counts of at least {threshold} marks are shown; "
        "exact points are never published."
    ]
    if summary.get("small_cells_merged"):
        parts.append(
            f"{summary['small_cells_merged']} small cells were merged into "
            f"{summary['cells_merged']} larger hexagons so that they could be shown."
        )
    suppressed = summary.get("cells_suppressed_small", 0) + summary.get(
        "cells_suppressed_secondary", 0
    )
    if suppressed:
        parts.append(
            f"{suppressed} cells are not shown: {summary.get('cells_suppressed_small', 0)} had "
            f"fewer than {threshold} marks even after merging, "
            f"{summary.get('cells_suppressed_secondary', 0)} were hidden so that those could "
            "not be worked out from the totals."
        )
    if summary.get("counts_suppressed_in_published_cells"):
        parts.append(
            f"{summary['counts_suppressed_in_published_cells']} category counts inside shown "
            "cells are hidden for the same reason."
        )
    return {**summary, "threshold": threshold, "note": " ".join(parts)}


def raw_hexagons(request: LayerRequest) -> dict[str, Any]:
    """Every cell with its exact counts (raw tier: the caller checked and audits)."""
    cells = _cell_counts(request, data_version(request.form))
    layer = _base(request, "hexagons", "raw")
    layer["layer"]["resolution"] = cells.resolution
    for cell, counts in sorted(cells.counts.items()):
        total = sum(counts.values())
        layer["features"].append(
            {
                "type": "Feature",
                "id": cell,
                "geometry": dict(shapely.geometry.mapping(cell_polygon(cell))),
                "properties": {
                    "cell": cell,
                    "kind": "cell",
                    "resolution": cells.resolution,
                    "value": total if request.category is None else counts.get(request.category, 0),
                    "total": total,
                    "counts": {name: counts.get(name, 0) for name in cells.categories},
                    "balance": balance(counts.get("safe", 0), counts.get("unsafe", 0)),
                },
            }
        )
    layer["disclosure"] = {"note": "Raw layer: exact counts, not for publication (audited)."}
    return layer


def raw_points(request: LayerRequest) -> dict[str, Any]:
    """Every mark as a point (raw tier only)."""
    columns, keep = _filtered(request, data_version(request.form))
    categories = request.question.categories
    layer = _base(request, "points", "raw")
    indexes = np.flatnonzero(keep)
    for index in indexes.tolist():
        code = int(columns.category[index])
        category = categories[code] if code >= 0 and categories else None
        if request.category is not None and category != request.category:
            continue
        time_code = int(columns.time[index])
        layer["features"].append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(columns.lon[index]), float(columns.lat[index])],
                },
                "properties": {
                    "submission": int(columns.submission[index]),
                    "category": category,
                    "time_of_day": TIMES_OF_DAY[time_code] if time_code >= 0 else None,
                },
            }
        )
    layer["disclosure"] = {"note": "Raw points: individual answers, not for publication."}
    return layer


# ----------------------------------------------------------------------------- areas


def area_layer(request: LayerRequest, *, scope: str = "published") -> dict[str, Any]:
    version = data_version(request.form)
    threshold = request.form.project.disclosure_threshold
    key = _cache_key(f"areas-{scope}", request, version, threshold)
    found = cache.get(key) if scope == "published" else None
    if found is not None:
        return dict(found)
    layer = _area_layer(request, version, threshold, scope)
    if scope == "published":
        cache.set(key, layer, CACHE_SECONDS)
    return layer


def _area_layer(request: LayerRequest, version: str, threshold: int, scope: str) -> dict[str, Any]:
    area = project_area(request.form.project)
    if area is None:
        raise Conflict(
            "The project has no areas with boundaries; import neighbourhood boundaries first.",
            project=request.form.project.slug,
        )
    columns, keep = _filtered(request, version)
    categories = columns_of(request.question)
    lon, lat = columns.lon[keep], columns.lat[keep]
    codes = (
        columns.category[keep].astype(np.int64)
        if request.question.categories
        else np.zeros(lon.size, dtype=np.int64)
    )
    unassigned = np.ones(lon.size, dtype=bool)
    counts: dict[tuple[str, str], int] = {}
    # The first area by name takes a point on a shared boundary, as places.assign_area does.
    for candidate, boundary in area.areas:
        inside = unassigned & shapely.intersects_xy(boundary, lon, lat)
        unassigned &= ~inside
        for index, name in enumerate(categories):
            counts[(candidate.name, name)] = int(np.count_nonzero(inside & (codes == index)))
    layer = _base(request, "areas", scope)
    outside = int(np.count_nonzero(unassigned & (codes >= 0)))
    for candidate, boundary in area.areas:
        exact = {name: counts[(candidate.name, name)] for name in categories}
        if scope == "published":
            entry = protect_counts(exact, categories, threshold)
            shown, reasons, total = entry.counts, entry.reasons, entry.total
        else:
            shown, reasons, total = dict(exact), {}, sum(exact.values())
        layer["features"].append(
            {
                "type": "Feature",
                "id": candidate.pk,
                "geometry": to_geojson(boundary),
                "properties": {
                    "area": candidate.name,
                    "code": candidate.code,
                    "value": total if request.category is None else shown.get(request.category),
                    "total": total,
                    "counts": shown,
                    "suppressed": reasons,
                    "balance": balance(shown.get("safe"), shown.get("unsafe")),
                },
            }
        )
    published = scope == "published"
    hidden = sum(len(f["properties"]["suppressed"]) for f in layer["features"])
    note = (
        f"Published layer: counts below {threshold} marks, and counts that would reveal them, "
        f"are hidden ({hidden} hidden). Marks outside every area are not counted."
        if published
        else "Raw layer: exact counts, not for publication (audited)."
    )
    layer["disclosure"] = {
        "threshold": threshold,
        "counts_suppressed": hidden,
        "outside_areas": None if published else outside,
        "note": note,
    }
    return layer


# -------------------------------------------------------------------------- hotspots


def hotspot_layer(request: LayerRequest) -> dict[str, Any]:
    """Gi* on the published hexagon counts: only cells the hexagon layer shows on their own."""
    hexagons = published_hexagons(request)
    cells = [
        feature
        for feature in hexagons["features"]
        if feature["properties"]["kind"] == "cell" and feature["properties"]["value"] is not None
    ]
    layer = _base(request, "hotspots", "published")
    layer["layer"]["resolution"] = hexagons["layer"]["resolution"]
    note = (
        "Local Getis-Ord Gi* on published hexagon counts (neighbours: adjacent cells). "
        "Merged and hidden cells are left out. "
    )
    if len(cells) < 3:
        layer["disclosure"] = {
            **hexagons["disclosure"],
            "note": note + f"Only {len(cells)} cells are published: too few for Gi* (3 needed).",
        }
        return layer
    result = hotspots_on_cells(
        [feature["id"] for feature in cells],
        [float(feature["properties"]["value"]) for feature in cells],
    )
    for position, feature in enumerate(cells):
        label = result.labels[position]
        layer["features"].append(
            {
                "type": "Feature",
                "id": feature["id"],
                "geometry": feature["geometry"],
                "properties": {
                    "cell": feature["id"],
                    "value": feature["properties"]["value"],
                    "z": round(float(result.z[position]), 4),
                    "p": round(float(result.p[position]), 6),
                    "hotspot": label or "not significant",
                },
            }
        )
    layer["disclosure"] = {
        **hexagons["disclosure"],
        "fdr_threshold": result.fdr_threshold,
        "note": note
        + f"Hot and cold cells are significant at a false discovery rate of {result.alpha}. "
        + hexagons["disclosure"]["note"],
    }
    return layer
