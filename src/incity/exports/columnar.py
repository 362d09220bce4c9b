"""The fast path of CSV and Parquet exports: a chunk of submissions decoded and laid out
as Arrow columns in C, instead of one Python call per cell.

The answers of a chunk are joined into newline-delimited JSON and read by
pyarrow's JSON reader with a schema taken from the layout (numbers as float64,
multiple choices as lists of codes, everything else as text), so that decoding, label mapping, multiple-choice 0/1
columns and CSV quoting run over whole columns. The files are the same as the
row-by-row path's (the tests compare them), because every case the columns cannot
render exactly as Python does falls back to the row path:

- a form with repeats or map marks, geometry questions, or an export that includes
  sensitive answers (decrypted one submission at a time) takes the row path whole;
- a chunk whose answers do not fit the schema (a number where text is expected, a
  string in a number question, answers that are not an object) takes the row path;
- a chunk with a multiple choice holding a null or a code with a line break;
- in a row whose numbers Python writes differently from Arrow (an integral decimal
  such as 12.0, exponents, very long or very small numbers) the CSV's number cells are
  written by Python, from that row's answers decoded again (Parquet holds numbers, not
  their text).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from incity.exports import source
from incity.exports.layout import CellMode, Column, Layout, cell_getter
from incity.exports.writers.parquet import ROW_GROUP, schema_of

FAST_FORMATS = frozenset({"csv", "parquet"})
# Question columns the columnar path lays out (geometry, for one, is re-serialised JSON).
_FAST_KINDS = frozenset({"text", "number", "choice", "multi", "dummy"})
# Number tokens that Python and Arrow may write differently: integral floats (12.0),
# exponents, 16 digits or more. A match anywhere in a row's answers (even inside a text
# answer) has Python write that row's number cells, which is always right.
_RISKY_NUMBERS = r"\d\.0\s*[,}\]]|\d[eE][-+]?\d|\d{16}"
_decode = msgspec.json.Decoder().decode
_NEEDS_QUOTES = '[,"\r\n]'


def supported(layout: Layout, format: str, mode: CellMode, include_sensitive: bool) -> bool:
    """Whether the columnar path writes this export (else the row path does)."""
    return (
        format in FAST_FORMATS
        and mode in ("codes", "labels")
        and not include_sensitive
        and not layout.linked
        and all(column.kind in _FAST_KINDS for column in layout.main.columns if column.question)
    )


@dataclass
class _Chunk:
    """A chunk read from the database: the raw rows and, where the columns could be
    built, each column of the main table (typed as in the Parquet schema)."""

    raw: list[tuple[Any, ...]]
    typed: list[pa.Array] | None
    # Rows whose CSV number cells Python must write (see _RISKY_NUMBERS).
    csv_rows: pa.Array | None


class _ChunkReader:
    def __init__(self, layout: Layout, mode: CellMode) -> None:
        self.layout = layout
        self.mode = mode
        self.columns = layout.main.columns
        self.meta_width = sum(1 for column in self.columns if not column.question)
        questions: dict[str, pa.DataType] = {}
        for column in self.columns[self.meta_width :]:
            kind = pa.float64() if column.kind == "number" else pa.string()
            if column.kind == "multi":
                # As the submission service stores them: a list of codes.
                kind = pa.list_(pa.string())
            questions.setdefault(column.question, kind)
        self.schema = pa.schema(list(questions.items()))
        self.parse_options = pa_json.ParseOptions(
            explicit_schema=self.schema, unexpected_field_behavior="ignore"
        )
        # One block a chunk; threads only help where cores are idle, and the exports run
        # beside the web server.
        self.read_options = pa_json.ReadOptions(use_threads=False, block_size=1 << 26)

    def read(self, raw: list[tuple[Any, ...]]) -> _Chunk:
        answers = [row[8] for row in raw]
        if not all(isinstance(text, str) for text in answers):
            return _Chunk(raw, None, None)
        joined = "\n".join(answers).encode()
        if joined.count(b"\n") != len(answers) - 1:
            return _Chunk(raw, None, None)
        try:
            table = pa_json.read_json(
                io.BytesIO(joined),
                read_options=self.read_options,
                parse_options=self.parse_options,
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return _Chunk(raw, None, None)
        if table.num_rows != len(raw):
            return _Chunk(raw, None, None)
        if not self._plain_multiples(table):
            # A rare chunk: simpler to write it all by the row path in both formats.
            return _Chunk(raw, None, None)
        typed = self._meta(raw) + [
            self._cells(column, table.column(column.question).combine_chunks())
            for column in self.columns[self.meta_width :]
        ]
        risky = pc.match_substring_regex(pa.array(answers, pa.string()), _RISKY_NUMBERS)
        return _Chunk(raw, typed, risky)

    def _plain_multiples(self, decoded: pa.Table) -> bool:
        """False where a multiple choice holds a null or a code with a line break (the
        0/1 columns look codes up one a line)."""
        for column in self.columns[self.meta_width :]:
            if column.kind != "multi":
                continue
            items = pc.list_flatten(decoded.column(column.question))
            if len(items) and (
                pc.any(pc.is_null(items)).as_py() or pc.any(pc.match_substring(items, "\n")).as_py()
            ):
                return False
        return True

    def _meta(self, raw: list[tuple[Any, ...]]) -> list[pa.Array]:
        received = [row[3] for row in raw]
        return [
            pa.array([row[0] for row in raw], pa.int64()),
            pa.array([row[1] for row in raw], pa.string()),
            pa.array([row[2] for row in raw], pa.int64()),
            pa.array(
                [None if moment is None else moment.isoformat() for moment in received],
                pa.string(),
            ),
            pa.array([row[4] for row in raw], pa.string()),
            pa.array([row[5] or "" for row in raw], pa.string()),
            pa.array([row[6] for row in raw], pa.string()),
            pa.array([bool(row[7]) for row in raw], pa.bool_()),
        ]

    def _cells(self, column: Column, values: pa.Array) -> pa.Array:
        if column.kind == "number" or column.kind == "text":
            return values
        if column.kind == "choice":
            return _labelled(values, dict(column.choices)) if self.mode == "labels" else values
        if column.kind == "multi":
            if self.mode != "labels":
                return pc.binary_join(values, " ")
            return _joined_labels(values, dict(column.choices))
        if column.kind == "dummy":
            # One code a line (codes with a line break took the row path).
            lines = pc.binary_join(values, "\n")
            pattern = f"(^|\n){_literal(column.choice)}(\n|$)"
            return pc.cast(pc.match_substring_regex(lines, pattern), pa.int8())
        raise ValueError(f"no columnar cells for {column.kind} columns")


def _literal(text: str) -> str:
    """`text` as an RE2 pattern matching itself (RE2 does not take every re.escape form)."""
    return "".join(char if char.isalnum() else f"\\x{{{ord(char):x}}}" for char in text)


def _labelled(values: pa.Array, labels: dict[str, str]) -> pa.Array:
    """Each code's label, or the code itself where it has none (as the row path does)."""
    if not labels:
        return values
    positions = pc.index_in(values, value_set=pa.array(list(labels), pa.string()))
    mapped = pc.take(pa.array(list(labels.values()), pa.string()), positions)
    missing = pc.or_kleene(pc.is_null(mapped), pc.equal(mapped, ""))
    return pc.if_else(pc.fill_null(missing, True), values, mapped)


