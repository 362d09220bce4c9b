"""Writing a definition out: one set of rows for the .xlsx download and for the XForm."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from openpyxl import Workbook
from pyxform.errors import PyXFormError

from incity.surveys.definition import (
    DEFAULT_LANGUAGE_KEY,
    TIMES_OF_DAY,
    Element,
    FormDefinition,
    walk,
)
from incity.surveys.xlsform.checks import _from_pyxform
from incity.surveys.xlsform.errors import XLSFormError, _one_line
from incity.surveys.xlsform.vocabulary import (
    _FILE_SELECTS,
    _GEOMETRY_TYPES,
    _ILLEGAL_CHARACTERS,
    _LIST_SELECTS,
    _MARK_LABELS,
    _MEDIA_KINDS,
    _PLAIN_FIELDS,
    _TAG_COLUMNS,
    _TIME_OF_DAY_LABELS,
    CHOICES,
    MAP_MARKS,
    SETTINGS,
    SURVEY,
    TIME_OF_DAY_LIST,
    _parameters,
)


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
