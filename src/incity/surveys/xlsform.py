"""XLSForm in and out: read an uploaded XLSForm into a `FormDefinition`, write one back.

`read_xlsform` reads the sheets with pyxform's own readers (so cells are turned
into text exactly as pyxform sees them), builds the definition from the raw
rows itself (pyxform's JSON tree is lossy: it adds generated questions for
`repeat_count` expressions, table-lists and `or_other`, and drops the columns
it does not know), and then runs the original workbook through pyxform's
conversion so that every form incity accepts is one ODK Collect accepts too.
Each refusal is an `XLSFormError` naming the sheet, row and column.

`write_xlsform` and `to_xform` share one row writer, so that the file a user
downloads and the XForm the phones receive say the same thing, and so that
`read_xlsform(write_xlsform(d))` gives `d` back for every `d` read here.

Map marks (incity's own type, see `definition.py`) are written as a repeat
marked `incity_type = map_marks` with four fixed questions (`category`,
`geometry`, `time_of_day`, `comment`); the reader folds such a repeat back
into one element. ODK has no "point, line or area" type, so the geometry
question is a `geoshape` unless the element's parameters name one kind:
`geometry=point` gives a `geopoint`, `geometry=line` a `geotrace`.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal, NoReturn, cast

from openpyxl import Workbook, load_workbook
from pyxform.errors import PyXFormError
from pyxform.question_type_dictionary import QUESTION_TYPE_DICT
from pyxform.xls2json_backends import DefinitionData, get_xlsform

from incity.errors import InvalidInput
from incity.surveys.definition import (
    DEFAULT_LANGUAGE_KEY,
    NAME_PATTERN,
    TIMES_OF_DAY,
    Choice,
    Element,
    FormDefinition,
    walk,
)
from incity.surveys.formcheck import check_definition

# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class XLSFormError(InvalidInput):
    """An XLSForm incity refuses; the message is one line naming sheet, row and column."""

    def __init__(
        self,
        message: str,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(
            "file",
            _located(message, sheet, row, column),
            sheet=sheet,
            row=row,
            column=column,
        )
        self.sheet = sheet
        self.row = row
        self.column = column


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _located(message: str, sheet: str | None, row: int | None, column: str | None) -> str:
    parts = []
    if sheet:
        parts.append(f"{sheet} sheet")
    if row is not None:
        parts.append(f"row {row}")
    if column:
        parts.append(f"column {column}")
    detail = _one_line(message)
    if not detail.endswith((".", "?", "!", ")")):
        detail += "."
    if not parts:
        return detail[:1].upper() + detail[1:]
    # Lower-case a leading capitalised word ("The ...") so the sentence reads on after the colon.
    if re.match(r"^[A-Z][a-z]", detail):
        detail = detail[:1].lower() + detail[1:]
    return f"{', '.join(parts)}: {detail}"


@dataclass(frozen=True)
class ImportedForm:
    definition: FormDefinition
    warnings: list[str]
    required_files: list[str]


# --------------------------------------------------------------------------------------
# Vocabulary: XLSForm column names and types, and what incity calls them
# --------------------------------------------------------------------------------------

SURVEY = "survey"
CHOICES = "choices"
SETTINGS = "settings"
MAP_MARKS = "map_marks"
TIME_OF_DAY_LIST = "incity_time_of_day"

_TRANSLATED_FIELDS = ("label", "hint", "required_message", "constraint_message")
_MEDIA_KINDS = ("image", "big-image", "audio", "video")
_PLAIN_FIELDS = (
    "relevant",
    "constraint",
    "calculation",
    "default",
    "appearance",
    "parameters",
    "choice_filter",
    "repeat_count",
)
_TAG_COLUMNS = {
    "incity_domains": "domains",
    "incity_module": "module",
    "incity_source_survey": "source_survey",
    "incity_source_variable": "source_variable",
    "incity_sensitive": "sensitive",
}

# Survey column headers (snake-cased, lower-cased; "::" between tokens) -> incity field.
_SURVEY_COLUMNS: dict[str, str] = {
    "type": "type",
    "command": "type",
    "name": "name",
    "tag": "name",
    "value": "name",
    "label": "label",
    "caption": "label",
    "hint": "hint",
    "required": "required",
    "bind::required": "required",
    "required_message": "required_message",
    "requiredmsg": "required_message",
    "bind::jr:requiredmsg": "required_message",
    "relevant": "relevant",
    "relevance": "relevant",
    "bind::relevant": "relevant",
    "constraint": "constraint",
    "bind::constraint": "constraint",
    "constraint_message": "constraint_message",
    "constraining_message": "constraint_message",
    "bind::jr:constraintmsg": "constraint_message",
    "calculation": "calculation",
    "calculate": "calculation",
    "bind::calculate": "calculation",
    "default": "default",
    "read_only": "read_only",
    "readonly": "read_only",
    "bind::readonly": "read_only",
    "appearance": "appearance",
    "control::appearance": "appearance",
    "body::appearance": "appearance",
    "parameters": "parameters",
    "choice_filter": "choice_filter",
    "repeat_count": "repeat_count",
    "count": "repeat_count",
    "jr:count": "repeat_count",
    "control::jr:count": "repeat_count",
    "body::jr:count": "repeat_count",
    "disabled": "disabled",
    "incity_type": "incity_type",
    **{column: column for column in _TAG_COLUMNS},
    **{kind: f"media:{kind}" for kind in _MEDIA_KINDS},
    **{f"media::{kind}": f"media:{kind}" for kind in _MEDIA_KINDS},
}
_CHOICE_COLUMNS: dict[str, str] = {
    "list_name": "list_name",
    "name": "name",
    "value": "name",
    "label": "label",
    "caption": "label",
    **{kind: f"media:{kind}" for kind in _MEDIA_KINDS},
    **{f"media::{kind}": f"media:{kind}" for kind in _MEDIA_KINDS},
}
_TRANSLATED_COLUMNS = frozenset({*_TRANSLATED_FIELDS, *(f"media:{kind}" for kind in _MEDIA_KINDS)})
# pyxform translates these too; incity keeps them in `extra` but counts their languages.
_TRANSLATED_EXTRA = frozenset({"guidance_hint"})

_YES = frozenset({"yes", "true", "true()"})
_NO = frozenset({"no", "false", "false()"})

# Every question type name pyxform accepts for a type incity models -> incity's name.
_TYPE_ALIASES: dict[str, str] = {
    **{name: name for name in ("text", "integer", "decimal", "range", "date", "time")},
    **{name: name for name in ("geopoint", "geotrace", "geoshape", "barcode", "acknowledge")},
    **{name: name for name in ("image", "audio", "video", "file", "note", "calculate")},
    **{name: name for name in ("hidden", "start", "end", "today", "deviceid", "username")},
    **{name: name for name in ("email", "phonenumber", "subscriberid", "simserial", "audit")},
    **{name: name for name in ("start-geopoint", "background-audio", "datetime")},
    "string": "text",
    "q string": "text",
    "add text prompt": "text",
    "int": "integer",
    "q int": "integer",
    "add integer prompt": "integer",
    "q decimal": "decimal",
    "add decimal prompt": "decimal",
    "q date": "date",
    "add date prompt": "date",
    "dateTime": "datetime",
    "date time": "datetime",
    "q dateTime": "datetime",
    "q date time": "datetime",
    "add dateTime prompt": "datetime",
    "add date time prompt": "datetime",
    "gps": "geopoint",
    "location": "geopoint",
    "q geopoint": "geopoint",
    "q location": "geopoint",
    "add location prompt": "geopoint",
    "q geotrace": "geotrace",
    "q geoshape": "geoshape",
    "q barcode": "barcode",
    "add barcode prompt": "barcode",
    "trigger": "acknowledge",
    "q acknowledge": "acknowledge",
    "add acknowledge prompt": "acknowledge",
    "photo": "image",
    "q image": "image",
    "q picture": "image",
    "add image prompt": "image",
    "add photo prompt": "image",
    "q audio": "audio",
    "add audio prompt": "audio",
    "q video": "video",
    "add video prompt": "video",
    "add file prompt": "file",
    "q note": "note",
    "add note prompt": "note",
    "q calculate": "calculate",
    "add calculate prompt": "calculate",
    "start time": "start",
    "get start time": "start",
    "end time": "end",
    "get end time": "end",
    "get today": "today",
    "imei": "deviceid",
    "device id": "deviceid",
    "get device id": "deviceid",
    "uri:deviceid": "deviceid",
    "uri:username": "username",
    "uri:email": "email",
    "phone number": "phonenumber",
    "get phone number": "phonenumber",
    "uri:phonenumber": "phonenumber",
    "subscriber id": "subscriberid",
    "get subscriber id": "subscriberid",
    "uri:subscriberid": "subscriberid",
    "sim id": "simserial",
    "get sim id": "simserial",
    "uri:simserial": "simserial",
}
# Select commands (followed by a list name) -> incity's type. Longest first when matching.
_SELECT_COMMANDS: dict[str, str] = {
    "select_one": "select_one",
    "select one": "select_one",
    "select1": "select_one",
    "select one from": "select_one",
    "add select one prompt using": "select_one",
    "select_multiple": "select_multiple",
    "select all that apply": "select_multiple",
    "select all that apply from": "select_multiple",
    "add select multiple prompt using": "select_multiple",
    "rank": "rank",
    "select_one_from_file": "select_one_from_file",
    "select one from file": "select_one_from_file",
    "select_multiple_from_file": "select_multiple_from_file",
    "select multiple from file": "select_multiple_from_file",
}
_FILE_SELECTS = frozenset({"select_one_from_file", "select_multiple_from_file"})
_LIST_SELECTS = frozenset({"select_one", "select_multiple", "rank"})
_SELECT_FILE_EXTENSIONS = (".csv", ".xml", ".geojson")
_OR_OTHER = frozenset({"or_other", "or other", "or specify other"})
_BEGIN_END = re.compile(
    r"^(?P<action>begin|end)[ _](?P<kind>group|repeat|lgroup|looped group|loop)"
    r"(?:\s+(?:over\s+)?(?P<list>\S+))?$"
)
# Types pyxform knows that incity does not model: refused with a clear word.
_UNSUPPORTED_TYPES = frozenset(
    {*QUESTION_TYPE_DICT, "select_one_external", "begin loop", "begin_loop"}
) - set(_TYPE_ALIASES)
_KNOWN_TYPE_WORDS = sorted(
    {*_TYPE_ALIASES, *_SELECT_COMMANDS, "begin_group", "end_group", "begin_repeat", "end_repeat"}
)

# The fixed questions of a map-marks repeat, and the ODK geometry type per mark kind.
_MARK_CHILDREN = ("category", "geometry", "time_of_day", "comment")
_GEOMETRY_TYPES = {"point": "geopoint", "line": "geotrace", "polygon": "geoshape"}
_GEOMETRY_KINDS = {odk: kind for kind, odk in _GEOMETRY_TYPES.items()}
_MARK_LABELS = {
    "category": "Category",
    "geometry": "Place on the map",
    "time_of_day": "Time of day",
    "comment": "Comment",
}
_TIME_OF_DAY_LABELS = {"day": "Day", "evening": "Evening", "night": "Night"}

_SUPPORTED_SHEETS = frozenset({SURVEY, CHOICES, SETTINGS, "external_choices", "entities", "osm"})
_SUFFIXES = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".csv": "csv", ".md": "md"}
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NAMED_QUESTION = re.compile(r"\b(?:[Qq]uestion|survey element named) '([^']+)'")
_ROW_PREFIX = re.compile(r"^\[row\s*:\s*(\d+)\]\s*")
_SHEET_COLUMN = re.compile(r"^On the '([^']+)' sheet, (the '([^']*)' value)")


def _clean(value: object) -> str:
    """A cell as text the way it reads back from any format: one kind of newline, no
    non-breaking spaces or control characters (xlsx cannot hold them), no outer spaces."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    return _ILLEGAL_CHARACTERS.sub("", text).strip()


