"""XLSX with xlsxwriter in constant-memory mode: each row goes to disk as it is written.

One sheet per table, and a `variables` sheet with every column's label. Excel
holds 1,048,576 rows a sheet; an export that would pass it is refused, naming
the sheet, rather than cut short.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import xlsxwriter

from incity.exports.layout import Layout
from incity.exports.writers.base import XLSX_MAX_ROWS, ExportRefused, WriterOptions


def sheet_names(names: list[str]) -> list[str]:
    result: list[str] = []
    for name in names:
        cleaned = "".join("_" if c in "[]:*?/\\" else c for c in name)[:31] or "sheet"
        candidate, number = cleaned, 2
        while candidate.lower() in (existing.lower() for existing in result):
            suffix = f"_{number}"
            candidate = cleaned[: 31 - len(suffix)] + suffix
            number += 1
        result.append(candidate)
    return result


class XlsxWriter:
    def __init__(self, path: Path, layout: Layout, options: WriterOptions) -> None:
        self.path = path
        # Never turn answers into formulas or links: a text answer "=1+1" stays text.
        self.book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                # A full sheet of a wide form passes 4 GB of XML (a million rows of 60
                # questions did): without ZIP64 the file cannot be closed.
                "use_zip64": True,
            },
        )
        bold = self.book.add_format({"bold": True})
        names = sheet_names([table.name for table in layout.tables] + ["variables"])
        self.sheets = []
        self.rows: list[int] = []
        for name, table in zip(names, layout.tables, strict=False):
            sheet = self.book.add_worksheet(name)
            sheet.write_row(0, 0, [column.name for column in table.columns], bold)
            self.sheets.append(sheet)
            self.rows.append(1)
        variables = self.book.add_worksheet(names[-1])
        variables.write_row(0, 0, ["sheet", "variable", "label"], bold)
        line = 1
        for name, table in zip(names, layout.tables, strict=False):
            for column in table.columns:
                variables.write_row(line, 0, [name, column.name, column.label])
                line += 1
        self.sheet_titles = names

    def write_chunk(self, main: list[list[Any]], linked: list[list[list[Any]]]) -> None:
        for index, rows in enumerate([main, *linked]):
            if not rows:
                continue
            start = self.rows[index]
            if start + len(rows) > XLSX_MAX_ROWS:
                raise ExportRefused(
                    f"The sheet '{self.sheet_titles[index]}' would pass Excel's limit of "
                    f"{XLSX_MAX_ROWS:,} rows; export as CSV or Parquet, or a part with --since."
                )
            sheet = self.sheets[index]
            for offset, row in enumerate(rows):
                sheet.write_row(start + offset, 0, row)
            self.rows[index] = start + len(rows)

    def close(self) -> None:
        self.book.close()

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self.book.close()
