"""API for a project's areas (boundary import), named places, plan image and map context."""

from __future__ import annotations

from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from incity.accounts import access
from incity.accounts.permissions import ProjectAction
from incity.api_context import api_origin, signed_in_user
from incity.errors import InvalidInput
from incity.places import area_answers, queries, services
from incity.places.models import AreaKind, NamedPlace, PlanImage

router = Router(tags=["places"])


def _upload(file: UploadedFile, limit: int, what: str, setting: str) -> bytes:
    if (file.size or 0) > limit:
        raise InvalidInput(
            "file", f"The {what} is larger than the {limit // 1024 // 1024} MB limit ({setting})."
        )
    return file.read()


# --- areas ---------------------------------------------------------------------------


class ImportOut(Schema):
    organisation: str
    project: str | None
    created: list[str]
    updated: list[str]
    repaired: list[str]


@router.get("/projects/{slug}/areas")
def list_areas(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The project's areas as a GeoJSON FeatureCollection (WGS84 longitude/latitude)."""
    project = queries.viewable_project(signed_in_user(request), slug)
    return {
        "type": "FeatureCollection",
        "features": [queries.area_feature(area) for area in queries.project_areas(project)],
    }


@router.post("/projects/{slug}/areas/import", response={201: ImportOut})
def import_areas(
    request: HttpRequest,
    slug: str,
    file: File[UploadedFile],
    name_field: Form[str] = "name",
    code_field: Form[str] = "",
    kind: Form[str] = AreaKind.NEIGHBOURHOOD.value,
    repair: Form[bool] = True,
) -> Status:
    """Import boundaries (GeoJSON, GeoPackage or zipped Shapefile) into the project's area.

    Areas are the organisation's: one with a name it already has gets the new boundary.
    Invalid geometries are repaired and listed in `repaired`, or refused with
    `repair=false`. Any problem refuses the whole file, naming the feature.
    """
    user = signed_in_user(request)
    access.get_project(user, slug, ProjectAction.EDIT_PROJECT)
    data = _upload(
        file, settings.BOUNDARY_UPLOAD_MAX_BYTES, "boundary file", "INCITY_BOUNDARY_UPLOAD_MAX_MB"
    )
    result = services.import_boundaries(
        acting_user=user,
        origin=api_origin(request),
        data=data,
        filename=file.name or "boundaries.geojson",
        project_slug=slug,
        name_field=name_field,
        code_field=code_field,
        kind=kind,
        repair=repair,
    )
    return Status(201, result.as_json())


class AreasIn(Schema):
    areas: list[int] = Field(..., max_length=5000)


class AreaOut(Schema):
    id: int
    name: str
    code: str
    kind: str


@router.put("/projects/{slug}/areas", response=list[AreaOut])
def set_areas(request: HttpRequest, slug: str, payload: AreasIn) -> list[Any]:
    """Make the project's area exactly these areas (ids of the organisation's areas)."""
    return services.set_project_areas(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        project_slug=slug,
        area_ids=payload.areas,
    )


class AreaAnswersQuery(Schema):
    form: int = Field(..., description="The form whose map questions are counted")
    scope: Literal["published", "raw"] = Field("published")


@router.get("/projects/{slug}/areas/answers")
def area_answer_counts(
    request: HttpRequest, slug: str, query: Query[AreaAnswersQuery]
) -> dict[str, Any]:
    """Per area of the project, how many people answered each map question of the form there.

    Published (the default; view_published) through the disclosure gate with the
    project's threshold: small counts are null, with the reason. `scope=raw`
    (view_raw_data, audited) adds the exact number of answers (marks) per cell.
    """
    return area_answers.area_answer_counts(
        signed_in_user(request), api_origin(request), slug, query.form, query.scope
    )


# --- named places -----------------------------------------------------------------------


class PlaceIn(Schema):
    name: str = Field(..., max_length=200)
    kind: str
    lon: float
    lat: float
    translations: dict[str, str] = Field(default_factory=dict)


class PlaceOut(Schema):
    id: int
    name: str
    label: str
    translations: dict[str, str]
    kind: str
    lon: float
    lat: float
    area: str | None
    is_synthetic: bool


def _input(payload: PlaceIn) -> services.PlaceInput:
    return services.PlaceInput(
        name=payload.name,
        kind=payload.kind,
        lon=payload.lon,
        lat=payload.lat,
        translations=payload.translations,
    )


def _out(place: NamedPlace) -> dict[str, Any]:
    return queries.place_row(place)


@router.get("/projects/{slug}/places", response=list[PlaceOut])
def list_places(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    project = queries.viewable_project(signed_in_user(request), slug)
    return [_out(place) for place in queries.project_places(project).select_related("area")]


@router.post("/projects/{slug}/places", response={201: PlaceOut})
def create_place(request: HttpRequest, slug: str, payload: PlaceIn) -> Status:
    place = services.create_place(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        project_slug=slug,
        place=_input(payload),
    )
    return Status(201, _out(place))


@router.get("/projects/{slug}/places/{place_id}", response=PlaceOut)
def get_place(request: HttpRequest, slug: str, place_id: int) -> dict[str, Any]:
    return _out(queries.get_place(signed_in_user(request), slug, place_id))


@router.put("/projects/{slug}/places/{place_id}", response=PlaceOut)
def update_place(
    request: HttpRequest, slug: str, place_id: int, payload: PlaceIn
) -> dict[str, Any]:
    place = services.update_place(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        project_slug=slug,
        place_id=place_id,
        place=_input(payload),
    )
    return _out(place)


@router.delete("/projects/{slug}/places/{place_id}", response={204: None})
def delete_place(request: HttpRequest, slug: str, place_id: int) -> Status:
    services.delete_place(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        project_slug=slug,
        place_id=place_id,
    )
    return Status(204, None)


# --- plan image ---------------------------------------------------------------------


class PlanOut(Schema):
    url: str
    content_type: str
    size: int
    width: int
    height: int
    bounds: list[float]


def _plan_out(plan: PlanImage) -> dict[str, Any]:
    return {
        "url": queries.plan_image_url(plan),
        "content_type": plan.content_type,
        "size": plan.size,
        "width": plan.width,
        "height": plan.height,
        "bounds": [plan.west, plan.south, plan.east, plan.north],
    }


@router.post("/projects/{slug}/plan-image", response={201: PlanOut})
def upload_plan_image(
    request: HttpRequest,
    slug: str,
    file: File[UploadedFile],
    west: Form[float],
    south: Form[float],
    east: Form[float],
    north: Form[float],
) -> Status:
    """A PNG or JPEG plan laid over the map between its south-west (west, south) and
    north-east (east, north) corners; replaces the project's previous plan."""
    user = signed_in_user(request)
    access.get_project(user, slug, ProjectAction.EDIT_PROJECT)
    data = _upload(file, settings.PLAN_IMAGE_MAX_BYTES, "image", "INCITY_PLAN_IMAGE_MAX_MB")
    plan = services.set_plan_image(
        acting_user=user,
        origin=api_origin(request),
        project_slug=slug,
        data=data,
        corners=services.Corners(west=west, south=south, east=east, north=north),
    )
    return Status(201, _plan_out(plan))


@router.delete("/projects/{slug}/plan-image", response={204: None})
def delete_plan_image(request: HttpRequest, slug: str) -> Status:
    services.remove_plan_image(
        acting_user=signed_in_user(request), origin=api_origin(request), project_slug=slug
    )
    return Status(204, None)


# --- map context ------------------------------------------------------------------------


@router.get("/projects/{slug}/map-context")
def map_context(request: HttpRequest, slug: str) -> dict[str, Any]:
    """What a map question needs: tiles, the project's area, named places, plan image."""
    return queries.map_context(queries.viewable_project(signed_in_user(request), slug))