def _clean_header(value: object) -> str:
    return " ".join(_clean(value).split())


def _snake(token: str) -> str:
    return "_".join(token.split()).lower()


# --------------------------------------------------------------------------------------
# Reading: the file itself
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Reading: columns
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    header: str  # as written, whitespace collapsed; the key in `extra`
    field: str  # incity's field, "media:<kind>", or "extra"
    language: str | None = None  # the suffix of a translated column; None when unsuffixed


def _classify(header: str, double_colon: bool, known: Mapping[str, str]) -> _Column:
    """Which field a column header sets, following pyxform's header rules."""
    if double_colon:
        tokens = [token.strip() for token in header.split("::")]
    else:
        # Legacy single-colon headers ("label:english"); "jr:count" stays one token.
        tokens = [token.strip() for token in header.split(":")]
        if "jr" in [token.lower() for token in tokens[:-1]]:
            at = [token.lower() for token in tokens].index("jr")
            tokens = [*tokens[:at], f"jr:{tokens[at + 1]}", *tokens[at + 2 :]]
    for size in (2, 1):
        if len(tokens) < size:
            continue
        key = "::".join(_snake(token) for token in tokens[:size])
        found = known.get(key)
        if found is None:
            continue
        rest = tokens[size:]
        if not rest:
            return _Column(header, found, None)
        if found in _TRANSLATED_COLUMNS and len(rest) == 1 and rest[0]:
            return _Column(header, found, rest[0])
        break
    if len(tokens) == 2 and _snake(tokens[0]) in _TRANSLATED_EXTRA and tokens[1]:
        return _Column(header, "extra", tokens[1])
    return _Column(header, "extra", None)


