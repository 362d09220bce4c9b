"""Where collection happened: exact points for roles that read raw data, hexagons for the rest.

The points come from the typed answers of geopoint questions (the location the
collector's device recorded, `geopoint` and `start-geopoint`). A resident's
`map_marks` answers are what she said about places, not where she was asked:
they never appear here, for any role. Geotraces and geoshapes are left out too:
they describe places, not where collection happened.

Roles that may not read raw data see H3 hexagons (resolution 8, about 0.7 km²)
counting submissions; a cell with fewer submissions than the project's
disclosure threshold is suppressed, so a handful of doorsteps cannot be told
apart.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import cast

import h3
from django.db.models import Q, QuerySet

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, Project, User
from incity.fieldwork.models import PUBLIC_LINK
from incity.surveys.definition import walk
from incity.surveys.models import Answer, Form, FormVersion, Submission
from incity.surveys.services.typed import derive_typed_answers

H3_RESOLUTION = 8
COLLECTION_POINT_TYPES = frozenset({"geopoint", "start-geopoint"})
# The most points drawn and listed; the total is always given.
MAX_POINTS = 2000


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    received_at: dt.datetime
    form_id: str
    collector: str


@dataclass(frozen=True)
class Cell:
    index: str
    count: int
    centre: tuple[float, float]
    boundary: list[tuple[float, float]]


@dataclass(frozen=True)
class CollectionMap:
    """Exactly one of `points` (exact) or `cells` (hexagons) is given."""

    exact: bool
    located: int
    points: list[Point] | None
    cells: list[Cell] | None
    suppressed_cells: int
    threshold: int
    resolution: int = H3_RESOLUTION


def collection_point_names(forms: list[Form]) -> dict[int, set[str]]:
    """Each form's geopoint question names across its versions, minus any name ever a map mark."""
    points: dict[int, set[str]] = defaultdict(set)
    marks: dict[int, set[str]] = defaultdict(set)
    versions = FormVersion.objects.filter(form__in=forms).values_list("form_id", "definition")
    for form_pk, definition in versions:
        for element, _ in walk(definition.get("children", [])):
            if element["type"] in COLLECTION_POINT_TYPES:
                points[form_pk].add(element["name"])
            elif element["type"] == "map_marks":
                marks[form_pk].add(element["name"])
    return {pk: names - marks[pk] for pk, names in points.items() if names - marks[pk]}


def _located_answers(forms: list[Form], rows: QuerySet[Submission]) -> QuerySet[Answer]:
    names = collection_point_names(forms)
    if not names:
        return Answer.objects.none()
    for form in forms:
        if form.pk in names:
            # Typed answers of batches are written lazily; readers derive them first.
            derive_typed_answers(form=form)
    which = Q(pk__in=[])
    for form_pk, form_names in names.items():
        which |= Q(form_id=form_pk, name__in=sorted(form_names))
    return Answer.objects.filter(
        which,
        kind="geometry",
        lat__isnull=False,
        lon__isnull=False,
        submission__in=rows.order_by().values("pk"),
    )


def hexagon_cells(
    located: list[tuple[int, float | None, float | None]], threshold: int
) -> tuple[list[Cell], int]:
    """Submissions per H3 cell (each counted once per cell), cells under `threshold` removed."""
    submissions_by_cell: dict[str, set[int]] = defaultdict(set)
    for submission_pk, lat, lon in located:
        if lat is None or lon is None:
            continue
        submissions_by_cell[h3.latlng_to_cell(lat, lon, H3_RESOLUTION)].add(submission_pk)
    shown: list[Cell] = []
    suppressed = 0
    for index, submissions in sorted(submissions_by_cell.items()):
        if len(submissions) < threshold:
            suppressed += 1
            continue
        shown.append(
            Cell(
                index=index,
                count=len(submissions),
                centre=h3.cell_to_latlng(index),
                boundary=list(h3.cell_to_boundary(index)),
            )
        )
    shown.sort(key=lambda cell: (-cell.count, cell.index))
    return shown, suppressed


def collection_map(
    *,
    user: User,
    origin: Origin,
    project: Project,
    forms: list[Form],
    rows: QuerySet[Submission],
    exact: bool,
) -> CollectionMap:
    answers = _located_answers(forms, rows)
    threshold = project.disclosure_threshold
    if not exact:
        located = list(answers.values_list("submission_id", "lat", "lon"))
        cells, suppressed = hexagon_cells(located, threshold)
        return CollectionMap(
            exact=False,
            located=sum(cell.count for cell in cells),
            points=None,
            cells=cells,
            suppressed_cells=suppressed,
            threshold=threshold,
        )
    total = answers.count()
    found = answers.order_by("-submission__received_at", "-id").values(
        "lat", "lon", "submission__received_at", "form__form_id",
        "submission__collected_by__username",
    )[:MAX_POINTS]  # fmt: skip
    points = [
        Point(
            # Never None: `_located_answers` filters out answers without coordinates.
            lat=cast(float, row["lat"]),
            lon=cast(float, row["lon"]),
            received_at=row["submission__received_at"],
            form_id=row["form__form_id"],
            collector=row["submission__collected_by__username"] or PUBLIC_LINK,
        )
        for row in found
    ]
    # Exact locations of individual submissions are raw data: the read is audited.
    record(
        actor=user,
        origin=origin,
        kind=AuditKind.RAW_READ,
        action="fieldwork.points",
        project=project,
        target=forms[0] if len(forms) == 1 else None,
        detail={"points": len(points), "located": total, "forms": [f.form_id for f in forms]},
    )
    return CollectionMap(
        exact=True, located=total, points=points, cells=None, suppressed_cells=0,
        threshold=threshold,
    )  # fmt: skip
