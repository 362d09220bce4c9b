"""A project's area as shapely geometry: the union of its areas, containment, assignment.

`project_area(project)` is loaded once per Project instance (cached on it, like
roles are cached on the user), so checking a batch of 1,000 submissions costs one
query. Marks are checked against the area widened by `TOLERANCE_METRES`, so a
tap on the boundary line or a GPS fix a few metres off is not refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from incity.accounts.models import Project
from incity.places.models import Area

TOLERANCE_METRES = 50.0
_METRES_PER_DEGREE = 111_320.0
_CACHE_ATTRIBUTE = "_incity_project_area"


@dataclass(frozen=True)
class ProjectArea:
    """The union of a project's areas, each area kept for assignment."""

    union: BaseGeometry
    widened: BaseGeometry  # the union buffered by the tolerance, prepared for fast tests
    areas: tuple[tuple[Area, BaseGeometry], ...]
    names: tuple[str, ...]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        west, south, east, north = self.union.bounds
        return (west, south, east, north)

    def covers(self, geometry: BaseGeometry) -> bool:
        return bool(self.widened.covers(geometry))


def tolerance_degrees(latitude: float, metres: float = TOLERANCE_METRES) -> float:
    """Degrees of longitude that span `metres` at this latitude (the larger of lon and lat)."""
    cosine = max(math.cos(math.radians(latitude)), 0.01)
    return metres / (_METRES_PER_DEGREE * cosine)


def project_area(project: Project) -> ProjectArea | None:
    """The project's area, or None when the project has no areas with boundaries."""
    if hasattr(project, _CACHE_ATTRIBUTE):
        cached: ProjectArea | None = getattr(project, _CACHE_ATTRIBUTE)
        return cached
    area = _load_project_area(project)
    setattr(project, _CACHE_ATTRIBUTE, area)
    return area


def forget_project_area(project: Project) -> None:
    if hasattr(project, _CACHE_ATTRIBUTE):
        delattr(project, _CACHE_ATTRIBUTE)


def _load_project_area(project: Project) -> ProjectArea | None:
    areas = [
        (area, shape(area.boundary))
        for area in Area.objects.filter(projects=project).exclude(boundary=None).order_by("name")
    ]
    if not areas:
        return None
    union = shapely.union_all([geometry for _, geometry in areas])
    tolerance = tolerance_degrees(union.centroid.y)
    widened = union.buffer(tolerance)
    shapely.prepare(widened)
    for _, geometry in areas:
        shapely.prepare(geometry)
    return ProjectArea(
        union=union,
        widened=widened,
        areas=tuple(areas),
        names=tuple(area.name for area, _ in areas),
    )


def assign_area(project: Project, geometry: dict[str, Any] | BaseGeometry) -> Area | None:
    """The project area an answer's geometry belongs to, or None when it lies outside all.

    A point goes to the area containing it; a line or polygon to the area holding the
    largest share of it (by length or surface), so a street along a boundary is
    assigned once. Points on a shared boundary go to the first area by name.
    """
    area = project_area(project)
    if area is None:
        return None
    shapely_geometry = geometry if isinstance(geometry, BaseGeometry) else shape(geometry)
    if shapely_geometry.geom_type == "Point":
        for candidate, boundary in area.areas:
            if boundary.covers(shapely_geometry):
                return candidate
        return _nearest_within_tolerance(area, shapely_geometry)
    best: Area | None = None
    best_share = 0.0
    for candidate, boundary in area.areas:
        if not boundary.intersects(shapely_geometry):
            continue
        overlap = boundary.intersection(shapely_geometry)
        share = overlap.area if shapely_geometry.area > 0 else overlap.length
        if share > best_share:
            best, best_share = candidate, share
    return best or _nearest_within_tolerance(area, shapely_geometry.representative_point())


def _nearest_within_tolerance(area: ProjectArea, point: BaseGeometry) -> Area | None:
    tolerance = tolerance_degrees(point.y if point.geom_type == "Point" else area.union.centroid.y)
    nearest = min(area.areas, key=lambda pair: pair[1].distance(point))
    return nearest[0] if nearest[1].distance(point) <= tolerance else None


def outside_message(area: ProjectArea) -> str:
    shown = ", ".join(area.names[:5]) + (", …" if len(area.names) > 5 else "")
    return f"outside the project area ({shown})"