def _sheet_columns(
    sheet: str, header_rows: Iterable[Mapping[str, Any]] | None, known: Mapping[str, str]
) -> dict[str, _Column]:
    """Columns of a sheet by pyxform's header key, refusing two columns for one field."""
    headers: list[str] = []
    for header_row in header_rows or ():
        headers.extend(key for key in header_row if isinstance(key, str) and key.strip())
    double_colon = any("::" in header for header in headers)
    columns: dict[str, _Column] = {}
    claimed: dict[tuple[str, str | None], str] = {}
    for header in headers:
        column = _classify(_clean_header(header), double_colon, known)
        columns[header] = column
        if column.field == "extra":
            continue
        slot = (column.field, column.language)
        if slot in claimed:
            raise XLSFormError(
                f"the columns '{claimed[slot]}' and '{column.header}' both give "
                f"{_field_words(column)}; keep one of them.",
                sheet,
                1,
                column.header,
            )
        claimed[slot] = column.header
    return columns


def _field_words(column: _Column) -> str:
    name = column.field.removeprefix("media:")
    return f"the {name} in {column.language}" if column.language else f"the {name}"


# --------------------------------------------------------------------------------------
# Reading: rows
# --------------------------------------------------------------------------------------


@dataclass
class _Row:
    """One sheet row, its cells sorted into incity's fields."""

    number: int
    fields: dict[str, str] = field(default_factory=dict)
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # field -> the header that set it

    def header(self, name: str) -> str:
        return self.headers.get(name, name)


def _sort_row(
    number: int, raw: Mapping[Any, Any], columns: Mapping[str, _Column], default_key: str
) -> _Row:
    row = _Row(number)
    # Unsuffixed translated columns first, so an explicit default-language column wins.
    cells = sorted(
        ((columns[key], value) for key, value in raw.items() if key in columns),
        key=lambda cell: cell[0].language is not None,
    )
    for column, value in cells:
        text = _clean(value) if value is not None else ""
        if not text:
            continue
        if column.field == "extra":
            row.extra[column.header] = text
        elif column.field in _TRANSLATED_COLUMNS:
            language = column.language or default_key
            row.texts.setdefault(column.field, {})[language] = text
            row.headers.setdefault(column.field, column.header)
        else:
            row.fields[column.field] = text
            row.headers[column.field] = column.header
    return row


@dataclass(frozen=True)
class _Type:
    action: Literal["element", "begin", "end"]
    type: str
    list_name: str = ""
    or_other: bool = False


def _parse_type(value: str, row: _Row) -> _Type:
    text = " ".join(value.split())
    if text in _TYPE_ALIASES:
        return _Type("element", _TYPE_ALIASES[text])
    control = _BEGIN_END.match(text)
    if control:
        kind = control.group("kind")
        if kind == "loop":
            _refuse_type(f"{control.group('action')} loop", row)
        structure = "group" if kind == "group" else "repeat"
        return _Type(cast(Literal["begin", "end"], control.group("action")), structure)
    for command in sorted(_SELECT_COMMANDS, key=len, reverse=True):
        if text == command:
            raise XLSFormError(
                f"'{text}' needs a choice list name after it, e.g. '{text} yes_no'.",
                SURVEY,
                row.number,
                row.header("type"),
            )
        if not text.startswith(command + " "):
            continue
        rest = text[len(command) + 1 :].split(" ", 1)
        other = rest[1] if len(rest) > 1 else ""
        if other and other not in _OR_OTHER:
            break
        return _Type("element", _SELECT_COMMANDS[command], rest[0], bool(other))
    _refuse_type(text, row)


def _refuse_type(text: str, row: _Row) -> NoReturn:
    words = text.split(" ")
    if text in _UNSUPPORTED_TYPES or words[0] in _UNSUPPORTED_TYPES:
        shown = text if text in _UNSUPPORTED_TYPES else words[0]
        raise XLSFormError(
            f"the question type '{shown}' is not supported by incity.",
            SURVEY,
            row.number,
            row.header("type"),
        )
    # "selct_one yes_no": name the misspelt type, not the list.
    shown = words[0] if len(words) == 2 and words[0] not in ("begin", "end") else text
    close = difflib.get_close_matches(shown, _KNOWN_TYPE_WORDS, n=1, cutoff=0.75)
    suggestion = f"; did you mean '{close[0]}'?" if close else "."
    raise XLSFormError(
        f"unknown question type '{shown}'{suggestion}", SURVEY, row.number, row.header("type")
    )


