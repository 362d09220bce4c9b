"""The marks of one map question as columns (NumPy arrays), loaded once per data version.

Loading a million marks from the typed `Answer` rows and finding their H3 cells takes
seconds, so the columns are kept in this process (a few forms at a time) keyed by the
form's data version (`analysis.query.fingerprint`: submissions added, edited, reviewed
or withdrawn change it). Filters and aggregation then work on arrays.

Exact points stay here: nothing in this module is returned to a caller outside the
maps app, and only the raw tier (`queries.raw_points`) reads `lat`/`lon` out.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

import numpy as np
from h3.api import basic_int as h3int
from numpy.typing import NDArray

from incity.analysis.query import fingerprint
from incity.maps.layers.request import MAX_RESOLUTION, LayerRequest, MapQuestion
from incity.surveys.definition import TIMES_OF_DAY
from incity.surveys.models import Answer, Form, Submission, SubmissionStatus
from incity.surveys.services.submissions import derive_typed_answers

_POSITION = re.compile(r"\[(\d+)\]$")
_KEPT = 4


@dataclass(frozen=True)
class MarkColumns:
    """One row per mark with a geometry: who, what, when and where (finest cell)."""

    version: str
    submission: NDArray[np.int64]
    category: NDArray[np.int16]  # index into the question's categories, -1 for none
    time: NDArray[np.int8]  # index into TIMES_OF_DAY, -1 for none
    received: NDArray[np.int32]  # the day the submission was received (date ordinal)
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    cell: NDArray[np.uint64]  # H3 cell at MAX_RESOLUTION, as an integer

    def __len__(self) -> int:
        return int(self.submission.size)


_loaded: OrderedDict[tuple[int, str, str], MarkColumns] = OrderedDict()
_lock = Lock()


def data_version(form: Form) -> str:
    derive_typed_answers(form=form)
    return fingerprint(form)


def mark_columns(form: Form, question: MapQuestion, version: str | None = None) -> MarkColumns:
    version = version or data_version(form)
    key = (form.pk, question.name, version)
    with _lock:
        if key in _loaded:
            _loaded.move_to_end(key)
            return _loaded[key]
    columns = _load(form, question, version)
    with _lock:
        _loaded[key] = columns
        while len(_loaded) > _KEPT:
            _loaded.popitem(last=False)
    return columns


def forget_loaded() -> None:
    with _lock:
        _loaded.clear()


def _load(form: Form, question: MapQuestion, version: str) -> MarkColumns:
    kept = Submission.objects.filter(form=form).exclude(status=SubmissionStatus.REJECTED)
    rows = list(
        Answer.objects.filter(
            form=form,
            name=question.name,
            repeat_path="",
            kind="geometry",
            lat__isnull=False,
            lon__isnull=False,
            submission__in=kept.values("id"),
        )
        .order_by("submission_id", "id")
        .values_list("submission_id", "path", "text", "lat", "lon")
    )
    received: dict[int, int] = {}
    times: dict[int, list[object]] = {}
    if question.type == "map_marks":
        for pk, when, marks in kept.values_list("id", "received_at", f"answers__{question.name}"):
            received[pk] = when.date().toordinal()
            times[pk] = marks if isinstance(marks, list) else []
    else:
        for pk, when in kept.values_list("id", "received_at"):
            received[pk] = when.date().toordinal()
    category_index = {name: index for index, name in enumerate(question.categories)}
    time_index = {name: index for index, name in enumerate(TIMES_OF_DAY)}
    size = len(rows)
    submission = np.empty(size, dtype=np.int64)
    category = np.full(size, -1, dtype=np.int16)
    time = np.full(size, -1, dtype=np.int8)
    day = np.zeros(size, dtype=np.int32)
    lat = np.empty(size, dtype=np.float64)
    lon = np.empty(size, dtype=np.float64)
    for row, (pk, path, text, latitude, longitude) in enumerate(rows):
        submission[row] = pk
        category[row] = category_index.get(text or "", -1)
        time[row] = time_index.get(_time_of(times.get(pk), path), -1)
        day[row] = received.get(pk, 0)
        lat[row] = latitude
        lon[row] = longitude
    cells = np.fromiter(
        (h3int.latlng_to_cell(y, x, MAX_RESOLUTION) for y, x in zip(lat, lon, strict=True)),
        dtype=np.uint64,
        count=size,
    )
    return MarkColumns(version, submission, category, time, day, lat, lon, cells)


def _time_of(marks: list[object] | None, path: str) -> str:
    """The mark's time of day, found by its position in the answer ('places[3]' is the 3rd)."""
    if not marks:
        return ""
    found = _POSITION.search(path)
    if found is None:
        return ""
    position = int(found.group(1)) - 1
    if not 0 <= position < len(marks):
        return ""
    mark = marks[position]
    return str(mark.get("time_of_day") or "") if isinstance(mark, dict) else ""


def parent_cells(cells: NDArray[np.uint64], resolution: int) -> NDArray[np.uint64]:
    """Each cell's parent at `resolution`, by the H3 bit layout (vectorised cell_to_parent).

    Bits 52-55 hold the resolution; each finer resolution's digit is 3 bits, set to 7
    (unused) in a coarser cell.
    """
    cleared = cells & np.uint64(~(0xF << 52) & 0xFFFFFFFFFFFFFFFF)
    unused = np.uint64((1 << ((15 - resolution) * 3)) - 1)
    return cleared | np.uint64(resolution << 52) | unused


def selected(
    columns: MarkColumns, request: LayerRequest, group_members: NDArray[np.int64] | None
) -> NDArray[np.bool_]:
    """Which marks the request's filters keep (the category is a column, not a filter)."""
    keep = np.ones(len(columns), dtype=bool)
    if request.time is not None:
        keep &= columns.time == TIMES_OF_DAY.index(request.time)
    if request.since is not None:
        keep &= columns.received >= request.since.toordinal()
    if request.until is not None:
        keep &= columns.received <= request.until.toordinal()
    if group_members is not None:
        keep &= np.isin(columns.submission, group_members)
    return keep


def group_members(form: Form, groups: tuple[tuple[str, str], ...]) -> NDArray[np.int64] | None:
    """Submissions whose answers match every QUESTION=LEVEL (None when there is no group)."""
    if not groups:
        return None
    members: set[int] | None = None
    for name, level in groups:
        found = set(
            Answer.objects.filter(form=form, name=name, repeat_path="", text=level).values_list(
                "submission_id", flat=True
            )
        )
        members = found if members is None else members & found
    return np.fromiter(sorted(members or ()), dtype=np.int64)
