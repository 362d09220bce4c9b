"""Every write to places: boundary imports, a project's areas, named places, plan images.

Each function is keyword-only and atomic, takes the acting user (None for the
machine operator at the command line) and the origin, and writes an audit row.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from shapely.geometry import shape

from incity.accounts import access
from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, Organisation, Project, User
from incity.accounts.permissions import ProjectAction
from incity.errors import InvalidInput, NotFound
from incity.places.assignment import reassign_project, reassign_projects_of
from incity.places.boundaries import Boundary, looks_swapped, read_boundaries
from incity.places.geometry import assign_area, forget_project_area
from incity.places.models import Area, AreaKind, NamedPlace, PlaceKind, PlanImage

PLAN_IMAGE_TYPES = {"PNG": ("image/png", ".png"), "JPEG": ("image/jpeg", ".jpg")}
MAX_PLAN_PIXELS = 40_000_000
MAX_PLAN_SPAN_DEGREES = 2.0


@dataclass
class BoundaryImport:
    organisation: Organisation
    project: Project | None
    created: list[Area] = field(default_factory=list)
    updated: list[Area] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "organisation": self.organisation.slug,
            "project": self.project.slug if self.project else None,
            "created": [area.name for area in self.created],
            "updated": [area.name for area in self.updated],
            "repaired": self.repaired,
        }


def _project_for_editing(user: User | None, slug: str) -> Project:
    if user is None:
        project = Project.objects.select_related("organisation").filter(slug=slug).first()
        if project is None:
            raise NotFound(f"No project '{slug}'.", project=slug)
        return project
    return access.get_project(user, slug, ProjectAction.EDIT_PROJECT)


def _organisation(
    user: User | None, organisation_slug: str, project: Project | None
) -> Organisation:
    if project is not None:
        if organisation_slug and organisation_slug != project.organisation.slug:
            raise InvalidInput(
                "organisation",
                f"The project '{project.slug}' belongs to '{project.organisation.slug}', "
                f"not '{organisation_slug}'.",
            )
        return project.organisation
    if user is not None:
        # People import through a project they may edit; only the operator imports for
        # an organisation as a whole.
        raise InvalidInput("project", "Name the project the boundaries are for.")
    organisation = Organisation.objects.filter(slug=organisation_slug).first()
    if organisation is None:
        raise NotFound(f"No organisation '{organisation_slug}'.", organisation=organisation_slug)
    return organisation


def _kind(kind: str) -> AreaKind:
    if kind not in AreaKind.values:
        raise InvalidInput(
            "kind", f"The kind '{kind[:40]}' is not one of: {', '.join(AreaKind.values)}."
        )
    return AreaKind(kind)


@transaction.atomic
def import_boundaries(
    *,
    acting_user: User | None,
    origin: Origin,
    data: bytes,
    filename: str,
    organisation_slug: str = "",
    project_slug: str = "",
    name_field: str = "name",
    code_field: str = "",
    kind: str = AreaKind.NEIGHBOURHOOD,
    repair: bool = True,
) -> BoundaryImport:
    """Import areas from a boundary file; areas with a name already held are given the new
    boundary. With a project, the areas are also added to the project's area."""
    project = _project_for_editing(acting_user, project_slug) if project_slug else None
    organisation = _organisation(acting_user, organisation_slug, project)
    area_kind = _kind(kind)
    if len(data) > settings.BOUNDARY_UPLOAD_MAX_BYTES:
        raise InvalidInput(
            "file",
            f"The boundary file is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{settings.BOUNDARY_UPLOAD_MAX_BYTES // 1024 // 1024} MB "
            "(INCITY_BOUNDARY_UPLOAD_MAX_MB).",
        )
    if not (name_field or "").strip():
        raise InvalidInput("name_field", "Name the property that holds each area's name.")
    boundaries = read_boundaries(
        data, filename, name_field=name_field.strip(), code_field=code_field.strip(), repair=repair
    )
    held = list(Area.objects.select_for_update().filter(organisation=organisation))
    _refuse_swapped(organisation, boundaries, held)
    existing = {area.name.casefold(): area for area in held}
    result = BoundaryImport(organisation=organisation, project=project)
    for boundary in boundaries:
        area = existing.get(boundary.name.casefold())
        if area is None:
            area = Area.objects.create(
                organisation=organisation,
                name=boundary.name,
                code=boundary.code,
                kind=area_kind,
                boundary=boundary.geometry,
                is_synthetic=organisation.is_synthetic,
            )
            result.created.append(area)
        else:
            area.boundary = boundary.geometry
            area.code = boundary.code or area.code
            area.kind = area_kind
            area.save(update_fields=["boundary", "code", "kind"])
            result.updated.append(area)
        if boundary.repaired:
            result.repaired.append(boundary.repaired)
    if project is not None:
        project.areas.add(*(result.created + result.updated))
        forget_project_area(project)
    # New boundaries move answers between areas, in every project that uses them.
    reassign_projects_of(result.created + result.updated, also=project)
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="places.import_boundaries",
        organisation=organisation,
        project=project,
        detail={
            "file": filename[:200],
            "created": len(result.created),
            "updated": len(result.updated),
            "repaired": len(result.repaired),
        },
    )
    return result