def _joined_labels(values: pa.Array, labels: dict[str, str]) -> pa.Array:
    flat = _labelled(pc.list_flatten(values), labels)
    relabelled = pa.ListArray.from_arrays(values.offsets, flat, mask=pc.is_null(values))
    return pc.binary_join(relabelled, "; ")


# ------------------------------------------------------------------ CSV


def _csv_text(values: pa.Array, column: Column) -> pa.Array:
    """A column's cells as csv.writer writes them (None as an empty field)."""
    if column.kind == "bool":
        text = pc.if_else(values, "True", "False")
    elif column.kind in ("id", "dummy", "number"):
        text = pc.cast(values, pa.string())
    else:
        needs_quotes = pc.match_substring_regex(values, _NEEDS_QUOTES)
        if not pc.any(needs_quotes).as_py():
            # The usual case, and one pass instead of four.
            return pc.fill_null(values, "")
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
        text = pc.if_else(needs_quotes, quoted, values)
    return pc.fill_null(text, "")


def _unlike_python(number: pa.Array, text: pa.Array) -> pa.Array:
    """Numbers Arrow writes otherwise than Python: exponents, -0, tiny fractions."""
    tiny = pc.and_(pc.less(pc.abs(number), 1e-4), pc.not_equal(number, 0.0))
    odd = pc.or_(pc.match_substring(text, "e"), pc.equal(text, "-0"))
    return pc.fill_null(pc.or_(tiny, odd), False)


