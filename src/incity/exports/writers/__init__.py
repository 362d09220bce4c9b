"""Streaming writers, one per export format. To add a format: a module here with a class
that has `write_chunk`, `close` and `discard` (see base.Writer), a line in WRITERS, and a
value in models.ExportFormat."""

from __future__ import annotations

from pathlib import Path

from incity.exports.layout import Layout
from incity.exports.writers.base import ExportRefused, Writer, WriterOptions
from incity.exports.writers.csv_writer import CsvWriter
from incity.exports.writers.geojson import GeoJsonWriter
from incity.exports.writers.parquet import ParquetWriter
from incity.exports.writers.readstat import DtaWriter, SavWriter
from incity.exports.writers.xlsx import XlsxWriter

WRITERS: dict[str, type] = {
    "csv": CsvWriter,
    "xlsx": XlsxWriter,
    "sav": SavWriter,
    "dta": DtaWriter,
    "parquet": ParquetWriter,
    "geojson": GeoJsonWriter,
}
# Formats that hold one table per file: a form with repeats gives a zip of linked files.
ONE_TABLE_FORMATS = frozenset({"csv", "sav", "dta", "parquet"})


def open_writer(format: str, path: Path, layout: Layout, options: WriterOptions) -> Writer:
    writer: Writer = WRITERS[format](path, layout, options)
    return writer


__all__ = [
    "ONE_TABLE_FORMATS",
    "WRITERS",
    "ExportRefused",
    "Writer",
    "WriterOptions",
    "open_writer",
]
