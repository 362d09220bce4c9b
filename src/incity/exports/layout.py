"""The shape of an export: its tables, their columns, and how an answer becomes a cell.

One row per submission in the main table. Each repeat, and each map-marks
question, gets a linked table keyed by `submission_id` (and `entry`, the
1-based position of the entry; `parent_entry` for a repeat inside a repeat).
Columns come from every published version of the form, newest first, so a
question dropped in a later version still has its column.

A cell holds the answer as the analyst's software expects it:
numbers as numbers, a single choice as its code (or label, or for SPSS/Stata
its position with value labels), a multiple choice as space-separated codes
plus one 0/1 column per choice, a geometry as GeoJSON text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from incity.surveys.definition import (
    DISPLAY_TYPES,
    GEO_TYPES,
    STRUCTURE_TYPES,
    Element,
    FormDefinition,
    element_kind,
    is_sensitive,
    text_in,
)

ColumnKind = Literal[
    "id", "text", "number", "datetime", "bool", "choice", "multi", "dummy", "geometry"
]
# Columns holding text in every format (the rest are numbers, or coded choices).
TEXT_KINDS = frozenset({"text", "datetime", "multi", "geometry"})
META_COLUMNS: tuple[tuple[str, ColumnKind, str], ...] = (
    ("submission_id", "id", "Submission id"),
    ("instance_id", "text", "Instance id (the device's id of the answers)"),
    ("version", "id", "Form version"),
    ("received_at", "datetime", "Received at (UTC)"),
    ("status", "text", "Review status"),
    ("collected_by", "text", "Collected by"),
    ("language", "text", "Language of the answers"),
    ("synthetic", "bool", "Synthetic data (generated, not real people)"),
)
MARK_FIELDS: tuple[tuple[str, str], ...] = (
    ("category", "Category"),
    ("time_of_day", "Time of day"),
    ("place", "Place"),
    ("description", "Description"),
    ("comment", "Comment"),
)


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: ColumnKind
    # The answer's key inside its entry; "" for metadata and link columns.
    question: str = ""
    # (code, label) of each choice, in the form's order.
    choices: tuple[tuple[str, str], ...] = ()
    # For a 0/1 column of a multiple choice: the choice it stands for.
    choice: str = ""
    sensitive: bool = False


@dataclass
class Table:
    """One output table: the main one (`repeat` "") or a repeat's / map-marks' linked table."""

    name: str
    label: str
    columns: list[Column]
    repeat: str = ""
    # Names of the repeats from the top down to this one (nested repeats).
    path: tuple[str, ...] = ()
    marks: bool = False


@dataclass
class Layout:
    tables: list[Table]
    language: str
    sensitive_names: frozenset[str] = field(default_factory=frozenset)

    @property
    def main(self) -> Table:
        return self.tables[0]

    @property
    def linked(self) -> list[Table]:
        return self.tables[1:]

    def geometry_questions(self) -> list[Column]:
        return [column for column in self.main.columns if column.kind == "geometry"]


def build_layout(
    definitions: list[FormDefinition],
    *,
    language: str,
    extra_sensitive: frozenset[str],
    include_sensitive: bool,
    table_name: str,
) -> Layout:
    """The tables of an export of answers to `definitions` (newest version first)."""
    main = Table(
        name=table_name,
        label="Submissions",
        columns=[Column(name, label, kind) for name, kind, label in META_COLUMNS],
    )
    tables: dict[tuple[str, ...], Table] = {(): main}
    seen: set[tuple[tuple[str, ...], str]] = set()
    sensitive_names: set[str] = set(extra_sensitive)
    for definition in definitions:
        choices = definition.get("choices", {})
        fallback = definition.get("default_language", "")

        def visit(
            elements: list[Element],
            path: tuple[str, ...],
            secret: bool,
            definition_choices: Any,
            fallback: str,
        ) -> None:
            for element in elements:
                name = element["name"]
                hidden = secret or is_sensitive(element) or name in extra_sensitive
                if hidden:
                    sensitive_names.add(name)
                if element["type"] == "repeat":
                    if hidden and not include_sensitive:
                        continue
                    inner = (*path, name)
                    if inner not in tables:
                        tables[inner] = _repeat_table(
                            table_name, inner, text_in(element.get("label"), language, fallback)
                        )
                    visit(element.get("children", []), inner, hidden, definition_choices, fallback)
                    continue
                if element["type"] in STRUCTURE_TYPES:
                    visit(element.get("children", []), path, hidden, definition_choices, fallback)
                    continue
                if element["type"] in DISPLAY_TYPES or element_kind(element["type"]) == "display":
                    continue
                if hidden and not include_sensitive:
                    continue
                if (path, name) in seen:
                    continue
                seen.add((path, name))
                label = text_in(element.get("label"), language, fallback) or name
                options = tuple(
                    (choice["name"], text_in(choice.get("label"), language, fallback))
                    for choice in definition_choices.get(element.get("list_name", ""), [])
                )
                if element["type"] == "map_marks":
                    key = (*path, name)
                    tables[key] = _marks_table(table_name, key, label, options, hidden)
                    continue
                tables[path].columns.extend(_columns_for(element, label, options, hidden))

        visit(definition["children"], (), False, choices, fallback)
    ordered = [main, *(table for key, table in tables.items() if key)]
    return Layout(tables=ordered, language=language, sensitive_names=frozenset(sensitive_names))


def _link_columns(path: tuple[str, ...]) -> list[Column]:
    columns = [
        Column("submission_id", "Submission id", "id"),
        Column("entry", "Position of the entry", "id"),
    ]
    if len(path) > 1:
        columns.append(Column("parent_entry", f"Position of the {path[-2]} entry", "id"))
    return columns


def _repeat_table(table_name: str, path: tuple[str, ...], label: str) -> Table:
    return Table(
        name=f"{table_name}_{'_'.join(path)}",
        label=label or path[-1],
        columns=_link_columns(path),
        repeat=path[-1],
        path=path,
    )


def _marks_table(
    table_name: str,
    path: tuple[str, ...],
    label: str,
    options: tuple[tuple[str, str], ...],
    sensitive: bool,
) -> Table:
    columns = _link_columns(path)
    for key, text in MARK_FIELDS:
        kind: ColumnKind = "choice" if key == "category" else "text"
        columns.append(
            Column(
                key,
                f"{label}: {text}",
                kind,
                question=key,
                choices=options if key == "category" else (),
                sensitive=sensitive,
            )
        )
    columns.append(Column("geometry", f"{label}: geometry", "geometry", "geometry"))
    return Table(
        name=f"{table_name}_{'_'.join(path)}",
        label=label,
        columns=columns,
        repeat=path[-1],
        path=path,
        marks=True,
    )


def _columns_for(
    element: Element, label: str, options: tuple[tuple[str, str], ...], sensitive: bool
) -> list[Column]:
    name = element["name"]
    kind = element["type"]
    if kind in ("integer", "decimal", "range"):
        return [Column(name, label, "number", name, sensitive=sensitive)]
    if kind in ("select_one", "select_one_from_file"):
        return [Column(name, label, "choice", name, options, sensitive=sensitive)]
    if kind in ("select_multiple", "select_multiple_from_file", "rank"):
        dummies = [
            Column(
                f"{name}_{code}",
                f"{label}: {text or code}",
                "dummy",
                name,
                choice=code,
                sensitive=sensitive,
            )
            for code, text in options
        ]
        return [Column(name, label, "multi", name, options, sensitive=sensitive), *dummies]
    if kind in GEO_TYPES or kind == "start-geopoint":
        return [Column(name, label, "geometry", name, sensitive=sensitive)]
    return [Column(name, label, "text", name, sensitive=sensitive)]


# ------------------------------------------------------------------ cells

CellMode = Literal["codes", "labels", "numbered"]
Getter = Callable[[Mapping[str, Any]], Any]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _codes(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def cell_getter(column: Column, mode: CellMode) -> Getter:
    """A function from an entry's answers to this column's cell, chosen once per column."""
    key = column.question
    if column.kind == "number":
        return lambda answers: _number(answers.get(key))
    if column.kind == "text":
        return lambda answers: _text(answers.get(key))
    if column.kind == "geometry":
        return lambda answers: _geometry_text(answers.get(key))
    if column.kind == "choice":
        if mode == "codes":
            return lambda answers: _text(answers.get(key))
        labels = dict(column.choices)
        if mode == "labels":
            return lambda answers: _label(answers.get(key), labels)
        positions = {code: float(index) for index, (code, _) in enumerate(column.choices, 1)}
        return lambda answers: positions.get(answers.get(key))  # type: ignore[arg-type]
    if column.kind == "multi":
        if mode == "labels":
            labels = dict(column.choices)
            return lambda answers: _joined_labels(answers.get(key), labels)
        return lambda answers: _joined_codes(answers.get(key))
    if column.kind == "dummy":
        choice = column.choice
        return lambda answers: _dummy(answers.get(key), choice)
    raise ValueError(f"no getter for {column.kind} columns")


def _label(value: Any, labels: dict[str, str]) -> str | None:
    if value is None:
        return None
    text = _text(value) or ""
    return labels.get(text) or text


def _joined_codes(value: Any) -> str | None:
    return None if value is None else " ".join(_codes(value))


def _joined_labels(value: Any, labels: dict[str, str]) -> str | None:
    if value is None:
        return None
    return "; ".join(labels.get(code) or code for code in _codes(value))


def _dummy(value: Any, choice: str) -> int | None:
    if value is None:
        return None
    return 1 if choice in _codes(value) else 0


def _geometry_text(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    return json.dumps(value, separators=(",", ":"))


# ------------------------------------------------------------------ entries of linked tables

Entry = tuple[list[int], Mapping[str, Any]]


def entries(answers: Mapping[str, Any], path: tuple[str, ...]) -> Iterator[Entry]:
    """Each entry of the repeat (or mark of the map-marks question) at `path`, with the
    1-based positions leading to it: [entry] or [parent_entry, entry]."""
    yield from _entries(answers, path, [])


def _entries(
    data: Mapping[str, Any], path: tuple[str, ...], positions: list[int]
) -> Iterator[Entry]:
    value = data.get(path[0])
    if not isinstance(value, list):
        return
    for position, item in enumerate(value, start=1):
        if not isinstance(item, Mapping):
            continue
        if len(path) == 1:
            yield [*positions, position], item
        else:
            yield from _entries(item, path[1:], [*positions, position])