def write_csv(
    path: Path,
    layout: Layout,
    mode: CellMode,
    chunks: Iterator[list[tuple[Any, ...]]],
    progress: Callable[[int], None] | None = None,
) -> int:
    reader = _ChunkReader(layout, mode)
    maker = source.RowMaker(layout, mode)
    columns = layout.main.columns
    done = 0
    with path.open("wb") as handle:
        handle.write(_python_csv([[column.name for column in columns]]).encode())
        for raw in chunks:
            chunk = reader.read(raw)
            if chunk.typed is None:
                rows = [maker.main_row(source.to_source_row(values)) for values in raw]
                handle.write(_python_csv(rows).encode())
            else:
                handle.write(_chunk_csv(chunk, columns, mode))
            done += len(raw)
            if progress is not None:
                progress(done)
    return done


def _chunk_csv(chunk: _Chunk, columns: list[Column], mode: CellMode) -> bytes:
    assert chunk.typed is not None
    texts = [_csv_text(values, column) for column, values in zip(columns, chunk.typed, strict=True)]
    numbers = [index for index, column in enumerate(columns) if column.kind == "number"]
    redo = chunk.csv_rows
    for index in numbers:
        odd = _unlike_python(chunk.typed[index], texts[index])
        redo = odd if redo is None else pc.or_(redo, odd)
    if redo is not None and pc.any(redo).as_py():
        _python_numbers(texts, numbers, columns, chunk.raw, redo, mode)
    lines = pc.binary_join_element_wise(*texts, ",")
    lines = pc.binary_join_element_wise(lines, "", "\r\n")
    return b"".join(_buffers_of(lines))


def _python_numbers(
    texts: list[pa.Array],
    numbers: list[int],
    columns: list[Column],
    raw: list[tuple[Any, ...]],
    redo: pa.Array,
    mode: CellMode,
) -> None:
    """Rewrite the number cells of the `redo` rows as the row path writes them (str() of
    the int or float that the answers' JSON holds): 12.0 stays 12.0, 1e-05 stays 1e-05."""
    rows = pc.indices_nonzero(redo).to_pylist()
    answers = [_decode(raw[row][8]) for row in rows]
    for index in numbers:
        cell = cell_getter(columns[index], mode)
        again = []
        for one in answers:
            value = cell(one)
            again.append("" if value is None else str(value))
        texts[index] = pc.replace_with_mask(texts[index], redo, pa.array(again, pa.string()))


def _buffers_of(lines: pa.Array) -> Iterator[memoryview]:
    """The bytes of a string array's values, end to end, without copying them."""
    offsets = memoryview(lines.buffers()[1]).cast("i")
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    yield memoryview(lines.buffers()[2])[first:last]


def _python_csv(rows: list[list[Any]]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


# ------------------------------------------------------------------ Parquet


def write_parquet(
    path: Path,
    layout: Layout,
    mode: CellMode,
    chunks: Iterator[list[tuple[Any, ...]]],
    progress: Callable[[int], None] | None = None,
) -> int:
    reader = _ChunkReader(layout, mode)
    maker = source.RowMaker(layout, mode)
    schema = schema_of(layout.main)
    pending: list[pa.RecordBatch] = []
    waiting = 0
    done = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for raw in chunks:
            chunk = reader.read(raw)
            if chunk.typed is None:
                rows = [maker.main_row(source.to_source_row(values)) for values in raw]
                arrays = [
                    pa.array(list(values), type=field.type)
                    for values, field in zip(zip(*rows, strict=True), schema, strict=True)
                ]
            else:
                arrays = [
                    pc.cast(values, field.type)
                    for values, field in zip(chunk.typed, schema, strict=True)
                ]
            pending.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
            waiting += len(raw)
            if waiting >= ROW_GROUP:
                writer.write_table(pa.Table.from_batches(pending, schema=schema))
                pending, waiting = [], 0
            done += len(raw)
            if progress is not None:
                progress(done)
        if pending:
            writer.write_table(pa.Table.from_batches(pending, schema=schema))
    return done
