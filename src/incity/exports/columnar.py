"""Answers as Arrow columns: the decoding and cell rules shared by the column store
(exports/store/) and its CSV and Parquet exports.

A page of submissions' answers is joined into newline-delimited JSON and read by
pyarrow's JSON reader with a schema taken from the layout (numbers as float64,
multiple choices as lists of codes, everything else as text), so that decoding,
label mapping and multiple-choice 0/1 columns run over whole columns in C instead
of one Python call per cell. Answers that do not fit that schema (a number where
text is expected, a string in a number question, a multiple choice held as a
string or with a null in it) make the page *unfit*: its rows are written by the
row path, which renders any value.

Forms with repeats or map marks, geometry questions, and exports that include
sensitive answers (decrypted one submission at a time) always take the row path.
"""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from incity.exports.layout import CellMode, Column, Layout

FAST_FORMATS = frozenset({"csv", "parquet"})
# Question columns the columnar path lays out (geometry, for one, is re-serialised JSON).
_FAST_KINDS = frozenset({"text", "number", "choice", "multi", "dummy"})


def supported(layout: Layout, format: str, mode: CellMode, include_sensitive: bool) -> bool:
    """Whether the column store writes this export (else the row path does)."""
    return (
        format in FAST_FORMATS and mode in ("codes", "labels") and flat(layout, include_sensitive)
    )


def flat(layout: Layout, include_sensitive: bool) -> bool:
    """One table of plain questions, no sensitive answers: what the store can hold."""
    return (
        not include_sensitive
        and not layout.linked
        and all(column.kind in _FAST_KINDS for column in layout.main.columns if column.question)
    )


def answers_schema(layout: Layout) -> pa.Schema:
    """Each top-level question of the main table, typed as its answers are decoded."""
    questions: dict[str, pa.DataType] = {}
    for column in layout.main.columns:
        if not column.question:
            continue
        kind = pa.float64() if column.kind == "number" else pa.string()
        if column.kind in ("multi", "dummy"):
            # As the submission service stores them: a list of codes.
            kind = pa.list_(pa.string())
        questions.setdefault(column.question, kind)
    return pa.schema(list(questions.items()))


class AnswerDecoder:
    """Answers (JSON text, one per submission) to an Arrow table, or None where unfit."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.parse_options = pa_json.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore"
        )
        # One block a page; threads only help where cores are idle, and the store is
        # built beside the web server.
        self.read_options = pa_json.ReadOptions(use_threads=False, block_size=1 << 27)

    def decode(self, answers: list[object]) -> pa.Table | None:
        if not answers:
            return self.schema.empty_table()
        if not all(isinstance(text, str) for text in answers):
            return None
        joined = "\n".join(answers).encode()  # type: ignore[arg-type]
        if joined.count(b"\n") != len(answers) - 1:
            # Pretty-printed JSON: one answer set would read as several rows.
            return None
        try:
            table = pa_json.read_json(
                io.BytesIO(joined),
                read_options=self.read_options,
                parse_options=self.parse_options,
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return None
        if table.num_rows != len(answers) or not _plain_lists(table):
            return None
        return table.combine_chunks()


def _plain_lists(table: pa.Table) -> bool:
    """False where a multiple choice holds a null code (the row path drops it)."""
    for field in table.schema:
        if pa.types.is_list(field.type):
            items = pc.list_flatten(table.column(field.name))
            if len(items) and items.null_count:
                return False
    return True


def number_text(values: pa.Array) -> pa.Array:
    """Numbers as CSV text that reads back to the same values (12.0 may become 12)."""
    try:
        # Whole numbers (most answers to integer questions) through int64: Arrow writes
        # those four times faster than doubles.
        return pc.cast(pc.cast(values, pa.int64()), pa.string())
    except pa.ArrowInvalid:
        return pc.cast(values, pa.string())


def cells(column: Column, values: pa.Array, mode: CellMode) -> pa.Array:
    """A question column's cells from its decoded answers, as the row path makes them."""
    if column.kind == "number" or column.kind == "text":
        return values
    if column.kind == "choice":
        return labelled(values, dict(column.choices)) if mode == "labels" else values
    if column.kind == "multi":
        if mode != "labels":
            return pc.binary_join(values, " ")
        return _joined_labels(values, dict(column.choices))
    if column.kind == "dummy":
        return dummy(values, column.choice)
    raise ValueError(f"no columnar cells for {column.kind} columns")


def dummy(values: pa.Array, choice: str) -> pa.Array:
    """1 where the list holds `choice`, 0 where it does not, null where there is no list."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    found = np.zeros(len(values), dtype=np.int8)
    items = pc.list_flatten(values)
    if len(items):
        hits = pc.equal(items, pa.scalar(choice, pa.string()))
        parents = pc.filter(pc.list_parent_indices(values), pc.fill_null(hits, False))
        found[parents.to_numpy(zero_copy_only=False)] = 1
    return pa.array(found, pa.int8(), mask=pc.is_null(values).to_numpy(zero_copy_only=False))


def labelled(values: pa.Array, labels: dict[str, str]) -> pa.Array:
    """Each code's label, or the code itself where it has none (as the row path does)."""
    if not labels:
        return values
    positions = pc.index_in(values, value_set=pa.array(list(labels), pa.string()))
    mapped = pc.take(pa.array(list(labels.values()), pa.string()), positions)
    missing = pc.or_kleene(pc.is_null(mapped), pc.equal(mapped, ""))
    return pc.if_else(pc.fill_null(missing, True), values, mapped)


def _joined_labels(values: pa.Array, labels: dict[str, str]) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    flat_items = labelled(pc.list_flatten(values), labels)
    offsets = pc.subtract(values.offsets, values.offsets[0])
    relabelled = pa.ListArray.from_arrays(offsets, flat_items, mask=pc.is_null(values))
    return pc.binary_join(relabelled, "; ")
