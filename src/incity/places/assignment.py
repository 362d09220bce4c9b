"""Every geometry answer assigned to the project area that holds it, stored on `Answer.area`.

`Answer.area` is derived (like the typed rows themselves) and rebuilt here:
`assign_answers(form_or_project, submission_ids)` after typed answers are written,
`reassign_project(project)` after the project's areas change.

The rules, in this order:

1. **The point tested** is the answer's representative point (`Answer.lat`/`lon`):
   a point is itself; a line or a shape is the mean of its vertices, as written by
   `surveys.validation.typed_values`. A street or a zone that crosses a border
   therefore goes to one area, the one holding that point, and map layers that count
   by `lat`/`lon` agree with it.
2. **On the border counts as inside**: a point on an area's boundary line is in it.
3. **Overlapping areas** (a neighbourhood inside a ward, two neighbourhoods sharing a
   border line): the answer goes to one area only, the first by kind
   (neighbourhood, ward, district, whole municipality), then the smallest surface,
   then name and id. So a point on a border between two neighbourhoods goes to the
   smaller one, and a neighbourhood wins over the ward around it.
4. **Just outside**: a point in no area but within `geometry.TOLERANCE_METRES` of one
   (the band in which submissions are accepted, so a tap on the boundary line or a
   GPS fix a few metres off is kept) goes to the nearest area, ties by rule 3.
5. Otherwise, and for answers with no point (a place described in words, a mark
   naming a place), `area` is NULL.

Locating is vectorised: a chunk of points is sorted by longitude once; each area, in
rank order, tests with one `shapely.intersects_xy` call (prepared geometry; intersects
rather than contains so that rule 2 holds) only the points under its bounding box not
yet taken by a better area; an STRtree of the areas finds the nearest within the
tolerance for what is left near an area. Only answers whose area changes are written
(`UPDATE ... FROM unnest(...)` on PostgreSQL, a prepared statement per row on SQLite).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from threading import Lock

import numpy as np
import shapely
from django.db import connection, transaction
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from numpy.typing import NDArray

from incity.accounts.models import Project
from incity.places.geometry import tolerance_degrees
from incity.places.models import Area, AreaKind
from incity.surveys.models import Answer, Form, Submission
from incity.surveys.services import data_state

# Rows read per round trip; 50,000 (id, lon, lat, area) tuples are a few MB.
CHUNK = 50_000
KIND_ORDER: dict[str, int] = {
    AreaKind.NEIGHBOURHOOD.value: 0,
    AreaKind.WARD.value: 1,
    AreaKind.DISTRICT.value: 2,
    AreaKind.MUNICIPALITY.value: 3,
}
# (id, lon, lat, area id) of an answer; lon and lat are never NULL in the rows read.
_Row = tuple[int, float | None, float | None, int | None]
_NONE = 0  # "no area" inside the arrays: primary keys start at 1
_KEPT_INDEXES = 16
_INDEXES: OrderedDict[int, tuple[bytes, AreaIndex | None]] = OrderedDict()
_LOCK = Lock()


@dataclass(frozen=True)
class AreaIndex:
    """A project's areas in rule-3 order, ready to locate many points at once."""

    area_ids: NDArray[np.int64]  # by rank
    geometries: tuple[shapely.Geometry, ...]  # by rank, prepared
    bounds: NDArray[np.float64]  # (west, south, east, north) by rank
    tree: shapely.STRtree  # the same geometries, for the nearest-area pass (rule 4)
    tolerance: float  # degrees (rule 4)

    def locate(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.int64]:
        """The area id of each point, or 0 where it lies in none."""
        none = len(self.area_ids)
        best = np.full(lon.shape[0], none, dtype=np.int64)
        near = np.zeros(lon.shape[0], dtype=bool)  # within the tolerance of some bounding box
        # Points sorted by longitude: each area tests only the strip under its bounds.
        order = np.argsort(lon, kind="stable")
        by_lon, lat_by_lon = lon[order], lat[order]
        margin = self.tolerance
        for rank, geometry in enumerate(self.geometries):
            west, south, east, north = self.bounds[rank]
            low = int(np.searchsorted(by_lon, west - margin, side="left"))
            high = int(np.searchsorted(by_lon, east + margin, side="right"))
            strip_lon, strip_lat = by_lon[low:high], lat_by_lon[low:high]
            near[order[low:high]] |= (strip_lat >= south - margin) & (strip_lat <= north + margin)
            in_box = (strip_lon >= west) & (strip_lon <= east)
            candidates = low + np.flatnonzero(in_box & (strip_lat >= south) & (strip_lat <= north))
            candidates = candidates[best[order[candidates]] == none]  # a better area has them
            # intersects, not contains: a point on the boundary line is in the area (rule 2).
            inside = shapely.intersects_xy(geometry, by_lon[candidates], lat_by_lon[candidates])
            best[order[candidates[inside]]] = rank
        # Rule 4, only for points near enough to an area's bounding box to be near the area.
        outside = np.flatnonzero((best == none) & near)
        if outside.size and margin > 0:
            near_point, near_area = self.tree.query_nearest(
                shapely.points(lon[outside], lat[outside]),
                max_distance=margin,
                all_matches=True,
            )
            # The tree holds the areas in rank order: the lowest index is the best of a tie.
            nearest = np.full(outside.size, none, dtype=np.int64)
            np.minimum.at(nearest, near_point, near_area)
            best[outside] = nearest
        with_none = np.append(self.area_ids, np.int64(_NONE))
        located: NDArray[np.int64] = with_none[best]
        return located