def _yes_no(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    return None


def _parameters(text: str) -> dict[str, str]:
    """'key=value' pairs as pyxform splits them (spaces, commas or semicolons between)."""
    pairs: dict[str, str] = {}
    for token in re.split(r"[\s,;]+", text.strip()):
        key, sep, value = token.partition("=")
        if sep:
            pairs[key.lower()] = value
    return pairs


@dataclass
class _Frame:
    """An open group or repeat while reading the survey sheet."""

    element: dict[str, Any] | None
    row: _Row | None
    children: list[Element] = field(default_factory=list)
    child_rows: list[int] = field(default_factory=list)
    map_marks: bool = False


class _Reader:
    """Turns pyxform's sheet rows into a definition, remembering each name's row."""

    def __init__(self, sheets: DefinitionData, filename: str) -> None:
        self.sheets = sheets
        self.stem = PurePath(filename).stem
        self.warnings: list[str] = []
        self.rows_by_name: dict[str, int] = {}
        self.list_rows: dict[str, int] = {}  # each choice list's first row
        self.settings: dict[str, str] = {}
        self.default_key = DEFAULT_LANGUAGE_KEY
        self.languages: list[str] = []
        self.choices: dict[str, list[Choice]] = {}

    # -- settings and languages --------------------------------------------------------

    def read(self) -> FormDefinition:
        form_id, title, version, default_language = self._read_settings()
        if default_language:
            self.default_key = default_language
        survey_columns = _sheet_columns(SURVEY, self.sheets.survey_header, _SURVEY_COLUMNS)
        choice_columns = _sheet_columns(CHOICES, self.sheets.choices_header, _CHOICE_COLUMNS)
        self._refuse_unmodelled_sheets()
        self._read_languages([*survey_columns.values(), *choice_columns.values()])
        self.choices = self._read_choices(choice_columns)
        children = self._read_survey(survey_columns)
        if any(element["type"] == MAP_MARKS for element, _ in walk(children)):
            # The writer adds this list for the map marks' time of day; it is not the form's.
            self.choices.pop(TIME_OF_DAY_LIST, None)
        definition: dict[str, Any] = {
            "form_id": form_id or _safe_name(self.stem),
            "title": title or self.stem,
            "default_language": self.languages[0],
            "languages": self.languages,
            "children": children,
            "choices": self.choices,
            "settings": self.settings,
        }
        if version:
            definition["version_label"] = version
        return cast(FormDefinition, definition)

    def _read_settings(self) -> tuple[str, str, str, str]:
        rows = self.sheets.settings or []
        first: Mapping[Any, Any] = next((row for row in rows if row), {})
        form_id = title = version = default_language = ""
        for header, value in first.items():
            if not isinstance(header, str) or value is None:
                continue
            text = _clean(value)
            if not text:
                continue
            key = _snake(header)
            if key in ("form_id", "id_string", "set_form_id"):
                form_id = form_id if key != "form_id" and form_id else text
            elif key in ("form_title", "title", "set_form_title"):
                title = title if key != "form_title" and title else text
            elif key == "version":
                version = text
            elif key == "default_language":
                default_language = text
            else:
                self.settings[_clean_header(header)] = text
        return form_id, title, version, default_language

    def _refuse_unmodelled_sheets(self) -> None:
        if self.sheets.entities:
            raise XLSFormError(
                "ODK entities are not supported by incity; remove the entities sheet.",
                "entities",
            )
        for sheet in ("external_choices", "osm"):
            if getattr(self.sheets, sheet):
                self.warnings.append(f"The {sheet} sheet is not used by incity and was ignored.")

    def _read_languages(self, columns: Iterable[_Column]) -> None:
        seen: list[str] = []
        for column in columns:
            if column.field not in _TRANSLATED_COLUMNS and column.language is None:
                continue
            language = column.language or self.default_key
            if language not in seen:
                seen.append(language)
        if self.default_key == DEFAULT_LANGUAGE_KEY and seen and DEFAULT_LANGUAGE_KEY not in seen:
            # No default_language setting and every column names its language: the first leads.
            self.default_key = seen[0]
        self.languages = [self.default_key, *(lang for lang in seen if lang != self.default_key)]

    # -- choices -----------------------------------------------------------------------

    def _read_choices(self, columns: Mapping[str, _Column]) -> dict[str, list[Choice]]:
        choices: dict[str, list[Choice]] = {}
        for number, raw in enumerate(self.sheets.choices or [], start=2):
            row = _sort_row(number, raw, columns, self.default_key)
            list_name = row.fields.get("list_name", "")
            if not list_name:
                if row.fields or row.texts:
                    self.warnings.append(
                        f"choices sheet, row {number}: the row has no list_name and was skipped."
                    )
                continue
            name = row.fields.get("name", "")
            if not name:
                raise XLSFormError(
                    f"the choice in list '{list_name}' has no name.",
                    CHOICES,
                    number,
                    row.header("name"),
                )
            choice: dict[str, Any] = {"name": name, "label": row.texts.get("label", {})}
            media = _media(row)
            if media:
                choice["media"] = media
            if row.extra:
                choice["extra"] = row.extra
            choices.setdefault(list_name, []).append(cast(Choice, choice))
            self.list_rows.setdefault(list_name, number)
        return choices

    # -- survey ------------------------------------------------------------------------

    def _read_survey(self, columns: Mapping[str, _Column]) -> list[Element]:
        rows = list(self.sheets.survey or [])
        if not any(rows):
            raise XLSFormError(
                "the survey sheet has no rows; add at least one question below the headers.",
                SURVEY,
            )
        if "type" not in {column.field for column in columns.values()}:
            raise XLSFormError("the survey sheet has no 'type' column.", SURVEY, 1, "type")
        stack = [_Frame(None, None)]
        for number, raw in enumerate(rows, start=2):
            row = _sort_row(number, raw, columns, self.default_key)
            if "disabled" in row.fields and _yes_no(row.fields.pop("disabled")):
                continue  # pyxform skips disabled rows
            type_text = row.fields.get("type", "")
            if not type_text:
                if "name" in row.fields or "label" in row.texts:
                    raise XLSFormError(
                        "the row has a name or label but no type.", SURVEY, number, "type"
                    )
                continue  # a blank or comment-only row; pyxform warns about it
            parsed = _parse_type(type_text, row)
            if parsed.action == "end":
                self._close(stack, parsed, row)
            elif parsed.action == "begin":
                element = self._element(row, parsed)
                if element.get("type") == MAP_MARKS and stack[-1].map_marks:
                    raise XLSFormError(
                        "a map_marks repeat cannot hold another.",
                        SURVEY,
                        number,
                        row.header("incity_type"),
                    )
                self._register(element, stack, row)
                stack.append(_Frame(element, row, map_marks=element["type"] == MAP_MARKS))
            else:
                element = self._element(row, parsed)
                self._register(element, stack, row)
                stack[-1].children.append(cast(Element, element))
                stack[-1].child_rows.append(number)
                if parsed.or_other:
                    self._add_other(element, stack, row)
        if len(stack) > 1:
            frame = stack[-1]
            assert frame.element is not None
            assert frame.row is not None
            kind = "repeat" if frame.element["type"] in ("repeat", MAP_MARKS) else "group"
            raise XLSFormError(
                f"'begin_{kind}' '{frame.element['name']}' is never closed; "
                f"add an 'end_{kind}' row.",
                SURVEY,
                frame.row.number,
                frame.row.header("type"),
            )
        return stack[0].children

    def _close(self, stack: list[_Frame], parsed: _Type, row: _Row) -> None:
        frame = stack[-1]
        if frame.element is None or frame.row is None:
            raise XLSFormError(
                f"'end_{parsed.type}' has no matching 'begin_{parsed.type}'.",
                SURVEY,
                row.number,
                row.header("type"),
            )
        opened = "repeat" if frame.element["type"] in ("repeat", MAP_MARKS) else "group"
        if opened != parsed.type:
            raise XLSFormError(
                f"'end_{parsed.type}' does not match 'begin_{opened}' "
                f"'{frame.element['name']}' in row {frame.row.number}.",
                SURVEY,
                row.number,
                row.header("type"),
            )
        stack.pop()
        element = frame.element
        if frame.map_marks:
            self._fold_map_marks(element, frame)
        else:
            element["children"] = frame.children
        stack[-1].children.append(cast(Element, element))
        stack[-1].child_rows.append(frame.row.number)

    def _element(self, row: _Row, parsed: _Type) -> dict[str, Any]:
        element_type = parsed.type
        incity_type = row.fields.get("incity_type", "")
        if incity_type:
            if incity_type != MAP_MARKS:
                raise XLSFormError(
                    f"unknown incity_type '{incity_type}'; the only one is '{MAP_MARKS}'.",
                    SURVEY,
                    row.number,
                    row.header("incity_type"),
                )
            if not (parsed.action == "begin" and parsed.type == "repeat"):
                raise XLSFormError(
                    f"incity_type '{MAP_MARKS}' belongs on a begin_repeat row.",
                    SURVEY,
                    row.number,
                    row.header("incity_type"),
                )
            element_type = MAP_MARKS
        name = row.fields.get("name", "")
        if not name:
            if element_type == "note":
                name = f"generated_note_name_{row.number}"  # pyxform's name for it
            elif element_type == "audit":
                name = "audit"
            else:
                what = parsed.type if parsed.action == "begin" else "question"
                raise XLSFormError(f"the {what} has no name.", SURVEY, row.number, "name")
        if not NAME_PATTERN.match(name):
            raise XLSFormError(
                f"'{name}' is not a valid name: names start with a letter or underscore and "
                "hold only letters, digits, '_', '-' and '.'.",
                SURVEY,
                row.number,
                row.header("name"),
            )
        element: dict[str, Any] = {"type": element_type, "name": name}
        for translated in _TRANSLATED_FIELDS:
            if row.texts.get(translated):
                element[translated] = row.texts[translated]
        for plain in _PLAIN_FIELDS:
            if row.fields.get(plain):
                element[plain] = row.fields[plain]
        extra = dict(row.extra)
        for flag in ("required", "read_only"):
            if flag in row.fields:
                answer = _yes_no(row.fields[flag])
                if answer:
                    element[flag] = True
                elif answer is None:
                    # An XPath condition; incity's flag is a yes/no, so the column is kept as is.
                    extra[flag] = row.fields[flag]
        if extra:
            element["extra"] = extra
        media = _media(row)
        if media:
            element["media"] = media
        tags = _tags(row)
        if tags:
            element["tags"] = tags
        self._check_type_fields(element, parsed, row)
        return element

    def _check_type_fields(self, element: dict[str, Any], parsed: _Type, row: _Row) -> None:
        element_type = element["type"]
        if parsed.list_name:
            element["list_name"] = parsed.list_name
        if (
            element_type == "calculate"
            and not element.get("calculation")
            and not element.get("default")
        ):
            raise XLSFormError(
                f"the calculate question '{element['name']}' has no calculation.",
                SURVEY,
                row.number,
                row.header("calculation"),
            )
        if element_type in _LIST_SELECTS:
            list_name = parsed.list_name
            if not list_name.startswith("${") and list_name not in self.choices:
                known = difflib.get_close_matches(list_name, list(self.choices), n=1)
                hint = f"; did you mean '{known[0]}'?" if known else "."
                raise XLSFormError(
                    f"the choice list '{list_name}' is not on the choices sheet{hint}",
                    SURVEY,
                    row.number,
                    row.header("type"),
                )
        if element_type in _FILE_SELECTS and not parsed.list_name.lower().endswith(
            _SELECT_FILE_EXTENSIONS
        ):
            raise XLSFormError(
                f"'{element_type}' needs a file name ending in .csv, .xml or .geojson, "
                f"not '{parsed.list_name}'.",
                SURVEY,
                row.number,
                row.header("type"),
            )

    def _register(self, element: Mapping[str, Any], stack: list[_Frame], row: _Row) -> None:
        if stack[-1].map_marks:
            return  # the fixed questions of a map-marks repeat repeat in every one of them
        name = element["name"]
        if name in self.rows_by_name:
            raise XLSFormError(
                f"the name '{name}' is already used in row {self.rows_by_name[name]}; "
                "names must be unique in the form.",
                SURVEY,
                row.number,
                row.header("name"),
            )
        self.rows_by_name[name] = row.number

    def _add_other(self, element: dict[str, Any], stack: list[_Frame], row: _Row) -> None:
        """Spell out pyxform's 'or_other': an 'other' choice and a question to specify it."""
        if element.get("choice_filter"):
            raise XLSFormError(
                "'or_other' cannot be combined with a choice_filter.",
                SURVEY,
                row.number,
                row.header("choice_filter"),
            )
        list_name = element["list_name"]
        options = self.choices.get(list_name)
        if options is None:
            raise XLSFormError(
                "'or_other' needs a choice list from the choices sheet.",
                SURVEY,
                row.number,
                row.header("type"),
            )
        if not any(option["name"] == "other" for option in options):
            options.append({"name": "other", "label": dict.fromkeys(self.languages, "Other")})
        name = element["name"]
        specify: dict[str, Any] = {
            "type": "text",
            "name": f"{name}_other",
            "label": dict.fromkeys(self.languages, "Specify other."),
            "relevant": f"selected(${{{name}}}, 'other')",
        }
        self._register(specify, stack, row)
        stack[-1].children.append(cast(Element, specify))
        stack[-1].child_rows.append(row.number)
        self.warnings.append(
            f"survey sheet, row {row.number}: 'or_other' was written out as an 'other' choice "
            f"in the list '{list_name}' and a text question '{name}_other'."
        )

    def _fold_map_marks(self, element: dict[str, Any], frame: _Frame) -> None:
        assert frame.row is not None
        category = None
        for child, number in zip(frame.children, frame.child_rows, strict=True):
            if child["name"] not in _MARK_CHILDREN:
                raise XLSFormError(
                    f"a map_marks repeat holds only the questions {', '.join(_MARK_CHILDREN)}; "
                    f"'{child['name']}' does not belong in it.",
                    SURVEY,
                    number,
                    "name",
                )
            if child["name"] == "category" and child["type"] == "select_one":
                category = child
            if child["name"] == "geometry" and child["type"] in _GEOMETRY_KINDS:
                parameters = element.get("parameters", "")
                kind = _GEOMETRY_KINDS[child["type"]]
                if "geometry" not in _parameters(parameters) and kind != "polygon":
                    element["parameters"] = f"{parameters} geometry={kind}".strip()
        if category is None:
            raise XLSFormError(
                f"the map_marks repeat '{element['name']}' needs a select_one question "
                "named 'category' giving the list of mark categories.",
                SURVEY,
                frame.row.number,
                frame.row.header("incity_type"),
            )
        element["list_name"] = category["list_name"]


def _media(row: _Row) -> dict[str, dict[str, str]]:
    return {
        kind: row.texts[f"media:{kind}"] for kind in _MEDIA_KINDS if row.texts.get(f"media:{kind}")
    }


def _tags(row: _Row) -> dict[str, Any]:
    tags: dict[str, Any] = {}
    for column, tag in _TAG_COLUMNS.items():
        value = row.fields.get(column)
        if not value:
            continue
        if tag == "domains":
            domains = value.split()
            bad = [token for token in domains if not re.fullmatch(r"[^\s:]+:[^\s:]+", token)]
            if bad:
                raise XLSFormError(
                    f"'{bad[0]}' is not a framework domain; write 'framework:item' tokens "
                    "separated by spaces, e.g. 'ioi-2019:housing'.",
                    SURVEY,
                    row.number,
                    row.header(column),
                )
            tags[tag] = domains
        elif tag == "sensitive":
            answer = _yes_no(value)
            if answer is None:
                raise XLSFormError(
                    f"incity_sensitive must be yes or no, not '{value}'.",
                    SURVEY,
                    row.number,
                    row.header(column),
                )
            tags[tag] = answer
        else:
            tags[tag] = value
    return tags


def _safe_name(stem: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "form"
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


# --------------------------------------------------------------------------------------
# Reading: pyxform's own checks, and incity's
# --------------------------------------------------------------------------------------


def _from_pyxform(
    exc: BaseException,
    rows_by_name: Mapping[str, int] | None = None,
    rows_to_names: Mapping[int, str] | None = None,
) -> XLSFormError:
    """pyxform's '[row : N] ...' message as an XLSFormError with sheet, row and column.

    `rows_by_name` places messages that name a question but no row; `rows_to_names` is
    for a definition being written out, whose rows are ours: the question is named instead.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else "pyxform could not convert the form."
    more = sum(1 for line in lines[1:] if _ROW_PREFIX.match(line))
    sheet, row, column, detail = _pyxform_location(first)
    context = getattr(exc, "context", None) or {}
    sheet = sheet or context.get("sheet")
    column = column or context.get("column")
    if more:
        detail = f"{detail.rstrip('.')}. ({more} more like this.)"
    if rows_to_names is not None:
        name = rows_to_names.get(row) if sheet == SURVEY and row is not None else None
        prefix = f"question '{name}': " if name else ""
        return XLSFormError(f"The form cannot be made into an XForm: {prefix}{detail}")
    named = _NAMED_QUESTION.search(detail)
    if row is None and named and rows_by_name and named.group(1) in rows_by_name:
        sheet, row = SURVEY, rows_by_name[named.group(1)]
    return XLSFormError(detail, sheet, row, column)


def _pyxform_location(message: str) -> tuple[str | None, int | None, str | None, str]:
    sheet = column = None
    row = None
    detail = message
    match = _ROW_PREFIX.match(detail)
    if match:
        row = int(match.group(1))
        detail = detail[match.end() :]
    located = _SHEET_COLUMN.match(detail)
    if located:
        sheet, column = located.group(1), located.group(3) or None
        detail = detail[located.start(2) :]
    headers = re.match(r"^Invalid headers provided for sheet: '([^']+)'", detail)
    if headers:
        sheet, row = headers.group(1), 1
    if row is not None and sheet is None:
        sheet = SURVEY
    return sheet, row, column, detail


def _pyxform_warning(warning: str) -> str:
    lines = [line.strip() for line in warning.splitlines() if line.strip()]
    text = " ".join(line for line in lines if not line.startswith("{"))
    sheet, row, column, detail = _pyxform_location(text)
    return _located(detail, sheet, row, column)


def _run_pyxform(sheets: DefinitionData, stem: str, rows_by_name: Mapping[str, int]) -> list[str]:
    """Convert the workbook as uploaded, so anything ODK would refuse is refused now."""
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.xls2json import workbook_to_json

    warnings: list[str] = []
    try:
        tree = workbook_to_json(
            workbook_dict=sheets, fallback_form_name=_safe_name(stem), warnings=warnings
        )
        create_survey_element_from_dict(tree).to_xml(validate=False, warnings=warnings)
    except PyXFormError as exc:
        raise _from_pyxform(exc, rows_by_name) from exc
    except Exception as exc:  # a pyxform bug on odd input must not surface as a traceback
        raise XLSFormError(
            f"The XLSForm converter failed on this form ({type(exc).__name__}: {_one_line(str(exc))})."
        ) from exc
    return [_pyxform_warning(warning) for warning in warnings]


def _run_formcheck(
    definition: FormDefinition, rows_by_name: Mapping[str, int], list_rows: Mapping[str, int]
) -> None:
    """incity's own checks (references, cycles, ...), located back on the sheets."""
    problems = check_definition(definition)
    if not problems:
        return
    problem = problems[0]
    # formcheck's messages read "name (field): detail"; the location says that here.
    detail = re.sub(rf"^.*? \({re.escape(problem.field)}\): ", "", problem.message, count=1)
    others = len(problems) - 1
    more = f" ({others} more problem{'s' if others > 1 else ''}.)" if others else ""
    if problem.name in rows_by_name:
        column = {"list_name": "type", "children": "type"}.get(problem.field, problem.field)
        raise XLSFormError(detail + more, SURVEY, rows_by_name[problem.name], column or None)
    if problem.name in list_rows:
        raise XLSFormError(
            f"choice list '{problem.name}': {detail}{more}", CHOICES, list_rows[problem.name]
        )
    raise XLSFormError(problem.message + more)


def read_xlsform(data: bytes, filename: str) -> ImportedForm:
    """Read an XLSForm (.xlsx, .xls, .csv or .md, by the file name's suffix) into a definition.

    Raises XLSFormError, naming sheet, row and column, for anything incity or pyxform refuses.
    """
    kind = _file_kind(data, filename)
    sheets = _read_sheets(data, kind)
    reader = _Reader(sheets, filename)
    try:
        definition = reader.read()
    except XLSFormError:
        raise
    except Exception as exc:  # a reader bug must still come out as a refusal, not a traceback
        raise XLSFormError(
            f"The form could not be read ({type(exc).__name__}: {_one_line(str(exc))})."
        ) from exc
    warnings = [*reader.warnings, *_run_pyxform(sheets, reader.stem, reader.rows_by_name)]
    _run_formcheck(definition, reader.rows_by_name, reader.list_rows)
    return ImportedForm(
        definition=definition,
        warnings=list(dict.fromkeys(warnings)),
        required_files=required_files(definition),
    )


# --------------------------------------------------------------------------------------
# Files a form needs besides itself
# --------------------------------------------------------------------------------------

_PULLDATA = re.compile(r"pulldata\s*\(\s*['\"]([^'\"]+)['\"]")
_SEARCH = re.compile(r"search\s*\(\s*['\"]([^'\"]+)['\"]")
_JR_FILE = re.compile(r"jr://(?:file-csv|file|images|audio|video)/([^'\"\s)]+)")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def _with_csv(name: str) -> str:
    return name if PurePath(name).suffix else f"{name}.csv"


def required_files(definition: FormDefinition) -> list[str]:
    """Media and data files the form names: media columns, select_*_from_file lists,
    pulldata() and search() sources and jr:// references. Sorted, each once."""
    files: set[str] = set()
    for element, _ in walk(definition.get("children", [])):
        for texts in element.get("media", {}).values():
            files.update(name for name in texts.values() if name)
        list_name = element.get("list_name", "")
        if element["type"] in _FILE_SELECTS and list_name:
            files.add(list_name)
        if element["type"] == "image" and element.get("default"):
            files.add(element.get("default", "").removeprefix("jr://images/"))
        fields = {key: value for key, value in element.items() if key not in ("children", "name")}
        for text in _strings(fields):
            files.update(_with_csv(name) for name in _PULLDATA.findall(text))
            files.update(_JR_FILE.findall(text))
        files.update(_with_csv(name) for name in _SEARCH.findall(element.get("appearance", "")))
    for options in definition.get("choices", {}).values():
        for option in options:
            for texts in option.get("media", {}).values():
                files.update(name for name in texts.values() if name)
    return sorted(file for file in files if file)


# --------------------------------------------------------------------------------------
# Writing: one set of rows for the .xlsx download and for the XForm
# --------------------------------------------------------------------------------------


@dataclass
class _Sheet:
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)

    def add(self, row: dict[str, str]) -> None:
        for column in row:
            if column not in self.columns:
                self.columns.append(column)
        self.rows.append(row)


@dataclass
class _Workbook:
    survey: _Sheet
    choices: _Sheet
    settings: _Sheet
    rows_to_names: dict[int, str]


class _Writer:
    def __init__(self, definition: FormDefinition) -> None:
        self.definition = definition
        self.default_language = definition.get("default_language") or DEFAULT_LANGUAGE_KEY
        languages = list(definition.get("languages") or [])
        self.languages = [
            self.default_language,
            *(lang for lang in languages if lang != self.default_language),
        ]
        self.survey = _Sheet(self._survey_columns())
        self.rows_to_names: dict[int, str] = {}

    def _header(self, column: str, language: str) -> str:
        if language == DEFAULT_LANGUAGE_KEY and self.default_language == DEFAULT_LANGUAGE_KEY:
            return column
        return f"{column}::{language}"

    def _survey_columns(self) -> list[str]:
        # Label columns for every language, always: they carry the language list itself.
        return ["type", "name", *(self._header("label", lang) for lang in self.languages)]

    def _texts(self, row: dict[str, str], column: str, texts: Mapping[str, str]) -> None:
        for language, text in texts.items():
            if text:
                row[self._header(column, language)] = text

    def _fields(self, element: Element, element_type: str) -> dict[str, str]:
        row: dict[str, str] = {"type": element_type, "name": element["name"]}
        self._texts(row, "label", element.get("label", {}))
        self._texts(row, "hint", element.get("hint", {}))
        if element.get("required"):
            row["required"] = "yes"
        self._texts(row, "required_message", element.get("required_message", {}))
        self._texts(row, "constraint_message", element.get("constraint_message", {}))
        plain = cast(Mapping[str, Any], element)
        for name in _PLAIN_FIELDS:
            if plain.get(name):
                row[name] = str(plain[name])
        if element.get("read_only"):
            row["read_only"] = "yes"
        for kind, texts in element.get("media", {}).items():
            self._texts(row, kind, texts)
        tags = element.get("tags", {})
        if tags.get("domains"):
            row["incity_domains"] = " ".join(tags.get("domains", []))
        for column, tag in _TAG_COLUMNS.items():
            value = cast(Mapping[str, Any], tags).get(tag)
            if tag == "sensitive" and value is not None:
                row[column] = "yes" if value else "no"
            elif tag != "domains" and value:
                row[column] = str(value)
        for column, value in element.get("extra", {}).items():
            if value:
                row.setdefault(column, value)
        return row

    def _add(self, row: dict[str, str], name: str = "") -> None:
        self.survey.add(row)
        if name:
            self.rows_to_names[len(self.survey.rows) + 1] = name

    def _write_elements(self, elements: Iterable[Element]) -> None:
        for element in elements:
            element_type = element["type"]
            list_name = element.get("list_name", "")
            if element_type in ("group", "repeat"):
                self._add(self._fields(element, f"begin_{element_type}"), element["name"])
                self._write_elements(element.get("children", []))
                self._add({"type": f"end_{element_type}"}, element["name"])
            elif element_type == MAP_MARKS:
                self._write_map_marks(element)
            elif element_type in _LIST_SELECTS or element_type in _FILE_SELECTS:
                self._add(self._fields(element, f"{element_type} {list_name}"), element["name"])
            else:
                self._add(self._fields(element, element_type), element["name"])

    def _write_map_marks(self, element: Element) -> None:
        row = self._fields(element, "begin_repeat")
        row["incity_type"] = MAP_MARKS
        name = element["name"]
        self._add(row, name)
        kinds = _parameters(element.get("parameters", "")).get("geometry", "").split("|")
        geometry = _GEOMETRY_TYPES.get(kinds[0], "geoshape") if len(kinds) == 1 else "geoshape"
        children = (
            ("category", f"select_one {element.get('list_name', '')}", True),
            ("geometry", geometry, True),
            ("time_of_day", f"select_one {TIME_OF_DAY_LIST}", False),
            ("comment", "text", False),
        )
        for child, child_type, required in children:
            child_row = {"type": child_type, "name": child}
            self._texts(child_row, "label", dict.fromkeys(self.languages, _MARK_LABELS[child]))
            if required:
                child_row["required"] = "yes"
            self._add(child_row, name)
        self._add({"type": "end_repeat"}, name)

    def _choices(self) -> _Sheet:
        sheet = _Sheet(
            ["list_name", "name", *(self._header("label", lang) for lang in self.languages)]
        )
        has_marks = any(
            element["type"] == MAP_MARKS for element, _ in walk(self.definition["children"])
        )
        lists = dict(self.definition.get("choices", {}))
        if has_marks:
            lists[TIME_OF_DAY_LIST] = [
                {"name": time, "label": dict.fromkeys(self.languages, _TIME_OF_DAY_LABELS[time])}
                for time in TIMES_OF_DAY
            ]
        for list_name, options in lists.items():
            for option in options:
                row = {"list_name": list_name, "name": option["name"]}
                self._texts(row, "label", option.get("label", {}))
                for kind, texts in option.get("media", {}).items():
                    self._texts(row, kind, texts)
                for column, value in option.get("extra", {}).items():
                    if value:
                        row.setdefault(column, value)
                sheet.add(row)
        return sheet

    def _settings(self) -> _Sheet:
        definition = self.definition
        row = {"form_id": definition["form_id"], "form_title": definition["title"]}
        if definition.get("version_label"):
            row["version"] = definition.get("version_label", "")
        if self.default_language != DEFAULT_LANGUAGE_KEY:
            row["default_language"] = self.default_language
        for key, value in definition.get("settings", {}).items():
            if value:
                row.setdefault(key, str(value))
        sheet = _Sheet()
        sheet.add(row)
        return sheet

    def workbook(self) -> _Workbook:
        self._write_elements(self.definition["children"])
        langs = self.languages
        survey_order = [
            *self._survey_columns(),
            *(self._header("hint", lang) for lang in langs),
            "required",
            *(self._header("required_message", lang) for lang in langs),
            "relevant",
            "constraint",
            *(self._header("constraint_message", lang) for lang in langs),
            "calculation",
            "default",
            "read_only",
            "appearance",
            "parameters",
            "choice_filter",
            "repeat_count",
            *(self._header(kind, lang) for kind in _MEDIA_KINDS for lang in langs),
            "incity_type",
            *_TAG_COLUMNS,
        ]
        choices = self._choices()
        choices_order = [
            *choices.columns[: 2 + len(langs)],
            *(self._header(kind, lang) for kind in _MEDIA_KINDS for lang in langs),
        ]
        return _Workbook(
            survey=_ordered(self.survey, survey_order),
            choices=_ordered(choices, choices_order) if choices.rows else _Sheet(),
            settings=self._settings(),
            rows_to_names=self.rows_to_names,
        )


def _ordered(sheet: _Sheet, order: list[str]) -> _Sheet:
    """The sheet's columns in a readable order: incity's own first, kept columns after."""
    front = [column for column in order if column in sheet.columns]
    return _Sheet(
        [*front, *(column for column in sheet.columns if column not in front)], sheet.rows
    )


def write_xlsform(definition: FormDefinition) -> bytes:
    """The definition as an .xlsx XLSForm (sheets survey, choices and settings)."""
    sheets = _Writer(definition).workbook()
    workbook = Workbook()
    first = workbook.active
    if first is not None:
        workbook.remove(first)
    for title, sheet in (
        (SURVEY, sheets.survey),
        (CHOICES, sheets.choices),
        (SETTINGS, sheets.settings),
    ):
        if not sheet.columns:
            continue
        worksheet = workbook.create_sheet(title)
        for column_number, column in enumerate(sheet.columns, start=1):
            _text_cell(worksheet, 1, column_number, column)
        for row_number, row in enumerate(sheet.rows, start=2):
            for column_number, column in enumerate(sheet.columns, start=1):
                if row.get(column):
                    _text_cell(worksheet, row_number, column_number, row[column])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _text_cell(worksheet: Any, row: int, column: int, value: str) -> None:
    cell = worksheet.cell(row=row, column=column, value=_ILLEGAL_CHARACTERS.sub("", value))
    # openpyxl takes "=..." for a formula; an XLSForm cell is always text.
    cell.data_type = "s"


def to_xform(definition: FormDefinition) -> str:
    """The XForm XML for ODK Collect, converted by pyxform from the definition's rows."""
    from pyxform.xls2xform import convert

    sheets = _Writer(definition).workbook()
    workbook: dict[str, Any] = {"sheet_names": [], "fallback_form_name": definition["form_id"]}
    for title, sheet in (
        (SURVEY, sheets.survey),
        (CHOICES, sheets.choices),
        (SETTINGS, sheets.settings),
    ):
        if not sheet.columns:
            continue
        workbook["sheet_names"].append(title)
        workbook[title] = [{k: v for k, v in row.items() if v} for row in sheet.rows]
        workbook[f"{title}_header"] = [dict.fromkeys(sheet.columns)]
    try:
        result = convert(xlsform=workbook, warnings=[])
    except PyXFormError as exc:
        raise _from_pyxform(exc, rows_to_names=sheets.rows_to_names) from exc
    except Exception as exc:  # never let a pyxform traceback reach the caller
        raise XLSFormError(
            f"The form cannot be made into an XForm ({type(exc).__name__}: {_one_line(str(exc))})."
        ) from exc
    return str(result.xform)
