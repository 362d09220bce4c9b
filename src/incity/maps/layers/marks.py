"""The marks of one map question as columns (NumPy arrays), loaded once per data version.

Loading a million marks from the typed `Answer` rows and finding their H3 cells takes
seconds, so the columns are kept in this process (a few forms at a time) keyed by the
form's layer version (`analysis.query.fingerprint`: submissions added, edited, reviewed
or withdrawn, and areas reassigned, change it). Filters and aggregation then work on arrays.

Exact points stay here: nothing in this module is returned to a caller outside the
maps app, and only the raw tier (`queries.raw_points`) reads `lat`/`lon` out.
"""

from __future__ import annotations

import gc
import json
import re
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat
from threading import Lock

import numpy as np
from django.db.models import QuerySet
from django.db.models.fields.json import KT
from h3.api import basic_int as h3int
from numpy.typing import NDArray

from incity.analysis.query import fingerprint
from incity.analysis.sensitive_groups import levels_by_submission
from incity.maps.layers.request import MAX_RESOLUTION, LayerRequest, MapQuestion
from incity.surveys.definition import TIMES_OF_DAY
from incity.surveys.models import Answer, Form, Submission, SubmissionStatus
from incity.surveys.services.typed import derive_typed_answers

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
    area: NDArray[np.int64]  # the stored area of the answer (places.assignment), -1 for none

    def __len__(self) -> int:
        return int(self.submission.size)


_loaded: OrderedDict[tuple[int, str, str], MarkColumns] = OrderedDict()
_lock = Lock()


def layer_version(form: Form) -> str:
    """What a layer of the form is built from: its typed answers (derived first, so that
    pending ones count) as of the form's fingerprint (data counter, versions, sensitive list)."""
    derive_typed_answers(form=form)
    return fingerprint(form)


def mark_columns(form: Form, question: MapQuestion, version: str | None = None) -> MarkColumns:
    version = version or layer_version(form)
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
    marks = (
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
        .values_list("submission_id", "path", "text", "lat", "lon", "area_id")
    )
    # A million row tuples would set off the cyclic collector again and again while
    # they are built (none of them is garbage): pause it for the load.
    with _collector_paused():
        rows = list(marks)
        size = len(rows)
        if not size:
            return _empty(version)
        submission_ids, paths, texts, latitudes, longitudes, areas = zip(*rows, strict=True)
        del rows
        submission = np.fromiter(submission_ids, dtype=np.int64, count=size)
        lat = np.fromiter(latitudes, dtype=np.float64, count=size)
        lon = np.fromiter(longitudes, dtype=np.float64, count=size)
        area = np.fromiter((-1 if pk is None else pk for pk in areas), dtype=np.int64, count=size)
        category_index = {name: index for index, name in enumerate(question.categories)}
        category = np.fromiter(
            (category_index.get(text or "", -1) for text in texts), dtype=np.int16, count=size
        )
        # One C call per mark: h3 has no array form of latlng_to_cell.
        cell = np.fromiter(
            map(h3int.latlng_to_cell, latitudes, longitudes, repeat(MAX_RESOLUTION, size)),
            dtype=np.uint64,
            count=size,
        )
        ids, days, offsets, time_codes = _submission_columns(kept, question)
        # Every mark's submission is among the kept ones, unless one changed between the
        # two reads: such marks get no day and no time rather than another's.
        where = np.minimum(np.searchsorted(ids, submission), max(ids.size - 1, 0))
        found = (ids[where] == submission) if ids.size else np.zeros(size, dtype=bool)
        day = np.where(found, days[where] if ids.size else 0, 0).astype(np.int32)
        time = np.full(size, -1, dtype=np.int8)
        if question.type == "map_marks" and ids.size:
            position = _positions(paths, question.name) - 1
            count = offsets[where + 1] - offsets[where]
            known = found & (position >= 0) & (position < count)
            time[known] = time_codes[offsets[where[known]] + position[known]]
    return MarkColumns(version, submission, category, time, day, lat, lon, cell, area)


