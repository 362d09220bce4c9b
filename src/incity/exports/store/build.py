"""Reading a form's submissions for the column store: the per-segment fingerprints, and
one segment's rows decoded into a Parquet file.

Both read through a raw database cursor: Django's converters (datetimes above all) cost
about three times the read itself, and the store needs none of them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.contrib.auth import get_user_model
from django.db import connection

from incity.exports.columnar import AnswerDecoder, number_text
from incity.exports.store.files import segment_size
from incity.surveys.models import FormVersion, Submission, SubmissionStatus

# Rows fetched and decoded at a time while a segment is built (memory stays flat).
PAGE = 16_384
# Read back by every export: LZ4 decompresses several times faster than zstd.
COMPRESSION = "lz4"
META_SCHEMA = pa.schema(
    [
        ("@pk", pa.int64()),
        ("@instance_id", pa.string()),
        ("@version", pa.int64()),
        ("@received_at", pa.timestamp("us", tz="UTC")),
        # The cell as the row path writes it (datetime.isoformat()).
        ("@received_text", pa.string()),
        ("@status", pa.string()),
        ("@collector", pa.string()),
        ("@language", pa.string()),
        ("@synthetic", pa.bool_()),
    ]
)


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def fingerprints(form_id: int) -> dict[int, str]:
    """Each segment's fingerprint, from one GROUP BY over the form's submissions: it
    moves with every insert, deletion, edit (revision, edited_at) and review (status,
    reviewed_at) of a submission in the segment."""
    statuses = [value for value, _ in SubmissionStatus.choices]
    size = segment_size()
    counts = ", ".join("SUM(CASE WHEN status = %s THEN 1 ELSE 0 END)" for _ in statuses)
    # Only model table names and integers are formatted in; every value is a parameter.
    sql = (
        f"SELECT id / {size}, COUNT(*), SUM(id), SUM(revision), SUM(version_id),"  # noqa: S608
        f" MAX(edited_at), MAX(reviewed_at), MIN(received_at), MAX(received_at), {counts}"
        f" FROM {_table(Submission)} WHERE form_id = %s GROUP BY id / {size}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*statuses, form_id])
        found = cursor.fetchall()
    return {int(row[0]): _digest(row[1:]) for row in found}


def _digest(values: tuple[Any, ...]) -> str:
    text = "|".join("" if value is None else str(value) for value in values)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _rows_sql() -> str:
    answers = "s.answers::text" if connection.vendor == "postgresql" else "s.answers"
    # Table names from the models; every value is a parameter.
    return (
        "SELECT s.id, s.instance_id, v.number, s.received_at, s.status, u.username,"  # noqa: S608
        f" s.language, s.is_synthetic, {answers}"
        f" FROM {_table(Submission)} s JOIN {_table(FormVersion)} v ON v.id = s.version_id"
        f" LEFT JOIN {_table(get_user_model())} u ON u.id = s.collected_by_id"
        " WHERE s.form_id = %s AND s.id >= %s AND s.id < %s ORDER BY s.id"
    )


def _pages(form_id: int, segment: int) -> Iterator[list[tuple[Any, ...]]]:
    first = segment * segment_size()
    with connection.cursor() as cursor:
        cursor.execute(_rows_sql(), [form_id, first, first + segment_size()])
        while page := cursor.fetchmany(PAGE):
            yield page


def _moment(value: Any) -> datetime:
    """received_at as Django would return it: SQLite gives text, naive meaning UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _meta(columns: list[tuple[Any, ...]]) -> list[pa.Array]:
    ids, instances, versions, received, statuses, users, languages, synthetic = columns[:8]
    moments = [_moment(value) for value in received]
    return [
        pa.array(ids, pa.int64()),
        pa.array(instances, pa.string()),
        pa.array(versions, pa.int64()),
        pa.array(moments, pa.timestamp("us", tz="UTC")),
        pa.array([moment.isoformat() for moment in moments], pa.string()),
        pa.array(statuses, pa.string()),
        pc.fill_null(pa.array(users, pa.string()), ""),
        pa.array(languages, pa.string()),
        pc.cast(pa.array(synthetic), pa.bool_()),
    ]


def text_name(question: str) -> str:
    """The store's column holding a number question's answers as CSV text (question
    names cannot hold '@', so it never meets a question's own column)."""
    return f"{question}@text"


def segment_schema(answers: pa.Schema) -> pa.Schema:
    texts = [
        (text_name(field.name), pa.string()) for field in answers if field.type == pa.float64()
    ]
    return pa.schema([*META_SCHEMA, *answers, *texts])


def _answer_columns(answers: pa.Table, schema: pa.Schema) -> list[pa.Array]:
    """The decoded answers, then the text of the number ones: formatting doubles is
    most of a CSV export's work, so it is done once here, not at every export."""
    columns = [answers.column(name) for name in schema.names]
    numbers = [
        column for field, column in zip(schema, columns, strict=True) if field.type == pa.float64()
    ]
    return columns + [number_text(column.combine_chunks()) for column in numbers]


def build_segment(form_id: int, segment: int, decoder: AnswerDecoder, path: Path) -> int | None:
    """Write the segment's rows to `path` (atomically); the number of rows, or None when
    some answers do not fit the schema (the segment is then unfit and `path` is removed)."""
    schema = segment_schema(decoder.schema)
    part = path.with_name(path.name + ".part")
    rows = 0
    try:
        with pq.ParquetWriter(str(part), schema, compression=COMPRESSION) as writer:
            for page in _pages(form_id, segment):
                columns = list(zip(*page, strict=True))
                answers = decoder.decode(list(columns[8]))
                if answers is None:
                    raise _Unfit
                arrays = _meta(columns) + _answer_columns(answers, decoder.schema)
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
                rows += len(page)
    except _Unfit:
        part.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        return None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, path)
    return rows


class _Unfit(Exception):
    """A page of the segment whose answers the schema cannot hold."""
