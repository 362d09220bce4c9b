"""Web pages for a project's areas and named places: a map, a table, and editors' forms.

Anyone who may view the project sees the map and the table; people who may edit it
draw or change areas and add or remove named places. Every change goes through a
service (drawn_areas, services); refused input shows the page again with the reason
and status 422, having changed nothing.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from incity.accounts import access
from incity.accounts.audit import Origin
from incity.accounts.models import Project
from incity.accounts.permissions import ProjectAction
from incity.errors import InvalidInput, NotFound
from incity.places import drawn_areas, queries, services
from incity.places.geometry import project_area
from incity.places.models import Area, AreaKind, PlaceKind
from incity.web.guards import domain_errors, signed_in_user


def _origin(request: HttpRequest) -> Origin:
    return Origin.from_request(request)


def _map_data(project: Project, highlight: int | None = None) -> dict[str, Any]:
    """What areas.js draws: the basemap settings, the areas and the named places."""
    areas = list(queries.project_areas(project))
    places = list(queries.project_places(project))
    area = project_area(project)
    bounds: list[float] | None = None
    if area is not None:
        bounds = [round(value, 6) for value in area.bounds]
    elif places:
        lons, lats = [p.lon for p in places], [p.lat for p in places]
        bounds = [min(lons), min(lats), max(lons), max(lats)]
    plan = queries.plan_image(project)
    return {
        "map": {
            "tile_url": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            # No area limits where a vertex may go: an area may well reach beyond the others.
            "area": None,
            "bounds": bounds,
            "plan_image": (
                {
                    "url": queries.plan_image_url(plan),
                    "bounds": [plan.west, plan.south, plan.east, plan.north],
                }
                if plan is not None
                else None
            ),
        },
        "areas": {
            "type": "FeatureCollection",
            "features": [queries.area_feature(a) for a in areas if a.boundary],
        },
        "places": [
            {"id": p.pk, "name": p.name, "kind": p.kind, "lon": p.lon, "lat": p.lat} for p in places
        ],
        "highlight": highlight,
    }


def _map_strings() -> dict[str, str]:
    """The words areas.js and sketch.js show, in the page's language."""
    return {
        "mapLabel": _("Map of the project's areas and named places"),
        "offline": _("The basemap could not load; the areas are drawn on a plain background."),
        "tapVertices": _("Click the map at each corner of the area, in order."),
        "tapPoint": _("Click the map where the place is."),
        "centre": _("Use the map's centre"),
        "centreVertex": _("Add the map's centre as a corner"),
        "undo": _("Undo the last corner"),
        "clear": _("Start again"),
        "finish": _("Finish the area"),
        "vertices": _("{n} corners drawn."),
        "tooFew": _("An area needs at least 3 corners; {n} drawn so far."),
        "finished": _("The area is drawn; name it below and save."),
        "pointSet": _("Place set at longitude {lon}, latitude {lat}."),
        "modeLegend": _("Clicks on the map"),
        "modeArea": _("draw an area"),
        "modePlace": _("place the named place"),
        "outside": "",
        "myLocation": _("My location"),
        "locating": _("Finding your location…"),
        "located": _("Location found (within {m} m)."),
        "noLocation": _("No location: {reason}"),
    }


