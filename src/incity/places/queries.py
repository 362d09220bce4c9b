"""Guarded reads of areas, named places and plan images, and the map context for collection.

Reads by a person go through `accounts.access.get_project` (other tenants' projects
answer not found). `map_context` takes a project already resolved by its caller
(the collection app resolves it for the person, or for an anonymous public link).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from incity.accounts import access
from incity.accounts.access import AnyUser
from incity.accounts.models import Organisation, Project
from incity.accounts.permissions import ProjectAction
from incity.errors import NotFound
from incity.places.boundaries import to_geojson
from incity.places.geometry import TOLERANCE_METRES, project_area
from incity.places.models import Area, NamedPlace, PlanImage
from incity.surveys.definition import TIMES_OF_DAY

# Offered when a map_marks question has no category list of its own.
DEFAULT_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("safe", "A place where I feel safe"),
    ("unsafe", "A place where I feel unsafe"),
    ("resource", "A place or service that helps me"),
    ("meeting_place", "A place where I meet people"),
)


def viewable_project(user: AnyUser, slug: str) -> Project:
    return access.get_project(user, slug, ProjectAction.VIEW_PROJECT)


def project_areas(project: Project) -> QuerySet[Area]:
    return Area.objects.filter(projects=project).order_by("name")


def organisation_areas(organisation: Organisation) -> QuerySet[Area]:
    return Area.objects.filter(organisation=organisation).order_by("name")


def project_places(project: Project) -> QuerySet[NamedPlace]:
    return NamedPlace.objects.filter(project=project).order_by("name")


def get_place(user: AnyUser, slug: str, place_id: int) -> NamedPlace:
    project = viewable_project(user, slug)
    place = NamedPlace.objects.filter(project=project, pk=place_id).first()
    if place is None:
        raise NotFound(f"The project has no place {place_id}.", place=place_id)
    return place


def plan_image(project: Project) -> PlanImage | None:
    return PlanImage.objects.filter(project=project).first()


def plan_image_by_hash(project_slug: str, sha256: str) -> PlanImage:
    """The plan image whose URL holds this hash: the URL is the capability, as a tile's is."""
    plan = (
        PlanImage.objects.select_related("project")
        .filter(project__slug=project_slug, sha256=sha256)
        .first()
    )
    if plan is None:
        raise NotFound("No such plan image.")
    return plan


def plan_image_url(plan: PlanImage) -> str:
    suffix = ".png" if plan.content_type == "image/png" else ".jpg"
    return reverse(
        "places:plan_image",
        kwargs={"project": plan.project.slug, "sha256": plan.sha256, "suffix": suffix},
    )


def area_feature(area: Area) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": area.pk,
        "geometry": area.boundary,
        "properties": {
            "name": area.name,
            "code": area.code,
            "kind": area.kind,
            "is_synthetic": area.is_synthetic,
        },
    }


def place_row(place: NamedPlace, language: str = "") -> dict[str, Any]:
    return {
        "id": place.pk,
        "name": place.name,
        "label": place.translations.get(language, place.name) if language else place.name,
        "translations": place.translations,
        "kind": place.kind,
        "lon": place.lon,
        "lat": place.lat,
        "area": place.area.name if place.area else None,
        "is_synthetic": place.is_synthetic,
    }


def map_context(project: Project) -> dict[str, Any]:
    """Everything a map question needs about its project, JSON-safe (embedded in the page).

    `area` is the union of the project's areas as a GeoJSON geometry, `bounds`
    [west, south, east, north] (of the area, else of the plan image, else None).
    """
    area = project_area(project)
    plan = plan_image(project)
    bounds: list[float] | None = None
    if area is not None:
        bounds = [round(value, 6) for value in area.bounds]
    elif plan is not None:
        bounds = [plan.west, plan.south, plan.east, plan.north]
    places = project_places(project).select_related("area")
    return {
        "tile_url": settings.MAP_TILE_URL,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
        "area": to_geojson(area.union) if area is not None else None,
        "area_names": list(area.names) if area is not None else [],
        "tolerance_m": TOLERANCE_METRES,
        "bounds": bounds,
        "places": [
            {
                "id": place.pk,
                "name": place.name,
                "translations": place.translations,
                "kind": place.kind,
                "lon": place.lon,
                "lat": place.lat,
            }
            for place in places
        ],
        "plan_image": (
            {
                "url": plan_image_url(plan),
                "bounds": [plan.west, plan.south, plan.east, plan.north],
            }
            if plan is not None
            else None
        ),
        "categories": [{"name": name, "label": label} for name, label in DEFAULT_CATEGORIES],
        "times_of_day": list(TIMES_OF_DAY),
        "is_synthetic": project.is_synthetic,
    }