def area_index(project: Project) -> AreaIndex | None:
    """The project's areas with boundaries, ranked by rule 3; None when it has none.

    Kept per process for the last few projects, keyed by a hash of the areas as stored:
    hashing the boundary text costs a twentieth of parsing it, and a submission that
    is assigned as it arrives must not parse a city's boundaries every time. Any change
    to an area (by a service, the admin or a migration) changes the hash.
    """
    rows = list(
        Area.objects.filter(projects=project)
        .exclude(boundary=None)
        .annotate(text=Cast("boundary", output_field=TextField()))
        .order_by("pk")
        .values_list("pk", "kind", "name", "text")
    )
    digest = hashlib.blake2b(digest_size=16)
    for pk, kind, name, text in rows:
        digest.update(f"{pk}\x00{kind}\x00{name}\x00".encode())
        digest.update(text.encode())
    key = digest.digest()
    with _LOCK:
        cached = _INDEXES.get(project.pk)
        if cached is not None and cached[0] == key:
            _INDEXES.move_to_end(project.pk)
            return cached[1]
    index = _build_index(rows)
    with _LOCK:
        _INDEXES[project.pk] = (key, index)
        while len(_INDEXES) > _KEPT_INDEXES:
            _INDEXES.popitem(last=False)
    return index


def _build_index(rows: list[tuple[int, str, str, str]]) -> AreaIndex | None:
    ranked: list[tuple[tuple[int, float, str, int], shapely.Geometry]] = []
    for pk, kind, name, text in rows:
        geometry = shapely.from_geojson(text)
        if geometry is None or geometry.is_empty:
            continue
        ranked.append(((KIND_ORDER.get(kind, len(KIND_ORDER)), geometry.area, name, pk), geometry))
    if not ranked:
        return None
    ranked.sort(key=lambda pair: pair[0])
    geometries = tuple(geometry for _, geometry in ranked)
    shapely.prepare(list(geometries))
    _, south, _, north = shapely.total_bounds(geometries)
    return AreaIndex(
        area_ids=np.array([rank[3] for rank, _ in ranked], dtype=np.int64),
        geometries=geometries,
        bounds=shapely.bounds(list(geometries)),
        tree=shapely.STRtree(list(geometries)),
        tolerance=tolerance_degrees((south + north) / 2),
    )


@dataclass
class Assignment:
    """What one run did: answers with a point now in an area, or in none; rows written."""

    assigned: int = 0
    unassigned: int = 0
    changed: int = 0

    def add(self, other: Assignment) -> None:
        self.assigned += other.assigned
        self.unassigned += other.unassigned
        self.changed += other.changed

    def as_json(self) -> dict[str, int]:
        return {"assigned": self.assigned, "unassigned": self.unassigned, "changed": self.changed}


def assign_answers(form_or_project: Form | Project, submission_ids: list[int] | None = None) -> int:
    """Fill `Answer.area` for the geometry answers of a form or a project (only those of
    `submission_ids` when given); returns how many of them now have an area."""
    return run_assignment(form_or_project, submission_ids).assigned


def assign_submissions(submission_ids: Sequence[int]) -> int:
    """`assign_answers` for submissions of any forms and projects (a derivation batch)."""
    by_project: dict[int, list[int]] = {}
    for chunk in _batches(list(submission_ids)):
        for project_id, pk in Submission.objects.filter(pk__in=chunk).values_list(
            "project_id", "pk"
        ):
            by_project.setdefault(project_id, []).append(pk)
    assigned = 0
    for project in Project.objects.filter(pk__in=list(by_project)).order_by("pk"):
        assigned += assign_answers(project, by_project[project.pk])
    return assigned


