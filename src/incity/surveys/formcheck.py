"""Checks a form definition before it is published (see `definition.py` for the shape).

`check_definition()` returns every problem it finds, each naming the element (or
choice list, or the form) and the column, with a one-line message such as

    age (relevant): refers to ${agee}, which is not in this form.
    household (children): a repeat needs at least one question.
    a (relevant): circular dependency: a → b → a.

It never raises, however malformed the definition: a definition posted to the
API is checked before anything else reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pyxform.utils import default_is_dynamic

from incity.surveys import expressions
from incity.surveys.definition import (
    ELEMENT_TYPES,
    NAME_PATTERN,
    STRUCTURE_TYPES,
    FormDefinition,
)
from incity.surveys.validation import parse_range_parameters

__all__ = ["EXPRESSION_COLUMNS", "DefinitionProblem", "check_definition", "is_dynamic_default"]

# Columns whose text is an expression (a dynamic default is one too, see is_dynamic_default).
EXPRESSION_COLUMNS: tuple[str, ...] = (
    "relevant",
    "constraint",
    "calculation",
    "choice_filter",
    "repeat_count",
)
# Select types whose choices live in `choices` (the *_from_file ones name a file instead).
_LISTED_SELECTS = frozenset({"select_one", "select_multiple", "rank", "map_marks"})
_FILE_SELECTS = frozenset({"select_one_from_file", "select_multiple_from_file"})
_SPACE_SEPARATED = frozenset({"select_multiple", "rank"})
_TEXT_COLUMNS = ("label", "hint", "constraint_message", "required_message")
_TEXT_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_CALL = re.compile(r"[A-Za-z][\w:-]*\s*\(")


@dataclass(frozen=True)
class DefinitionProblem:
    name: str  # the element's name, the choice list's name, or "" for the form itself
    field: str  # the column: "type", "name", "relevant", "list_name", "choices", ...
    message: str  # one line, naming the element and the column


def is_dynamic_default(default: str, element_type: str | None = None) -> bool:
    """Whether a `default` is an expression rather than a literal value, decided exactly
    as pyxform decides it when it writes the XForm (operators, references, function calls,
    predicates; a '-' in a date or geo default is literal)."""
    if not isinstance(default, str) or not default.strip():
        return False
    pyxform_type = {"datetime": "dateTime"}.get(element_type or "", element_type)
    try:
        return bool(default_is_dynamic(default, pyxform_type))
    except Exception:  # pyxform's lexer on odd input: fall back on a plain reading
        return "${" in default or bool(_CALL.search(default))


class _Checker:
    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.definition = definition
        self.problems: list[DefinitionProblem] = []
        choices = definition.get("choices")
        self.choices: Mapping[str, Any] = choices if isinstance(choices, Mapping) else {}
        # Every element with its containing structures, in document order.
        self.elements: list[tuple[Mapping[str, Any], tuple[Mapping[str, Any], ...]]] = list(
            _walk(definition.get("children"), ())
        )
        self.names: set[str] = {
            element["name"]
            for element, _ in self.elements
            if isinstance(element.get("name"), str) and element["name"]
        }

    def add(self, name: str, field: str, detail: str, *, subject: str | None = None) -> None:
        shown = subject if subject is not None else (name or "(unnamed element)")
        message = " ".join(f"{shown} ({field}): {detail}".splitlines())
        self.problems.append(DefinitionProblem(name, field, message))

    # -- the form

    def check_form(self) -> None:
        definition = self.definition
        languages = definition.get("languages")
        default = definition.get("default_language")
        if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
            self.add("", "languages", "must be a list of language names.", subject="form")
        elif not isinstance(default, str) or default not in languages:
            listed = ", ".join(languages) or "none"
            self.add(
                "",
                "default_language",
                f"{default!r} is not one of the form's languages ({listed}).",
                subject="form",
            )
        if not isinstance(definition.get("children"), list):
            self.add("", "children", "must be a list of elements.", subject="form")
        elif not definition["children"]:
            self.add("", "children", "the form has no questions.", subject="form")
        if not isinstance(definition.get("choices", {}), Mapping):
            self.add("", "choices", "must map list names to lists of choices.", subject="form")

    # -- the choice lists

    def check_choices(self) -> None:
        space_separated = {
            element.get("list_name")
            for element, _ in self.elements
            if element.get("type") in _SPACE_SEPARATED
        }
        for list_name, entries in self.choices.items():
            subject = f"choice list '{list_name}'"
            if not isinstance(entries, list):
                self.add(list_name, "choices", "must be a list of choices.", subject=subject)
                continue
            if not entries:
                self.add(list_name, "choices", "has no choices.", subject=subject)
                continue
            seen: set[str] = set()
            for position, choice in enumerate(entries, start=1):
                name = choice.get("name") if isinstance(choice, Mapping) else None
                if not isinstance(name, str) or not name.strip():
                    self.add(
                        list_name, "choices", f"choice {position} has no name.", subject=subject
                    )
                    continue
                if name in seen:
                    self.add(
                        list_name, "choices", f"duplicate choice name '{name}'.", subject=subject
                    )
                seen.add(name)
                if list_name in space_separated and any(char.isspace() for char in name):
                    self.add(
                        list_name,
                        "choices",
                        f"choice name '{name}' contains a space, which a multiple-choice "
                        "answer cannot carry.",
                        subject=subject,
                    )

    # -- the elements

    def check_elements(self) -> None:
        seen: set[str] = set()
        for element, _parents in self.elements:
            kind = element.get("type")
            name = element.get("name")
            shown = name if isinstance(name, str) else ""
            if not isinstance(name, str) or not NAME_PATTERN.match(name):
                self.add(
                    shown,
                    "name",
                    f"{name!r} is not a valid name: start with a letter or '_' and use only "
                    "letters, digits, '_', '.' and '-'.",
                )
            elif name in seen:
                self.add(name, "name", "another element already has this name.")
            else:
                seen.add(name)
            if not isinstance(kind, str) or kind not in ELEMENT_TYPES:
                self.add(shown, "type", f"unknown type {kind!r}.")
                continue
            self.check_element(element, shown, kind)

    def check_element(self, element: Mapping[str, Any], name: str, kind: str) -> None:
        if kind in STRUCTURE_TYPES:
            children = element.get("children")
            if not isinstance(children, list) or not children:
                self.add(name, "children", f"a {kind} needs at least one question.")
        list_name = element.get("list_name", "")
        if kind in _LISTED_SELECTS:
            if not isinstance(list_name, str) or not list_name:
                what = "map marks need" if kind == "map_marks" else f"a {kind} question needs"
                self.add(name, "list_name", f"{what} a choice list (list_name).")
            elif list_name not in self.choices:
                self.add(name, "list_name", f"the choice list '{list_name}' does not exist.")
        elif kind in _FILE_SELECTS and (not isinstance(list_name, str) or not list_name):
            self.add(name, "list_name", f"a {kind} question needs the name of its file.")
        if kind == "calculate":
            calculation = element.get("calculation", "")
            if not isinstance(calculation, str) or not calculation.strip():
                self.add(name, "calculation", "a calculate needs a calculation.")
        if kind == "range":
            parameters = element.get("parameters", "")
            if isinstance(parameters, str) and parameters.strip():
                try:
                    parse_range_parameters(parameters)
                except ValueError as error:
                    self.add(name, "parameters", f"{error}.")
        for column in EXPRESSION_COLUMNS:
            self.check_expression(element, name, column, element.get(column, ""))
        default = element.get("default", "")
        if isinstance(default, str) and is_dynamic_default(default, kind):
            self.check_expression(element, name, "default", default)
        for column in _TEXT_COLUMNS:
            self.check_text_references(name, column, element.get(column))

    def check_expression(
        self, element: Mapping[str, Any], name: str, column: str, text: Any
    ) -> None:
        if text is None or text == "":
            return
        if not isinstance(text, str):
            self.add(name, column, f"must be text, not {type(text).__name__}.")
            return
        if not text.strip():
            return
        try:
            expressions.check(text)
            referenced = expressions.references(text)
            bare = expressions.bare_names(text)
        except expressions.ExpressionError as error:
            self.add(name, column, f"cannot read the expression: {error}.")
            return
        for missing in sorted(referenced - self.names):
            self.add(name, column, f"refers to ${{{missing}}}, which is not in this form.")
        if not bare:
            return
        if column != "choice_filter":
            for column_name in sorted(bare):
                self.add(
                    name,
                    column,
                    f"uses the bare name '{column_name}'; refer to a question as "
                    f"${{{column_name}}}.",
                )
            return
        list_name = element.get("list_name", "")
        entries = self.choices.get(list_name) if isinstance(list_name, str) else None
        if not isinstance(entries, list):
            return
        columns = {"name", "label"}
        for choice in entries:
            extra = choice.get("extra") if isinstance(choice, Mapping) else None
            if isinstance(extra, Mapping):
                columns.update(key for key in extra if isinstance(key, str))
        for column_name in sorted(bare - columns):
            self.add(
                name,
                column,
                f"the choice list '{list_name}' has no column '{column_name}'.",
            )

    def check_text_references(self, name: str, column: str, texts: Any) -> None:
        if not isinstance(texts, Mapping):
            return
        missing: set[str] = set()
        for text in texts.values():
            if isinstance(text, str) and "${" in text:
                missing.update(
                    reference.strip()
                    for reference in _TEXT_REFERENCE.findall(text)
                    if reference.strip() not in self.names
                )
        for reference in sorted(missing):
            self.add(name, column, f"refers to ${{{reference}}}, which is not in this form.")

    # -- cycles among relevance and calculations

    def check_cycles(self) -> None:
        order: dict[str, int] = {}
        edges: dict[str, dict[str, str]] = {}
        for element, parents in self.elements:
            name = element.get("name")
            if not isinstance(name, str) or name in order:
                continue
            order[name] = len(order)
            targets: dict[str, str] = {}
            for column in ("relevant", "calculation"):
                for reference in sorted(_safe_references(element.get(column))):
                    if reference in self.names:
                        targets.setdefault(reference, column)
            # A question applies only where its groups apply: it depends on their relevance.
            for parent in parents:
                parent_name = parent.get("name")
                if isinstance(parent_name, str) and _safe_references(parent.get("relevant")):
                    targets.setdefault(parent_name, "relevant")
            edges[name] = targets
        reported: set[frozenset[str]] = set()
        for cycle in _cycles(edges, order):
            key = frozenset(cycle)
            if key in reported:
                continue
            reported.add(key)
            # Start the cycle at its first element in the form, for a stable message.
            start = min(range(len(cycle) - 1), key=lambda i: order[cycle[i]])
            cycle = cycle[start:-1] + cycle[:start] + [cycle[start]]
            first, second = cycle[0], cycle[1]
            field = edges[first].get(second, "relevant")
            self.add(first, field, f"circular dependency: {' → '.join(cycle)}.")


def _safe_references(text: Any) -> frozenset[str]:
    if not isinstance(text, str) or not text.strip():
        return frozenset()
    try:
        return expressions.references(text)
    except expressions.ExpressionError:
        return frozenset()


def _walk(
    children: Any, parents: tuple[Mapping[str, Any], ...]
) -> Iterator[tuple[Mapping[str, Any], tuple[Mapping[str, Any], ...]]]:
    """Every element (mappings only) with its containing structures; iterative, so that
    absurdly deep nesting cannot exhaust the stack."""
    if not isinstance(children, list):
        return
    pending: list[tuple[Iterator[Any], tuple[Mapping[str, Any], ...]]] = [(iter(children), parents)]
    while pending:
        iterator, current = pending[-1]
        element = next(iterator, _END)
        if element is _END:
            pending.pop()
            continue
        if not isinstance(element, Mapping):
            continue
        yield element, current
        if element.get("type") in STRUCTURE_TYPES and isinstance(element.get("children"), list):
            pending.append((iter(element["children"]), (*current, element)))


_END = object()


def _cycles(
    edges: Mapping[str, Mapping[str, str]], order: Mapping[str, int]
) -> Iterator[list[str]]:
    """Cycles found by a depth-first search (each as [a, b, ..., a]); iterative."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(edges, key=order.__getitem__):
        if state.get(root):
            continue
        path: list[str] = [root]
        iterators = [iter(sorted(edges.get(root, {}), key=lambda n: order.get(n, 0)))]
        state[root] = 1
        while iterators:
            try:
                target = next(iterators[-1])
            except StopIteration:
                iterators.pop()
                state[path.pop()] = 2
                continue
            mark = state.get(target)
            if mark == 1:
                yield [*path[path.index(target) :], target]
            elif mark is None and target in edges:
                state[target] = 1
                path.append(target)
                iterators.append(iter(sorted(edges[target], key=lambda n: order.get(n, 0))))


def check_definition(definition: FormDefinition) -> list[DefinitionProblem]:
    """Every problem in a form definition; an empty list when it can be published."""
    if not isinstance(definition, Mapping):
        return [DefinitionProblem("", "form", "form (form): a definition must be an object.")]
    checker = _Checker(definition)
    checker.check_form()
    checker.check_choices()
    checker.check_elements()
    checker.check_cycles()
    return checker.problems
