"""CSV: the standard library's csv writer, one streamed file per table (zipped if several)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

from incity.exports.layout import Layout
from incity.exports.writers.base import Bundle, WriterOptions


class CsvWriter:
    def __init__(self, path: Path, layout: Layout, options: WriterOptions) -> None:
        self.bundle = Bundle(path, layout, "csv")
        self.handles: list[IO[str]] = []
        self.writers: list[Any] = []
        for file, table in zip(self.bundle.files, layout.tables, strict=True):
            handle = file.open("w", encoding="utf-8", newline="")
            self.handles.append(handle)
            writer = csv.writer(handle)
            writer.writerow([column.name for column in table.columns])
            self.writers.append(writer)

    def write_chunk(self, main: list[list[Any]], linked: list[list[list[Any]]]) -> None:
        self.writers[0].writerows(main)
        for writer, rows in zip(self.writers[1:], linked, strict=True):
            writer.writerows(rows)

    def close(self) -> None:
        for handle in self.handles:
            handle.close()
        self.bundle.finish()

    def discard(self) -> None:
        for handle in self.handles:
            handle.close()
        self.bundle.discard()
