"""SPSS (.sav) and Stata (.dta) with pyreadstat, with variable and value labels.

pyreadstat writes a whole DataFrame at once and has no append mode, so these
two formats hold the rows of a table in memory before writing: about 8 bytes
per number cell and the text itself per text cell. To keep memory flat however
large the form, a table is written in parts of at most `EXPORT_STATS_PART_ROWS`
rows: a table that fits is one file as before; a longer one becomes
`NAME_part1.sav`, `NAME_part2.sav`, ... zipped together with a README saying how
to append them (SPSS `ADD FILES`, Stata `append using`). The rows are kept as
typed column lists, not Python rows, to keep each part as small as it can be.

Single choices are written as their position in the choice list (1, 2, ...)
with the choice labels as value labels; `--labels labels` writes the label
text instead. Multiple choices keep their codes as text and get a 0/1 column
per choice, labelled with the choice's text.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat
from django.conf import settings

from incity.exports.layout import TEXT_KINDS, Column, Layout, Table
from incity.exports.writers.base import Bundle, WriterOptions, variable_names

DUMMY_LABELS = {0.0: "not chosen", 1.0: "chosen"}


def _is_text(column: Column, mode: str) -> bool:
    if column.kind in TEXT_KINDS or column.kind == "text":
        return True
    return column.kind == "choice" and mode != "numbered"


class _TableData:
    def __init__(self, table: Table, mode: str, limit: int, label_limit: int) -> None:
        self.table = table
        self.names = variable_names([column.name for column in table.columns], limit)
        self.text = [_is_text(column, mode) for column in table.columns]
        self.values: list[list[Any]] = [[] for _ in table.columns]
        self.labels: list[str | None] = [column.label[:label_limit] for column in table.columns]
        self.value_labels: dict[str, dict[float, str]] = {}
        for name, column in zip(self.names, table.columns, strict=True):
            if column.kind == "choice" and mode == "numbered" and column.choices:
                self.value_labels[name] = {
                    float(position): (text or code)[:label_limit]
                    for position, (code, text) in enumerate(column.choices, start=1)
                }
            elif column.kind == "dummy":
                self.value_labels[name] = dict(DUMMY_LABELS)

    def add(self, rows: list[list[Any]]) -> None:
        if not rows:
            return
        for index, values in enumerate(zip(*rows, strict=True)):
            if self.text[index]:
                self.values[index].extend("" if value is None else str(value) for value in values)
            else:
                self.values[index].extend(_float(value) for value in values)

    def row_count(self) -> int:
        return len(self.values[0]) if self.values else 0

    def clear(self) -> None:
        self.values = [[] for _ in self.table.columns]

    def frame(self) -> pd.DataFrame:
        data = {}
        for name, values, text in zip(self.names, self.values, self.text, strict=True):
            data[name] = pd.Series(values, dtype=object if text else "float64")
        return pd.DataFrame(data, columns=self.names)


def _float(value: Any) -> float:
    if value is None or isinstance(value, str):
        return math.nan
    return float(value)


class _ReadstatWriter:
    extension = ""
    name_limit = 64
    label_limit = 256
    how_to_append = ""

    def __init__(self, path: Path, layout: Layout, options: WriterOptions) -> None:
        self.bundle = Bundle(path, layout, self.extension)
        self.title = options.title
        self.mode = options.mode
        self.part_rows = int(settings.EXPORT_STATS_PART_ROWS)
        self.tables = [
            _TableData(table, options.mode, self.name_limit, self.label_limit)
            for table in layout.tables
        ]
        # Per table, the parts written so far.
        self.parts: list[list[Path]] = [[] for _ in layout.tables]

    def write_chunk(self, main: list[list[Any]], linked: list[list[list[Any]]]) -> None:
        for index, (data, rows) in enumerate(zip(self.tables, [main, *linked], strict=True)):
            position = 0
            while position < len(rows):
                room = self.part_rows - data.row_count()
                data.add(rows[position : position + room])
                position += room
                if data.row_count() >= self.part_rows:
                    self._flush(index)

    def close(self) -> None:
        for index, data in enumerate(self.tables):
            if data.row_count() or not self.parts[index]:
                self._flush(index)
        files = self._named_files()
        split = any(len(parts) > 1 for parts in self.parts)
        self.bundle.finish(files, self._readme(files) if split else "")

    def _flush(self, index: int) -> None:
        data = self.tables[index]
        file = self.bundle.folder / f"{self.bundle.names[index]}_part{len(self.parts[index]) + 1}"
        file = file.with_suffix(f".{self.extension}")
        self._write(data.frame(), file, data)
        self.parts[index].append(file)
        data.clear()

    def _named_files(self) -> list[Path]:
        """A table in one part keeps the plain name (`main.sav`); parts keep theirs."""
        files: list[Path] = []
        for name, parts in zip(self.bundle.names, self.parts, strict=True):
            if len(parts) == 1:
                plain = parts[0].with_name(f"{name}.{self.extension}")
                parts[0].rename(plain)
                files.append(plain)
            else:
                files.extend(parts)
        return files

    def _readme(self, files: list[Path]) -> str:
        listed = "\n".join(f"  {file.name}" for file in files)
        return (
            f"{self.title}\n\nTables longer than {self.part_rows:,} rows are written in parts "
            f"(the {self.extension.upper()} format is built in memory, so parts keep an export "
            "of any size within bounded memory). Every part of a table has the same "
            f"variables and labels; append them in order to get the whole table:\n\n"
            f"{self.how_to_append}\n\nFiles:\n{listed}\n"
        )

    def _write(self, frame: pd.DataFrame, file: Path, data: _TableData) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        self.bundle.discard()


class SavWriter(_ReadstatWriter):
    extension = "sav"
    name_limit = 64
    label_limit = 256
    how_to_append = (
        "SPSS: GET FILE='main_part1.sav'. ADD FILES /FILE=* /FILE='main_part2.sav' (and so on). "
        "EXECUTE."
    )

    def _write(self, frame: pd.DataFrame, file: Path, data: _TableData) -> None:
        pyreadstat.write_sav(
            frame,
            str(file),
            file_label=self.title[:64],
            column_labels=data.labels,
            variable_value_labels=data.value_labels,
            compress=True,
        )


class DtaWriter(_ReadstatWriter):
    extension = "dta"
    # Stata's limits: 32-character names, 80-character labels.
    name_limit = 32
    label_limit = 80
    how_to_append = "Stata: use main_part1, clear, then append using main_part2 (and so on)."

    def _write(self, frame: pd.DataFrame, file: Path, data: _TableData) -> None:
        pyreadstat.write_dta(
            frame,
            str(file),
            file_label=self.title[:80],
            column_labels=data.labels,
            variable_value_labels={
                name: {int(key): text for key, text in labels.items()}
                for name, labels in data.value_labels.items()
            },
        )
