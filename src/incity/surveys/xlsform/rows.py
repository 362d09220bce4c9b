"""Reading column headers and rows: which incity field each cell sets, and each row's type."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn, cast

from incity.surveys.xlsform.errors import XLSFormError
from incity.surveys.xlsform.vocabulary import (
    _BEGIN_END,
    _KNOWN_TYPE_WORDS,
    _MEDIA_KINDS,
    _OR_OTHER,
    _SELECT_COMMANDS,
    _TAG_COLUMNS,
    _TRANSLATED_COLUMNS,
    _TRANSLATED_EXTRA,
    _TYPE_ALIASES,
    _UNSUPPORTED_TYPES,
    SURVEY,
    _clean,
    _clean_header,
    _snake,
    _yes_no,
)


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
