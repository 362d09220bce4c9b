"""SPSS (.sav) and Stata (.dta) with pyreadstat, with variable and value labels.

pyreadstat writes a whole DataFrame at once and has no append mode, so these
two formats hold every row of a table in memory before writing: about 8 bytes
per number cell and the text itself per text cell (docs/exports.md gives the
measured peak). The rows are kept as typed column lists, not Python rows, to
keep that as small as it can be.

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

    def __init__(self, path: Path, layout: Layout, options: WriterOptions) -> None:
        self.bundle = Bundle(path, layout, self.extension)
        self.title = options.title
        self.tables = [
            _TableData(table, options.mode, self.name_limit, self.label_limit)
            for table in layout.tables
        ]

    def write_chunk(self, main: list[list[Any]], linked: list[list[list[Any]]]) -> None:
        for data, rows in zip(self.tables, [main, *linked], strict=True):
            data.add(rows)

    def close(self) -> None:
        for data, file in zip(self.tables, self.bundle.files, strict=True):
            frame = data.frame()
            self._write(frame, file, data)
            data.values = []
        self.bundle.finish()

    def _write(self, frame: pd.DataFrame, file: Path, data: _TableData) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        self.bundle.discard()


class SavWriter(_ReadstatWriter):
    extension = "sav"
    name_limit = 64
    label_limit = 256

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