@transaction.atomic
def reassign_project(project: Project) -> Assignment:
    """Recompute the area of every geometry answer of the project (after its areas change).

    The project's forms' data counters move on too: map layers by area and anything
    else derived from where answers lie must be built again with the new areas.
    """
    assignment = run_assignment(project, None)
    data_state.bump(Form.objects.filter(project=project).values_list("pk", flat=True))
    return assignment


def reassign_projects_of(areas: Iterable[Area], also: Project | None = None) -> None:
    """Reassign every project that uses one of these areas (areas are the organisation's and
    may be shared by several of its projects), and `also`."""
    project_ids = set(
        Project.objects.filter(areas__in=[area.pk for area in areas]).values_list("pk", flat=True)
    )
    if also is not None:
        project_ids.add(also.pk)
    for project in Project.objects.filter(pk__in=project_ids).order_by("pk"):
        reassign_project(project)


@transaction.atomic
def run_assignment(
    form_or_project: Form | Project, submission_ids: list[int] | None = None
) -> Assignment:
    """Assign the answers in scope; returns the counts (see `Assignment`)."""
    project = form_or_project.project if isinstance(form_or_project, Form) else form_or_project
    index = area_index(project)
    total = Assignment()
    for rows in _scopes(form_or_project, submission_ids):
        for chunk in _chunks(rows):
            total.add(_assign_chunk(index, chunk))
    return total


def _scopes(
    form_or_project: Form | Project, submission_ids: list[int] | None
) -> Iterator[QuerySet[Answer]]:
    rows = Answer.objects.filter(kind="geometry", lat__isnull=False, lon__isnull=False)
    if isinstance(form_or_project, Form):
        rows = rows.filter(form=form_or_project)
    else:
        # The project's form ids first: a join to the form table in every page costs more.
        forms = list(Form.objects.filter(project=form_or_project).values_list("pk", flat=True))
        rows = rows.filter(form_id__in=forms)
    if submission_ids is None:
        yield rows
        return
    for batch in _batches(sorted(set(submission_ids))):
        yield rows.filter(submission_id__in=batch)


def _chunks(rows: QuerySet[Answer]) -> Iterator[Sequence[_Row]]:
    columns = ("pk", "lon", "lat", "area_id")
    if connection.vendor == "postgresql":
        # One server-side cursor: its snapshot ignores the updates made while it is read,
        # and no page sorts the rows again (keyset pages did, on a table not yet analysed).
        stream = rows.order_by().values_list(*columns).iterator(chunk_size=CHUNK)
        while chunk := list(islice(stream, CHUNK)):
            yield chunk
        return
    # SQLite reads and writes one table through one connection without isolation between
    # them, so it reads keyset pages: each one indexed range of the primary key.
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last).order_by("pk").values_list(*columns)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1][0]
        yield chunk


def _assign_chunk(index: AreaIndex | None, chunk: Sequence[_Row]) -> Assignment:
    size = len(chunk)
    ids = np.fromiter((row[0] for row in chunk), dtype=np.int64, count=size)
    old = np.fromiter((row[3] or _NONE for row in chunk), dtype=np.int64, count=size)
    if index is None:
        new = np.full(size, _NONE, dtype=np.int64)
    else:
        lon = np.fromiter((row[1] for row in chunk), dtype=np.float64, count=size)
        lat = np.fromiter((row[2] for row in chunk), dtype=np.float64, count=size)
        new = index.locate(lon, lat)
    changed = new != old
    _write(ids[changed].tolist(), [area or None for area in new[changed].tolist()])
    assigned = int(np.count_nonzero(new))
    return Assignment(
        assigned=assigned, unassigned=size - assigned, changed=int(np.count_nonzero(changed))
    )


def _write(ids: list[int], areas: list[int | None]) -> None:
    """Set the area of each answer: one statement a chunk on PostgreSQL, one prepared
    statement run for every row on SQLite (both measured faster than grouped IN lists)."""
    if not ids:
        return
    table = connection.ops.quote_name(Answer._meta.db_table)
    column = connection.ops.quote_name(Answer._meta.get_field("area").column)
    with connection.cursor() as cursor:
        # The table and column names are the model's own, quoted; values are parameters.
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS answer SET {column} = v.area "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, area) WHERE answer.id = v.id",
                [ids, areas],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET {column} = %s WHERE id = %s",  # noqa: S608
                list(zip(areas, ids, strict=True)),
            )


def _batches(values: list[int]) -> Iterator[list[int]]:
    # SQLite allows 999 parameters a statement (Django's limit); PostgreSQL far more.
    limit = connection.features.max_query_params or 20_000
    step = max(limit - 10, 1)
    for start in range(0, len(values), step):
        yield values[start : start + step]
