"""The two files an export from the store writes: CSV and Parquet.

Each output turns a segment's columns into a `payload` (`prepare`: pure, run on a
worker thread, pyarrow releasing the GIL) and writes payloads in order (`emit`: the
calling thread); rows made by the row path (unfit segments) go through `rows`.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from incity.exports.columnar import number_text
from incity.exports.layout import Layout
from incity.exports.writers.parquet import schema_of

# Parquet statistics only where a reader filters: the writer spends a third of its
# time on them otherwise.
_STATISTICS = ["submission_id", "received_at", "version", "status"]


class Output:
    def prepare(self, arrays: list[pa.Array]) -> Any:
        raise NotImplementedError

    def emit(self, payload: Any) -> None:
        raise NotImplementedError

    def rows(self, rows: list[list[Any]]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class CsvOutput(Output):
    """pyarrow's CSV writer, which quotes every text cell: the file reads back to the
    row path's values (its numbers may be written otherwise: 12 for 12.0, 1e+15)."""

    def __init__(self, path: str, layout: Layout) -> None:
        self.kinds = [column.kind for column in layout.main.columns]
        self.names = [f"c{index}" for index in range(len(self.kinds))]
        self.handle = pa.OSFile(path, "wb")
        self.handle.write(_python_csv([[column.name for column in layout.main.columns]]))
        self.options = pa_csv.WriteOptions(include_header=False, eol="\r\n")

    def prepare(self, arrays: list[pa.Array]) -> pa.Buffer:
        texts = [_text(values, kind) for values, kind in zip(arrays, self.kinds, strict=True)]
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(pa.Table.from_arrays(texts, names=self.names), sink, self.options)
        return sink.getvalue()

    def emit(self, payload: pa.Buffer) -> None:
        self.handle.write(payload)

    def rows(self, rows: list[list[Any]]) -> None:
        self.handle.write(_python_csv(rows))

    def close(self) -> None:
        self.handle.close()


def _text(values: pa.Array, kind: str) -> pa.Array:
    if kind == "bool":
        # As Python's csv module writes them.
        return pc.if_else(values, "True", "False")
    if kind == "number" and not pa.types.is_string(values.type):
        # The store keeps the text of numbers (built once); this is for any other.
        return number_text(values)
    return values


class ParquetOutput(Output):
    """Cast to the row path's schema (writers/parquet.py), a row group per segment."""

    def __init__(self, path: str, layout: Layout) -> None:
        self.schema = schema_of(layout.main)
        self.writer = pq.ParquetWriter(
            path, self.schema, compression="zstd", write_statistics=_STATISTICS
        )

    def prepare(self, arrays: list[pa.Array]) -> pa.Table:
        typed = [
            pc.cast(values, item.type) for values, item in zip(arrays, self.schema, strict=True)
        ]
        return pa.Table.from_arrays(typed, schema=self.schema)

    def emit(self, payload: pa.Table) -> None:
        self.writer.write_table(payload)

    def rows(self, rows: list[list[Any]]) -> None:
        if not rows:
            return
        arrays = [
            pa.array(list(values), type=item.type)
            for values, item in zip(zip(*rows, strict=True), self.schema, strict=True)
        ]
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


def _python_csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()
