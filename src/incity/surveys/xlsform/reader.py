"""`_Reader`: pyxform's sheet rows turned into a `FormDefinition`, each name's row remembered."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, cast

from pyxform.xls2json_backends import DefinitionData

from incity.surveys.definition import (
    DEFAULT_LANGUAGE_KEY,
    NAME_PATTERN,
    Choice,
    Element,
    FormDefinition,
    walk,
)
from incity.surveys.xlsform.errors import XLSFormError
from incity.surveys.xlsform.rows import (
    _Column,
    _media,
    _parse_type,
    _Row,
    _sheet_columns,
    _sort_row,
    _tags,
    _Type,
)
from incity.surveys.xlsform.vocabulary import (
    _CHOICE_COLUMNS,
    _FILE_SELECTS,
    _GEOMETRY_KINDS,
    _LIST_SELECTS,
    _MARK_CHILDREN,
    _PLAIN_FIELDS,
    _SELECT_FILE_EXTENSIONS,
    _SURVEY_COLUMNS,
    _TRANSLATED_COLUMNS,
    _TRANSLATED_FIELDS,
    CHOICES,
    MAP_MARKS,
    SURVEY,
    TIME_OF_DAY_LIST,
    _clean,
    _clean_header,
    _parameters,
    _safe_name,
    _snake,
    _yes_no,
)


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