def _submission_columns(
    kept: QuerySet[Submission], question: MapQuestion
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int64], NDArray[np.int8]]:
    """Kept submissions by id: the day each was received and its marks' times of day.

    The times of submission `ids[i]`'s marks are `time_codes[offsets[i]:offsets[i + 1]]`
    (a mark's position in its answer, -1 where it has no time of day).
    """
    if question.type != "map_marks":
        found = list(kept.order_by("id").values_list("id", "received_at"))
        ids = np.fromiter((pk for pk, _ in found), dtype=np.int64, count=len(found))
        days = np.fromiter(
            (when.date().toordinal() for _, when in found), dtype=np.int32, count=len(found)
        )
        return ids, days, np.zeros(len(found) + 1, dtype=np.int64), np.empty(0, dtype=np.int8)
    # The marks as JSON text (KT): decoding it here with the C decoder is several times
    # cheaper than the JSON field's own conversion.
    found_with_marks = list(
        kept.order_by("id")
        .annotate(marks=KT(f"answers__{question.name}"))
        .values_list("id", "received_at", "marks")
    )
    time_index = {name: index for index, name in enumerate(TIMES_OF_DAY)}
    count = len(found_with_marks)
    ids = np.fromiter((row[0] for row in found_with_marks), dtype=np.int64, count=count)
    days = np.fromiter(
        (row[1].date().toordinal() for row in found_with_marks), dtype=np.int32, count=count
    )
    lengths = np.zeros(count + 1, dtype=np.int64)
    codes: list[int] = []
    for row, (_, _, text) in enumerate(found_with_marks):
        try:
            answer = json.loads(text) if text else None
        except ValueError:  # a text where a list of marks belongs: no marks to time
            answer = None
        if not isinstance(answer, list):
            continue
        lengths[row + 1] = len(answer)
        codes.extend(
            time_index.get(mark.get("time_of_day") or "", -1) if isinstance(mark, dict) else -1
            for mark in answer
        )
    return ids, days, np.cumsum(lengths), np.array(codes, dtype=np.int8)


def _positions(paths: tuple[str, ...], name: str) -> NDArray[np.int64]:
    """Each mark's position in its answer ('places[3]' is the 3rd), 0 where there is none."""
    start = len(name) + 1
    try:
        # Typed answers write exactly NAME[POSITION]: slice rather than search.
        return np.fromiter(
            (int(path[start:-1]) for path in paths), dtype=np.int64, count=len(paths)
        )
    except ValueError:
        return np.fromiter(
            (int(found.group(1)) if (found := _POSITION.search(path)) else 0 for path in paths),
            dtype=np.int64,
            count=len(paths),
        )


def _empty(version: str) -> MarkColumns:
    return MarkColumns(
        version,
        np.empty(0, dtype=np.int64),
        np.empty(0, dtype=np.int16),
        np.empty(0, dtype=np.int8),
        np.empty(0, dtype=np.int32),
        np.empty(0, dtype=np.float64),
        np.empty(0, dtype=np.float64),
        np.empty(0, dtype=np.uint64),
        np.empty(0, dtype=np.int64),
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parent_cells(cells: NDArray[np.uint64], resolution: int) -> NDArray[np.uint64]:
    """Each cell's parent at `resolution`, by the H3 bit layout (vectorised cell_to_parent).

    Bits 52-55 hold the resolution; each finer resolution's digit is 3 bits, set to 7
    (unused) in a coarser cell.
    """
    cleared = cells & np.uint64(~(0xF << 52) & 0xFFFFFFFFFFFFFFFF)
    unused = np.uint64((1 << ((15 - resolution) * 3)) - 1)
    return cleared | np.uint64(resolution << 52) | unused


def filter_masks(
    columns: MarkColumns, request: LayerRequest, *, reason: str
) -> list[NDArray[np.bool_]]:
    """One mask per filter of the request (the time, the date window, each group), in
    that order; a layer keeps the marks every mask keeps (the category is a column).

    Kept apart so that the gate can also count the wider layers a filter is left out
    of (differencing: see `gate`).
    """
    masks: list[NDArray[np.bool_]] = []
    if request.time is not None:
        masks.append(columns.time == TIMES_OF_DAY.index(request.time))
    if request.since is not None or request.until is not None:
        window = np.ones(len(columns), dtype=bool)
        if request.since is not None:
            window &= columns.received >= request.since.toordinal()
        if request.until is not None:
            window &= columns.received <= request.until.toordinal()
        masks.append(window)
    for name, level in request.groups:
        masks.append(np.isin(columns.submission, _members(request, name, level, reason)))
    return masks


def _members(request: LayerRequest, name: str, level: str, reason: str) -> NDArray[np.int64]:
    """The submissions that answered `level` to `name` (decrypted, audited, if sensitive)."""
    if name in request.sensitive:
        levels = levels_by_submission(
            request.form,
            name,
            reason=reason,
            actor=request.reader.actor,
            origin=request.reader.origin,
        )
        return levels.members(level)
    found = Answer.objects.filter(
        form=request.form, name=name, repeat_path="", text=level
    ).values_list("submission_id", flat=True)
    return np.fromiter(sorted(found), dtype=np.int64)
