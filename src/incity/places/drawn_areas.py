"""Areas drawn (or typed as GeoJSON) on a project's places page: a new area, or a changed one.

A drawn boundary passes the same checks as an imported boundary file (closed rings,
longitude/latitude in range, self-intersections repaired and reported, or refused).
Kept beside `services` (whose helpers it uses) so neither file grows past a screenful.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import shapely
from django.db import transaction
from shapely.geometry import shape

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, Organisation, Project, User
from incity.errors import InvalidInput, NotFound
from incity.places.assignment import reassign_projects_of
from incity.places.boundaries import _check_polygons, _polygonal, _range_problem, to_geojson
from incity.places.geometry import assign_area, forget_project_area
from incity.places.models import Area, AreaKind, NamedPlace
from incity.places.services import _kind, _project_for_editing


@dataclass(frozen=True)
class DrawnArea:
    area: Area
    created: bool
    repaired: str  # why shapely found the drawing invalid and how it was repaired, or ""


def geometry_from_text(text: str) -> dict[str, Any]:
    """A drawn or typed GeoJSON Polygon/MultiPolygon (bare, or as a Feature) from page text."""
    if not (text or "").strip():
        raise InvalidInput(
            "geometry", "Draw the area on the map (at least 3 points) or enter it as GeoJSON."
        )
    try:
        document = json.loads(text)
    except json.JSONDecodeError as problem:
        raise InvalidInput(
            "geometry",
            f"The boundary is not valid GeoJSON: {problem.msg} at line {problem.lineno}, "
            f"column {problem.colno}.",
        ) from None
    if isinstance(document, dict) and document.get("type") == "Feature":
        document = document.get("geometry")
    if not isinstance(document, dict):
        raise InvalidInput(
            "geometry", "The boundary must be a GeoJSON Polygon or MultiPolygon object."
        )
    return document


def _drawn_shape(geometry: dict[str, Any], repair: bool) -> tuple[dict[str, Any], str]:
    """The checks every imported boundary passes, worded for one drawn area."""
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(
            "geometry",
            f"The boundary is a {str(kind)[:30]}; an area must be a Polygon or MultiPolygon.",
        )
    coordinates = geometry.get("coordinates")
    message = _check_polygons([coordinates] if kind == "Polygon" else coordinates)
    if message:
        raise InvalidInput("geometry", f"The boundary's {message}")
    drawn = shape(geometry)
    message = _range_problem(drawn)
    if message:
        raise InvalidInput("geometry", f"In the boundary, {message}")
    repaired = ""
    if not drawn.is_valid:
        reason = shapely.is_valid_reason(drawn)
        repaired_shape = _polygonal(shapely.make_valid(drawn)) if repair else None
        if repaired_shape is None:
            hint = "" if repair else " Allow repair, or redraw it so its edges do not cross."
            raise InvalidInput(
                "geometry",
                f"The boundary is not a valid area ({reason})"
                + (" and could not be repaired." if repair else ".")
                + hint,
            )
        drawn = repaired_shape
        repaired = f"{reason}; repaired"
    if drawn.is_empty or drawn.area == 0:
        raise InvalidInput("geometry", "The boundary encloses no area: its points lie on a line.")
    return to_geojson(drawn), repaired


def _clean_area_labels(
    organisation: Organisation, name: str, code: str, exclude: int | None
) -> tuple[str, str]:
    name, code = (name or "").strip(), (code or "").strip()
    if not name:
        raise InvalidInput("name", "Give the area a name.")
    if len(name) > 200:
        raise InvalidInput("name", "The area's name is longer than 200 characters.")
    if len(code) > 64:
        raise InvalidInput("code", "The area's code is longer than 64 characters.")
    others = Area.objects.filter(organisation=organisation)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.filter(name__iexact=name).exists():
        raise InvalidInput(
            "name", f"{organisation.name} already has an area named '{name}'; choose another name."
        )
    if code and others.filter(code=code).exists():
        raise InvalidInput(
            "code", f"{organisation.name} already has an area with the code '{code}'."
        )
    return name, code


def _reassign_places(project: Project) -> None:
    # A changed boundary can move named places into or out of an area.
    forget_project_area(project)
    for named in NamedPlace.objects.filter(project=project):
        area = assign_area(project, {"type": "Point", "coordinates": [named.lon, named.lat]})
        if named.area_id != (area.pk if area else None):
            named.area = area
            named.save(update_fields=["area"])


@transaction.atomic
def save_drawn_area(
    *,
    acting_user: User | None,
    origin: Origin,
    project_slug: str,
    name: str,
    code: str = "",
    kind: str = AreaKind.NEIGHBOURHOOD,
    geometry: dict[str, Any] | None,
    area_id: int | None = None,
    repair: bool = True,
) -> DrawnArea:
    """Add an area drawn on the map to the project, or change one of the project's areas
    (its name, code, kind and, when `geometry` is given, its boundary).

    The boundary passes the same checks as an imported one: closed rings, longitude and
    latitude in range, a self-intersecting ring repaired (reported) or refused.
    """
    project = _project_for_editing(acting_user, project_slug)
    area_kind = _kind(kind)
    area: Area | None = None
    if area_id is not None:
        area = Area.objects.select_for_update().filter(projects=project, pk=area_id).first()
        if area is None:
            raise NotFound(f"The project has no area {area_id}.", area=area_id)
    elif geometry is None:
        raise InvalidInput(
            "geometry", "Draw the area on the map (at least 3 points) or enter it as GeoJSON."
        )
    clean_name, clean_code = _clean_area_labels(
        project.organisation, name, code, area.pk if area else None
    )
    boundary, repaired = _drawn_shape(geometry, repair) if geometry is not None else (None, "")
    created = area is None
    previous_kind = area.kind if area is not None else area_kind
    if area is None:
        area = Area.objects.create(
            organisation=project.organisation,
            name=clean_name,
            code=clean_code,
            kind=area_kind,
            boundary=boundary,
            is_synthetic=project.organisation.is_synthetic,
        )
        project.areas.add(area)
    else:
        area.name, area.code, area.kind = clean_name, clean_code, area_kind
        if boundary is not None:
            area.boundary = boundary
        area.save(update_fields=["name", "code", "kind", "boundary"])
    _reassign_places(project)
    if created or boundary is not None or area.kind != previous_kind:
        # A new or moved boundary (or a new kind, which ranks overlapping areas) moves
        # answers, in every project that uses the area.
        reassign_projects_of([area], also=project)
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="places.draw_area" if created else "places.edit_area",
        project=project,
        target=area,
        detail={
            "name": area.name,
            "code": area.code,
            "boundary_changed": boundary is not None,
            "repaired": repaired,
        },
    )
    return DrawnArea(area=area, created=created, repaired=repaired)
