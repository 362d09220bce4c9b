"""Reading the uploaded file: its kind (.xlsx, .xls, .csv, .md), its headers, pyxform's sheets."""

from __future__ import annotations

import csv
import difflib
import io
import re
import zipfile
from pathlib import PurePath

from openpyxl import load_workbook
from pyxform.errors import PyXFormError
from pyxform.xls2json_backends import DefinitionData, get_xlsform

from incity.surveys.xlsform.errors import XLSFormError
from incity.surveys.xlsform.vocabulary import CHOICES, SETTINGS, SURVEY, _clean_header

_SUPPORTED_SHEETS = frozenset({SURVEY, CHOICES, SETTINGS, "external_choices", "entities", "osm"})
_SUFFIXES = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".csv": "csv", ".md": "md"}
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _file_kind(data: bytes, filename: str) -> str:
    """The parser for the file, refusing a name or content that is not an XLSForm."""
    suffix = PurePath(filename).suffix.lower()
    kind = _SUFFIXES.get(suffix)
    if kind is None:
        shown = f"'{suffix}'" if suffix else "no suffix"
        raise XLSFormError(
            f"The file '{filename}' has {shown}; upload an XLSForm as .xlsx, .xls, .csv or .md."
        )
    if not data:
        raise XLSFormError(f"The file '{filename}' is empty.")
    found = _sniff(data)
    expected = {"xlsx": "xlsx", "xls": "xls", "csv": "text", "md": "text"}[kind]
    if found != expected:
        what = {
            "xlsx": "an Excel .xlsx workbook",
            "xls": "an Excel 97-2003 .xls workbook",
            "csv": "a UTF-8 text file",
            "md": "a UTF-8 text file",
        }[kind]
        raise XLSFormError(f"The file '{filename}' is not {what}: {_sniff_words(found)}.")
    return kind


def _sniff(data: bytes) -> str:
    """What the bytes look like, in words for the refusal ('xlsx', 'xls', 'text' when fine)."""
    if data.startswith(b"%PDF"):
        return "it is a PDF document"
    if data.startswith(_OLE2_MAGIC):
        return "xls"
    if data.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return "it is a damaged zip archive"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names:
            return "it is an OpenDocument file; save it as .xlsx"
        return "it is a zip archive but not a spreadsheet"
    if b"\x00" in data[:8192]:
        return "it is a binary file"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "it is neither a spreadsheet nor UTF-8 text"
    return "text"


def _sniff_words(found: str) -> str:
    return {
        "xlsx": "it is an .xlsx workbook, so name it .xlsx",
        "xls": "it is an old .xls workbook or a password-protected file",
        "text": "it is a text file",
    }.get(found, found)


def _raw_headers(data: bytes, kind: str) -> dict[str, list[object]]:
    """The first row of every sheet as written, keyed by sheet name as written."""
    if kind == "xlsx":
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            return {
                sheet.title: list(next(sheet.iter_rows(max_row=1, values_only=True), ()))
                for sheet in workbook.worksheets
            }
        finally:
            workbook.close()
    if kind == "xls":
        import xlrd  # pyxform's own dependency for .xls

        book = xlrd.open_workbook(file_contents=data, on_demand=True)
        try:
            return {
                sheet.name: list(sheet.row_values(0)) if sheet.nrows else []
                for sheet in book.sheets()
            }
        finally:
            book.release_resources()
    text = data.decode("utf-8")
    if kind == "csv":
        return _csv_headers(text)
    return _md_headers(text)


def _csv_headers(text: str) -> dict[str, list[object]]:
    # pyxform's csv layout: a value in the first column names a sheet; the first row with
    # values after it holds the column headers.
    headers: dict[str, list[object]] = {}
    sheet: str | None = None
    for row in csv.reader(io.StringIO(text, newline="")):
        if not row:
            continue
        if row[0].strip():
            sheet = row[0].strip()
            headers.setdefault(sheet, [])
        content = [value.strip() for value in row[1:]]
        if sheet is not None and not headers[sheet] and any(content):
            headers[sheet] = list(content)
    return headers


def _md_headers(text: str) -> dict[str, list[object]]:
    headers: dict[str, list[object]] = {}
    sheet: str | None = None
    for line in text.split("\n"):
        if line.lstrip().startswith("#"):
            continue
        match = re.match(r"\s*\|(.*)\|\s*$", line)
        if not match or re.match(r"^[\|\-\s:]+$", match.group(1)):
            continue
        cells = [
            cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", match.group(1))
        ]
        if cells[0]:
            sheet = cells[0]
            headers.setdefault(sheet, [])
        if sheet is not None and not headers[sheet] and any(cells[1:]):
            headers[sheet] = list(cells[1:])
    return headers


def _check_raw_headers(raw: dict[str, list[object]]) -> None:
    """Refuse duplicate or non-text column headers, which pyxform drops or trips over."""
    names = {name.strip().lower(): name for name in raw}
    for lowered, original in names.items():
        if lowered not in _SUPPORTED_SHEETS and len(raw) > 1:
            continue
        sheet = lowered if lowered in _SUPPORTED_SHEETS else SURVEY
        seen: set[str] = set()
        for value in raw[original]:
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if not isinstance(value, str):
                raise XLSFormError(
                    f"the column header {value!r} is not text; column headers are names "
                    "such as 'type', 'name' or 'label::English (en)'.",
                    sheet,
                    1,
                    str(value),
                )
            header = _clean_header(value)
            if header in seen:
                raise XLSFormError(
                    f"the column header '{header}' appears more than once; keep one of them.",
                    sheet,
                    1,
                    header,
                )
            seen.add(header)


def _read_sheets(data: bytes, kind: str) -> DefinitionData:
    if kind in ("csv", "md"):
        # pyxform decodes as plain UTF-8; a byte-order mark would hide the first sheet name.
        data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        raw = _raw_headers(data, kind)
    except Exception as exc:  # damaged files raise anything from zipfile, xml or xlrd
        raise XLSFormError(f"The file could not be read as a .{kind} workbook: {exc}") from exc
    no_sheets = XLSFormError(
        "The file holds no XLSForm sheets: write a sheet name such as 'survey', "
        "then a row of column headers and the rows below it."
    )
    if not any(any(v not in (None, "") for v in row) for row in raw.values()):
        if kind in ("csv", "md"):
            raise no_sheets
        raise XLSFormError("The workbook is empty: none of its sheets has any content.")
    _check_raw_headers(raw)
    try:
        sheets = get_xlsform(data, file_type=f".{kind}")
    except Exception as exc:  # pyxform's readers let odd cells through as raw exceptions
        if kind in ("csv", "md") and isinstance(exc, PyXFormError):
            raise no_sheets from exc  # pyxform refuses text without enough commas or pipes
        raise XLSFormError(f"The file could not be read as a .{kind} XLSForm: {exc}") from exc
    if sheets.survey is None and not sheets.survey_header:
        found = ", ".join(f"'{name}'" for name in raw) or "none"
        hint = difflib.get_close_matches(SURVEY, [name.lower() for name in raw], n=1)
        did_you_mean = f" Should '{hint[0]}' be called 'survey'?" if hint else ""
        raise XLSFormError(
            f"The workbook has no sheet named 'survey' (its sheets: {found}).{did_you_mean}"
        )
    return sheets
