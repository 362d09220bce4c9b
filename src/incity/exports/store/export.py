"""CSV and Parquet exports written from a form's column store, one segment at a time.

Each fit segment is read from its Parquet file, filtered on `--since`, and turned into
the export's columns with pyarrow compute (codes or labels, multiple-choice 0/1
columns); an unfit segment's rows are read from the database and made by the row path,
in their place, so the file stays in submission order. Memory holds one segment.

CSV is written by pyarrow's CSV writer, which quotes every text cell; it reads back to
the same values as the row path's file (numbers as numbers: 12.0 may be written 12).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings

from incity.exports import columnar, source
from incity.exports.layout import CellMode, Column, Layout
from incity.exports.store.build import META_SCHEMA, text_name
from incity.exports.store.files import Manifest, locked, read_manifest, segment_path, segment_size
from incity.exports.store.outputs import CsvOutput, Output, ParquetOutput
from incity.exports.store.sync import schema_key, sync
from incity.surveys.models import Form

log = logging.getLogger(__name__)
Progress = Callable[[int], None]
# Threads preparing segments while the calling thread writes: pyarrow releases the GIL,
# so two use both cores of a small server.
WORKERS = 2
# Each meta column of the layout, from its column in the store.
_META_SOURCE = {
    "submission_id": "@pk",
    "instance_id": "@instance_id",
    "version": "@version",
    "received_at": "@received_text",
    "status": "@status",
    "collected_by": "@collector",
    "language": "@language",
    "synthetic": "@synthetic",
}


def write(
    form: Form,
    layout: Layout,
    mode: CellMode,
    format: str,
    since: datetime | None,
    path: str,
    progress: Progress | None = None,
) -> int | None:
    """Write the export from the store; None (nothing written) when the store does not
    hold this layout's columns (a version published during the export) or cannot be
    brought up to date (its folder not writable, the disk full): the row path then."""
    try:
        sync(form)
    except OSError:
        log.exception("the column store of form %s could not be synced; rows instead", form.pk)
        return None
    key = schema_key(columnar.answers_schema(layout))
    with locked(form.pk, shared=True):
        manifest = read_manifest(form.pk)
        if manifest is None or manifest.schema != key:
            return None
        output = (CsvOutput if format == "csv" else ParquetOutput)(path, layout)
        units = _units(form.pk, manifest)
        try:
            return _write_units(form, units, layout, mode, since, output, progress)
        finally:
            output.close()


# A part of the export: a row group of a fit segment's file, or an unfit segment's rows.
_Unit = tuple[int, int | None]


def _units(form_id: int, manifest: Manifest) -> list[_Unit]:
    units: list[_Unit] = []
    for segment, entry in sorted(manifest.segments.items()):
        if entry.state != "fit":
            units.append((segment, None))
            continue
        groups = pq.ParquetFile(segment_path(form_id, segment)).metadata.num_row_groups
        units.extend((segment, group) for group in range(groups))
    return units


def _write_units(
    form: Form,
    units: list[_Unit],
    layout: Layout,
    mode: CellMode,
    since: datetime | None,
    output: Output,
    progress: Progress | None,
) -> int:
    """Every unit in order; row groups prepared by worker threads, at most WORKERS ahead
    of the one being written (memory holds WORKERS + 1 row groups, about 16k rows each)."""
    texts = isinstance(output, CsvOutput)

    def prepare(segment: int, group: int | None) -> tuple[int, Any]:
        assert group is not None
        table = _read(form.pk, segment, group, layout, texts, since)
        if not table.num_rows:
            return 0, None
        arrays = [_column(table, column, mode, texts) for column in layout.main.columns]
        return table.num_rows, output.prepare(arrays)

    done = 0
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="incity-export") as pool:
        pending: deque[Future[tuple[int, Any]] | None] = deque()
        upcoming = iter(units)
        for segment, _group in units:
            while len(pending) <= WORKERS and (following := next(upcoming, None)) is not None:
                ahead, ahead_group = following
                fit = ahead_group is not None
                pending.append(pool.submit(prepare, ahead, ahead_group) if fit else None)
            job = pending.popleft()
            if job is None:
                done += _from_rows(form, segment, layout, mode, since, output)
            else:
                rows, payload = job.result()
                if payload is not None:
                    output.emit(payload)
                done += rows
            if progress is not None:
                progress(done)
    return done


def _read(
    form_id: int,
    segment: int,
    group: int,
    layout: Layout,
    texts: bool,
    since: datetime | None,
) -> pa.Table:
    """The columns the export needs from one row group: for CSV the text of the numbers
    rather than the numbers. Text is read as dictionaries and decoded by `take`: three
    times cheaper than letting Parquet decode it."""
    names = [*_META_SOURCE.values(), "@received_at"]
    text = ["@instance_id", "@received_text", "@status", "@collector", "@language"]
    for column in layout.main.columns:
        if column.kind == "number" and texts:
            names.append(text_name(column.question))
            text.append(names[-1])
        elif column.question:
            names.append(column.question)
            if column.kind in ("text", "choice"):
                text.append(column.question)
    file = pq.ParquetFile(segment_path(form_id, segment), read_dictionary=text)
    table = file.read_row_group(group, columns=list(dict.fromkeys(names)), use_threads=False)
    if since is not None:
        moment = pa.scalar(since, META_SCHEMA.field("@received_at").type)
        table = table.filter(pc.greater_equal(table.column("@received_at"), moment))
    return table


def _plain(values: pa.ChunkedArray) -> pa.Array:
    if pa.types.is_dictionary(values.type):
        chunks = [pc.take(chunk.dictionary, chunk.indices) for chunk in values.chunks]
        return pa.concat_arrays(chunks) if chunks else pa.array([], pa.string())
    return values.combine_chunks()


def _column(table: pa.Table, column: Column, mode: CellMode, texts: bool) -> pa.Array:
    if not column.question:
        return _plain(table.column(_META_SOURCE[column.name]))
    if texts and column.kind == "number":
        return _plain(table.column(text_name(column.question)))
    return columnar.cells(column, _plain(table.column(column.question)), mode)


def _from_rows(
    form: Form,
    segment: int,
    layout: Layout,
    mode: CellMode,
    since: datetime | None,
    output: Output,
) -> int:
    """An unfit segment's rows, read from the database and made by the row path."""
    maker = source.RowMaker(layout, mode)
    done = 0
    first = segment * segment_size()
    pages = source.raw_chunks(
        form,
        since,
        chunk_size=settings.EXPORT_CHUNK_SIZE,
        first_id=first,
        stop_id=first + segment_size(),
    )
    for page in pages:
        output.rows([maker.main_row(source.to_source_row(values)) for values in page])
        done += len(page)
    return done