def _render(
    request: HttpRequest,
    project: Project,
    *,
    template: str = "places/project.html",
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    user = signed_in_user(request)
    highlight = extra["area"].pk if isinstance(extra.get("area"), Area) else None
    context: dict[str, Any] = {
        "project": project,
        "may_edit": access.can_project(user, ProjectAction.EDIT_PROJECT, project),
        "areas": queries.project_areas(project),
        "places": queries.project_places(project).select_related("area"),
        "area_kinds": AreaKind.choices,
        "place_kinds": PlaceKind.choices,
        "map_data": _map_data(project, highlight),
        "map_strings": _map_strings(),
        "area_entered": {},
        "place_entered": {},
        "problem": None,
        **extra,
    }
    return render(request, template, context, status=status)


def _refused(
    request: HttpRequest, project: Project, error: InvalidInput, form: str, **extra: Any
) -> HttpResponse:
    problem = {"form": form, "field": error.field, "message": error.message}
    extra[f"{form}_entered"] = extra.pop("entered")
    return _render(request, project, status=422, problem=problem, **extra)


@require_safe
@login_required
@domain_errors
def places_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = access.get_project(signed_in_user(request), slug, ProjectAction.VIEW_PROJECT)
    return _render(request, project)


def _area_fields(request: HttpRequest) -> dict[str, str]:
    return {
        "name": request.POST.get("name", ""),
        "code": request.POST.get("code", ""),
        "kind": request.POST.get("kind", AreaKind.NEIGHBOURHOOD.value),
        "geometry": request.POST.get("geometry", ""),
        "repair": "on" if request.POST.get("repair") else "",
    }


def _save_area(
    request: HttpRequest, project: Project, entered: dict[str, str], area: Area | None
) -> HttpResponse | None:
    """Save the area; None when it was saved, else the page with the refusal."""
    text = entered["geometry"]
    try:
        # On an existing area an empty boundary field keeps the boundary it has.
        geometry = (
            None if area is not None and not text.strip() else drawn_areas.geometry_from_text(text)
        )
        saved = drawn_areas.save_drawn_area(
            acting_user=signed_in_user(request),
            origin=_origin(request),
            project_slug=project.slug,
            name=entered["name"],
            code=entered["code"],
            kind=entered["kind"],
            geometry=geometry,
            area_id=area.pk if area is not None else None,
            repair=bool(entered["repair"]),
        )
    except InvalidInput as error:
        if area is None:
            return _refused(request, project, error, "area", entered=entered)
        return _refused(
            request, project, error, "area", template="places/area.html", area=area, entered=entered
        )
    note = (
        _(" The drawing crossed itself (%(reason)s).") % {"reason": saved.repaired}
        if saved.repaired
        else ""
    )
    done = _("The area %(name)s is saved.") if saved.created else _("The area %(name)s is changed.")
    messages.success(request, (done % {"name": saved.area.name}) + note)
    return None


@require_POST
@login_required
@domain_errors
def area_new(request: HttpRequest, slug: str) -> HttpResponse:
    project = access.get_project(signed_in_user(request), slug, ProjectAction.EDIT_PROJECT)
    refused = _save_area(request, project, _area_fields(request), None)
    return refused or redirect("places:project", slug=project.slug)


def _project_area(project: Project, area_id: int) -> Area:
    area = queries.project_areas(project).filter(pk=area_id).first()
    if area is None:
        raise NotFound(f"The project has no area {area_id}.", area=area_id)
    return area


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@domain_errors
def area_edit(request: HttpRequest, slug: str, area_id: int) -> HttpResponse:
    project = access.get_project(signed_in_user(request), slug, ProjectAction.EDIT_PROJECT)
    area = _project_area(project, area_id)
    if request.method != "POST":
        entered = {
            "name": area.name,
            "code": area.code,
            "kind": area.kind,
            "geometry": "",
            "repair": "on",
        }
        return _render(
            request, project, template="places/area.html", area=area, area_entered=entered
        )
    refused = _save_area(request, project, _area_fields(request), area)
    return refused or redirect("places:project", slug=project.slug)


def _coordinate(text: str, field: str, limit: float) -> float:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        what = "longitude" if field == "lon" else "latitude"
        raise InvalidInput(
            field, f"The {what} must be a number from -{limit:g} to {limit:g} (got '{text[:30]}')."
        )
    return value


@require_POST
@login_required
@domain_errors
def place_new(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    project = access.get_project(user, slug, ProjectAction.EDIT_PROJECT)
    entered = {key: request.POST.get(key, "") for key in ("name", "kind", "lon", "lat")}
    try:
        place = services.create_place(
            acting_user=user,
            origin=_origin(request),
            project_slug=project.slug,
            place=services.PlaceInput(
                name=entered["name"],
                kind=entered["kind"],
                lon=_coordinate(entered["lon"], "lon", 180.0),
                lat=_coordinate(entered["lat"], "lat", 90.0),
            ),
        )
    except InvalidInput as error:
        return _refused(request, project, error, "place", entered=entered)
    messages.success(request, _("The place %(name)s is added.") % {"name": place.name})
    return redirect("places:project", slug=project.slug)


@require_POST
@login_required
@domain_errors
def place_delete(request: HttpRequest, slug: str, place_id: int) -> HttpResponse:
    user = signed_in_user(request)
    project = access.get_project(user, slug, ProjectAction.EDIT_PROJECT)
    place = queries.get_place(user, project.slug, place_id)
    services.delete_place(
        acting_user=user, origin=_origin(request), project_slug=project.slug, place_id=place.pk
    )
    messages.success(request, _("The place %(name)s is removed.") % {"name": place.name})
    return redirect("places:project", slug=project.slug)