def _refuse_swapped(
    organisation: Organisation, boundaries: list[Boundary], held: list[Area]
) -> None:
    shapes = [shape(area.boundary) for area in held if area.boundary]
    if shapes and looks_swapped(boundaries, shapely.union_all(shapes)):
        raise InvalidInput(
            "file",
            f"The boundaries lie far from {organisation.name}'s other areas but would overlap "
            "them with longitude and latitude exchanged: the coordinates look swapped "
            "(GeoJSON puts longitude first). Nothing was imported.",
        )


@transaction.atomic
def set_project_areas(
    *, acting_user: User | None, origin: Origin, project_slug: str, area_ids: list[int]
) -> list[Area]:
    """Make the project's area exactly these areas of its organisation."""
    project = _project_for_editing(acting_user, project_slug)
    wanted = sorted(set(area_ids))
    areas = list(Area.objects.filter(organisation=project.organisation, pk__in=wanted))
    unknown = sorted(set(wanted) - {area.pk for area in areas})
    if unknown:
        raise InvalidInput(
            "areas",
            f"{project.organisation.name} has no area with the id "
            + ", ".join(str(pk) for pk in unknown)
            + ".",
        )
    project.areas.set(areas)
    forget_project_area(project)
    reassign_project(project)
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="places.set_project_areas",
        project=project,
        detail={"areas": [area.pk for area in areas]},
    )
    return areas


# ------------------------------------------------------------------- named places


@dataclass(frozen=True)
class PlaceInput:
    name: str
    kind: str
    lon: float
    lat: float
    translations: dict[str, str] = field(default_factory=dict)


def _clean_place(project: Project, place: PlaceInput, exclude: int | None = None) -> PlaceInput:
    name = (place.name or "").strip()
    if not name:
        raise InvalidInput("name", "Give the place a name.")
    if len(name) > 200:
        raise InvalidInput("name", "The name is longer than 200 characters.")
    if place.kind not in PlaceKind.values:
        raise InvalidInput("kind", f"The kind must be one of: {', '.join(PlaceKind.values)}.")
    for label, value, limit in (("lon", place.lon, 180.0), ("lat", place.lat, 90.0)):
        if not isinstance(value, int | float) or not math.isfinite(value) or abs(value) > limit:
            raise InvalidInput(label, f"{label} must be a number from -{limit:g} to {limit:g}.")
    translations: dict[str, str] = {}
    for language, text in (place.translations or {}).items():
        if not isinstance(text, str) or not text.strip() or len(text) > 200:
            raise InvalidInput(
                f"translations.{language}", "Each translation is a name of 1-200 characters."
            )
        translations[str(language)[:64]] = text.strip()
    clash = NamedPlace.objects.filter(project=project, name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise InvalidInput("name", f"The project already has a place named '{name}'.")
    return PlaceInput(name, place.kind, float(place.lon), float(place.lat), translations)


@transaction.atomic
def create_place(
    *, acting_user: User | None, origin: Origin, project_slug: str, place: PlaceInput
) -> NamedPlace:
    project = _project_for_editing(acting_user, project_slug)
    clean = _clean_place(project, place)
    named = NamedPlace.objects.create(
        organisation=project.organisation,
        project=project,
        name=clean.name,
        translations=clean.translations,
        kind=clean.kind,
        lon=clean.lon,
        lat=clean.lat,
        area=assign_area(project, {"type": "Point", "coordinates": [clean.lon, clean.lat]}),
        is_synthetic=project.is_synthetic,
    )
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="places.create_place",
        project=project,
        target=named,
        detail={"name": named.name, "kind": named.kind},
    )
    return named


def _place(project: Project, place_id: int) -> NamedPlace:
    named = NamedPlace.objects.filter(project=project, pk=place_id).first()
    if named is None:
        raise NotFound(f"The project has no place {place_id}.", place=place_id)
    return named


@transaction.atomic
def update_place(
    *,
    acting_user: User | None,
    origin: Origin,
    project_slug: str,
    place_id: int,
    place: PlaceInput,
) -> NamedPlace:
    project = _project_for_editing(acting_user, project_slug)
    named = _place(project, place_id)
    clean = _clean_place(project, place, exclude=named.pk)
    named.name, named.kind, named.translations = clean.name, clean.kind, clean.translations
    named.lon, named.lat = clean.lon, clean.lat
    named.area = assign_area(project, {"type": "Point", "coordinates": [clean.lon, clean.lat]})
    named.save(update_fields=["name", "kind", "translations", "lon", "lat", "area"])
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="places.update_place",
        project=project,
        target=named,
        detail={"name": named.name, "kind": named.kind},
    )
    return named


