"""What every writer shares: the interface, the bundle of files, safe variable names."""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from incity.exports.layout import CellMode, Layout
from incity.surveys.definition import FormDefinition

# XLSX sheets hold at most this many rows, the header row included.
XLSX_MAX_ROWS = 1_048_576


class ExportRefused(Exception):
    """The export cannot be written as asked (for example, a sheet past Excel's row limit)."""


@dataclass(frozen=True)
class WriterOptions:
    mode: CellMode
    title: str
    definition: FormDefinition | None = None


class Writer(Protocol):
    def write_chunk(self, main: list[list[Any]], linked: list[list[list[Any]]]) -> None:
        """Rows of the main table and, per linked table, its rows from the same submissions."""

    def close(self) -> None:
        """Finish the file at the path given when the writer was made."""

    def discard(self) -> None:
        """Drop whatever was written (the caller removes the output path itself)."""


class Bundle:
    """One file per table in a private folder; on close the main table's file alone, or
    every table zipped together when the layout has linked tables."""

    def __init__(self, path: Path, layout: Layout, extension: str) -> None:
        self.path = path
        self.folder = Path(tempfile.mkdtemp(prefix="incity-export-", dir=path.parent))
        self.names = unique_file_names([table.name for table in layout.tables])
        self.files = [self.folder / f"{name}.{extension}" for name in self.names]
        self.zipped = bool(layout.linked)
        self.compress = extension not in ("parquet",)

    def finish(self, files: list[Path] | None = None, readme: str = "") -> None:
        """Move the one file into place, or zip `files` (default: one per table) with an
        optional README.txt."""
        files = self.files if files is None else files
        try:
            if not self.zipped and len(files) == 1 and not readme:
                shutil.move(files[0], self.path)
                return
            method = zipfile.ZIP_DEFLATED if self.compress else zipfile.ZIP_STORED
            with zipfile.ZipFile(self.path, "w", compression=method, allowZip64=True) as archive:
                if readme:
                    archive.writestr("README.txt", readme)
                for file in files:
                    archive.write(file, arcname=file.name)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def unique_file_names(names: list[str]) -> list[str]:
    return _dedupe([_UNSAFE.sub("_", name) or "table" for name in names], 120)


def variable_names(names: list[str], limit: int) -> list[str]:
    """Names SPSS and Stata accept: letters, digits and _, starting with a letter, at most
    `limit` characters, unique (a clash gets _2, _3, ...)."""
    cleaned = []
    for name in names:
        safe = _UNSAFE.sub("_", name)
        if not safe or not safe[0].isalpha():
            safe = f"v{safe}"
        cleaned.append(safe[:limit])
    return _dedupe(cleaned, limit)


def _dedupe(names: list[str], limit: int) -> list[str]:
    seen: set[str] = set()
    result = []
    for name in names:
        candidate = name
        number = 2
        while candidate.lower() in seen:
            suffix = f"_{number}"
            candidate = name[: limit - len(suffix)] + suffix
            number += 1
        seen.add(candidate.lower())
        result.append(candidate)
    return result
