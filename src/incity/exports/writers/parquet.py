"""Parquet with pyarrow: one ParquetWriter per table, a row group per 64k rows.

Variable labels travel as each field's `label` metadata, value labels as
`value_labels` (JSON), so a reader can rebuild a codebook from the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from incity.exports.layout import Column, Layout, Table
from incity.exports.writers.base import Bundle, WriterOptions

ROW_GROUP = 65_536


def arrow_type(column: Column) -> pa.DataType:
    if column.kind == "id":
        return pa.int64()
    if column.kind == "number":
        return pa.float64()
    if column.kind == "bool":
        return pa.bool_()
    if column.kind == "dummy":
        return pa.int8()
    return pa.string()


def schema_of(table: Table) -> pa.Schema:
    fields = []
    for column in table.columns:
        metadata = {"label": column.label}
        if column.choices:
            metadata["value_labels"] = json.dumps(dict(column.choices), ensure_ascii=False)
        fields.append(pa.field(column.name, arrow_type(column), metadata=metadata))
    return pa.schema(fields)


class ParquetWriter:
    def __init__(self, path: Path, layout: Layout, options: WriterOptions) -> None:
        self.bundle = Bundle(path, layout, "parquet")
        self.schemas = [schema_of(table) for table in layout.tables]
        self.writers = [
            pq.ParquetWriter(str(file), schema, compression="zstd")
            for file, schema in zip(self.bundle.files, self.schemas, strict=True)
        ]
        self.pending: list[list[list[Any]]] = [[] for _ in layout.tables]

    def write_chunk(self, main: list[list[Any]], linked: list[list[list[Any]]]) -> None:
        for index, rows in enumerate([main, *linked]):
            self.pending[index].extend(rows)
            if len(self.pending[index]) >= ROW_GROUP:
                self._flush(index)

    def _flush(self, index: int) -> None:
        rows = self.pending[index]
        if not rows:
            return
        schema = self.schemas[index]
        columns = list(zip(*rows, strict=True))
        arrays = [
            pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)
        ]
        self.writers[index].write_table(pa.Table.from_arrays(arrays, schema=schema))
        self.pending[index] = []

    def close(self) -> None:
        for index, writer in enumerate(self.writers):
            self._flush(index)
            writer.close()
        self.bundle.finish()

    def discard(self) -> None:
        for writer in self.writers:
            writer.close()
        self.bundle.discard()