@transaction.atomic
def delete_place(
    *, acting_user: User | None, origin: Origin, project_slug: str, place_id: int
) -> None:
    project = _project_for_editing(acting_user, project_slug)
    named = _place(project, place_id)
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="places.delete_place",
        project=project,
        target=named,
        detail={"name": named.name},
    )
    named.delete()


# -------------------------------------------------------------------- plan images


@dataclass(frozen=True)
class Corners:
    """The plan's south-west and north-east corners in longitude/latitude."""

    west: float
    south: float
    east: float
    north: float


def _check_corners(corners: Corners) -> None:
    for name in ("west", "east"):
        value = getattr(corners, name)
        if not math.isfinite(value) or abs(value) > 180:
            raise InvalidInput(name, f"The {name} longitude must be from -180 to 180.")
    for name in ("south", "north"):
        value = getattr(corners, name)
        if not math.isfinite(value) or abs(value) > 90:
            raise InvalidInput(name, f"The {name} latitude must be from -90 to 90.")
    if corners.west >= corners.east:
        raise InvalidInput(
            "east", "The north-east corner's longitude must be east of the south-west corner's."
        )
    if corners.south >= corners.north:
        raise InvalidInput(
            "north", "The north-east corner's latitude must be north of the south-west corner's."
        )
    if corners.east - corners.west > MAX_PLAN_SPAN_DEGREES or (
        corners.north - corners.south > MAX_PLAN_SPAN_DEGREES
    ):
        raise InvalidInput(
            "corners",
            f"The plan spans more than {MAX_PLAN_SPAN_DEGREES:g} degrees; a neighbourhood plan "
            "is much smaller. Check the corners (longitude first, then latitude).",
        )


def _read_image(data: bytes) -> tuple[str, str, int, int]:
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise InvalidInput("file", "The image file is empty.")
    if len(data) > settings.PLAN_IMAGE_MAX_BYTES:
        raise InvalidInput(
            "file",
            f"The image is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{settings.PLAN_IMAGE_MAX_BYTES // 1024 // 1024} MB (INCITY_PLAN_IMAGE_MAX_MB).",
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
            width, height = image.size
            if image_format in PLAN_IMAGE_TYPES and width * height <= MAX_PLAN_PIXELS:
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput("file", "The file is not a readable PNG or JPEG image.") from None
    if image_format not in PLAN_IMAGE_TYPES:
        raise InvalidInput("file", f"The image is {image_format}; upload a PNG or JPEG.")
    if width * height > MAX_PLAN_PIXELS:
        raise InvalidInput(
            "file", f"The image is {width}x{height} pixels; the limit is 40 megapixels."
        )
    content_type, suffix = PLAN_IMAGE_TYPES[image_format]
    return content_type, suffix, width, height


@transaction.atomic
def set_plan_image(
    *,
    acting_user: User | None,
    origin: Origin,
    project_slug: str,
    data: bytes,
    corners: Corners,
) -> PlanImage:
    """Upload (or replace) the project's plan image, laid between two corners."""
    project = _project_for_editing(acting_user, project_slug)
    _check_corners(corners)
    content_type, suffix, width, height = _read_image(data)
    digest = hashlib.sha256(data).hexdigest()
    previous = PlanImage.objects.filter(project=project).first()
    if previous is not None:
        # The old file goes only once the new plan is committed.
        old_file = previous.file.name
        transaction.on_commit(lambda: previous.file.storage.delete(old_file))
        previous.delete()
    plan = PlanImage(
        project=project,
        content_type=content_type,
        sha256=digest,
        size=len(data),
        width=width,
        height=height,
        west=corners.west,
        south=corners.south,
        east=corners.east,
        north=corners.north,
        uploaded_by=acting_user,
    )
    plan.file.save(f"plan{suffix}", ContentFile(data), save=False)
    plan.save()
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="places.set_plan_image",
        project=project,
        target=plan,
        detail={"size": len(data), "width": width, "height": height},
    )
    return plan


@transaction.atomic
def remove_plan_image(*, acting_user: User | None, origin: Origin, project_slug: str) -> None:
    project = _project_for_editing(acting_user, project_slug)
    plan = PlanImage.objects.filter(project=project).first()
    if plan is None:
        raise NotFound("The project has no plan image.")
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="places.remove_plan_image",
        project=project,
        target=plan,
    )
    stored = plan.file.name
    transaction.on_commit(lambda: plan.file.storage.delete(stored))
    plan.delete()
