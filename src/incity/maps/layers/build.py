"""The layers a caller gets: published hexagons, areas and hotspots, and the raw tier.

Published layers are cached in Django's cache per (form, data version, parameters,
threshold): a warm request costs the data-version query and a cache read. The data
version changes whenever a submission is added, edited, reviewed or withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.core.cache import cache
from numpy.typing import NDArray

from incity.accounts.models import Project
from incity.analysis.spatial import hotspots_on_cells
from incity.errors import Conflict
from incity.maps.layers.gate import Counts, LayerGate
from incity.maps.layers.hexagons import (
    CellCounts,
    ProtectedUnit,
    Unit,
    balance,
    cell_polygon,
    choose_resolution,
    columns_of,
    count_cells,
    merge_small,
    published_features,
)
from incity.maps.layers.marks import (
    MarkColumns,
    filter_masks,
    layer_version,
    mark_columns,
)
from incity.maps.layers.request import LayerRequest
from incity.places.boundaries import to_geojson
from incity.places.geometry import project_area
from incity.surveys.definition import TIMES_OF_DAY

CACHE_SECONDS = 24 * 3600
# 2: filtered layers are protected against differencing (gate.py); older entries are not.
_CACHE_FORMAT = 2


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


@dataclass(frozen=True)
class _Selection:
    """The marks of the request's question and one mask per filter of the request."""

    columns: MarkColumns
    masks: list[NDArray[np.bool_]]

    def keep(self, active: frozenset[int] | None = None) -> NDArray[np.bool_]:
        """The marks the filters in `active` (all when None) keep."""
        keep = np.ones(len(self.columns), dtype=bool)
        for index, mask in enumerate(self.masks):
            if active is None or index in active:
                keep &= mask
        return keep


def _selection(request: LayerRequest, version: str, reason: str) -> _Selection:
    columns = mark_columns(request.form, request.question, version)
    return _Selection(columns, filter_masks(columns, request, reason=reason))


def _cell_counts(request: LayerRequest, version: str, reason: str) -> CellCounts:
    selection = _selection(request, version, reason)
    return count_cells(
        selection.columns, selection.keep(), request.question, resolution_for(request)
    )


# --------------------------------------------------------------------------- hexagons


def published_hexagons(request: LayerRequest) -> dict[str, Any]:
    version = layer_version(request.form)
    threshold = request.form.project.disclosure_threshold
    key = _cache_key("hexagons", request, version, threshold)
    found = cache.get(key)
    if found is not None:
        return dict(found)
    layer = _published_hexagons(request, version, threshold)
    cache.set(key, layer, CACHE_SECONDS)
    return layer


def _published_hexagons(request: LayerRequest, version: str, threshold: int) -> dict[str, Any]:
    selection = _selection(request, version, "maps.hexagons")
    resolution = resolution_for(request)

    def counts_for(active: frozenset[int]) -> Counts:
        keep = selection.keep(active)
        return count_cells(selection.columns, keep, request.question, resolution).counts

    gate = LayerGate(counts_for, len(selection.masks), columns_of(request.question), threshold)
    cells = CellCounts(
        resolution, gate.categories, {k: dict(v) for k, v in gate.counts(gate.full).items()}
    )
    units = merge_small(cells, threshold) if not gate.full else _unmerged(cells)
    layer = _base(request, "hexagons", "published")
    layer["layer"]["resolution"] = cells.resolution
    if not units:
        layer["disclosure"] = _disclosure_note(threshold, {})
        return layer
    protected = _protected_units(units, gate)
    features, summary = published_features(units, protected, request.category)
    layer["features"] = features
    layer["disclosure"] = _disclosure_note(threshold, summary, filtered=bool(gate.full))
    return layer


def _unmerged(cells: CellCounts) -> list[Unit]:
    """Every cell on its own: a filtered layer merges none (see `gate`)."""
    return [
        Unit(cell, "cell", cells.resolution, dict(counts))
        for cell, counts in sorted(cells.counts.items())
    ]


def _protected_units(units: list[Unit], gate: LayerGate) -> dict[str, ProtectedUnit]:
    """Each unit through the gate; a merged one (unfiltered layers only) on its own."""
    return {
        unit.id: gate.fixed(unit.id) if unit.kind == "cell" else gate.unit(unit.counts)
        for unit in units
    }


def _disclosure_note(
    threshold: int, summary: dict[str, Any], *, filtered: bool = False
) -> dict[str, Any]:
    parts = [
        f"Published layer: only counts of at least {threshold} marks are shown; "
        "exact points are never published."
    ]
    if filtered:
        parts.append(
            "This layer is filtered: small cells are not merged, and counts that could be "
            "subtracted from the same layer without a filter to give fewer than "
            f"{threshold} marks are hidden too."
        )
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
    cells = _cell_counts(request, layer_version(request.form), "maps.hexagons raw")
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
    selection = _selection(request, layer_version(request.form), "maps.points raw")
    columns, keep = selection.columns, selection.keep()
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
    version = layer_version(request.form)
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
    selection = _selection(request, version, f"maps.areas {scope}")
    categories = columns_of(request.question)
    columns = selection.columns
    names = [candidate.name for candidate, _ in area.areas]
    where = _area_of_marks(columns, [candidate for candidate, _ in area.areas])
    codes = (
        columns.category.astype(np.int64)
        if request.question.categories
        else np.zeros(len(columns), dtype=np.int64)
    )

    def counts_for(active: frozenset[int]) -> Counts:
        keep = selection.keep(active) & (where >= 0) & (codes >= 0)
        width = len(categories)
        tally = np.bincount(
            where[keep] * width + codes[keep], minlength=len(names) * width
        ).reshape(-1, width)
        return {
            name: dict(zip(categories, row, strict=True))
            for name, row in zip(names, tally.tolist(), strict=True)
        }

    gate = LayerGate(counts_for, len(selection.masks), categories, threshold)
    counts = gate.counts(gate.full)
    keep = selection.keep()
    outside = int(np.count_nonzero(keep & (where < 0) & (codes >= 0)))
    layer = _base(request, "areas", scope)
    for candidate, boundary in area.areas:
        exact = dict(counts[candidate.name])
        if scope == "published":
            entry = gate.fixed(candidate.name)
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
        f"Published layer: counts below {threshold} marks, and counts that would reveal them "
        "(from the totals or by subtraction from the same layer without a filter), "
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


def _area_of_marks(columns: MarkColumns, areas: list[Any]) -> NDArray[np.int64]:
    """Each mark's area (index into `areas`), -1 outside every area.

    The area stored with the answer (places/assignment.py), so that the map, the places
    API and every other figure by area count each answer in the same place.
    """
    position = {area.pk: index for index, area in enumerate(areas)}
    lookup = np.full(max(position, default=0) + 2, -1, dtype=np.int64)
    for pk, index in position.items():
        lookup[pk] = index
    inside = (columns.area >= 0) & (columns.area < lookup.size)
    where = np.full(len(columns), -1, dtype=np.int64)
    where[inside] = lookup[columns.area[inside]]
    return where


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
