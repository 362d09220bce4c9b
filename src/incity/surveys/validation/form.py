"""The prepared form: a definition indexed once for validation (`prepare`), and results."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from incity.surveys import expressions
from incity.surveys.definition import Choice, Element, FormDefinition, is_sensitive, text_in
from incity.surveys.expressions import ExpressionError

FORM_ERROR_KEY = "__all__"


@dataclass(frozen=True)
class ValidationResult:
    answers: dict[str, Any]  # normalised; invalid, unknown and non-applicable answers left out
    errors: dict[str, str]  # path -> message

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class TypedValue:
    path: str  # "age", "household[2].member_age", "places[1]"
    name: str  # the element's name
    repeat_path: str  # "" at the top level, else "household[2]"
    kind: str  # 'text' | 'number' | 'date' | 'choice' | 'geometry'
    text: str | None = None
    number: float | None = None
    date: str | None = None  # ISO date or date-time
    geometry: dict[str, Any] | None = None  # GeoJSON
    lat: float | None = None
    lon: float | None = None


# ------------------------------------------------------------------- the prepared form


@dataclass(eq=False)
class _Field:
    name: str
    type: str
    element: Element
    repeats: tuple[str, ...]  # the repeats containing it, outermost first
    conditions: tuple[str, ...]  # relevant expressions: its groups' (outermost first), then its own
    sensitive: bool  # tagged sensitive, itself or through a containing group or repeat
    container: _Container | None = None  # a repeat's questions
    choices: dict[str, Choice] | None = None  # select and map_marks lists, by choice name
    rows: tuple[tuple[str, dict[str, str]], ...] = ()  # (name, choice-filter row)


@dataclass(eq=False)
class _Container:
    """The answers at one level: the top level, or one entry of a repeat (groups flattened)."""

    repeat: str  # "" at the top level
    fields: dict[str, _Field] = field(default_factory=dict)
    # The validation steps compiled from `fields` on first use (see compiled.py): a
    # container is never changed after `prepare`, so they are made once per form.
    plan: Any = field(default=None, repr=False)


@dataclass(eq=False)
class PreparedForm:
    """What validation needs from a definition, computed once (see `prepare`)."""

    definition: FormDefinition
    top: _Container
    fields: dict[str, _Field]  # every element but groups, by name
    groups: dict[str, tuple[str, ...]]  # group name -> the repeats containing it
    repeats_of: dict[str, tuple[str, ...]]  # element name -> containing repeats (for expressions)
    calculates: list[_Field]  # in dependency order
    sensitive_names: frozenset[str]
    language: str
    # The results of its rules by what they read (compiled.RuleMemo), made on first use.
    rules: Any = field(default=None, repr=False)


_PREPARED: OrderedDict[tuple[Any, ...], tuple[FormDefinition, PreparedForm]] = OrderedDict()
_PREPARED_LOCK = threading.Lock()
_PREPARED_SIZE = 32


def prepare(definition: FormDefinition | PreparedForm) -> PreparedForm:
    """Index a definition for validation (a PreparedForm is returned as it is).

    The last few definitions prepared are remembered together with a copy of each, and
    one equal to a remembered copy (compared with ==, which is fast) is not indexed
    again: validating, splitting and typing one submission, or a batch of them, indexes
    the form once, even when each call loads the definition afresh. A definition changed
    in place no longer equals its copy, so it is indexed anew.
    """
    if isinstance(definition, PreparedForm):
        return definition
    try:
        key = (
            definition.get("form_id"),
            definition.get("version_label"),
            len(definition["children"]),
        )
    except (AttributeError, KeyError, TypeError):
        return _prepare(definition)
    with _PREPARED_LOCK:
        cached = _PREPARED.get(key)
        if cached is not None and cached[0] == definition:
            _PREPARED.move_to_end(key)
            return cached[1]
    snapshot = copy.deepcopy(definition)
    prepared = _prepare(snapshot)
    with _PREPARED_LOCK:
        _PREPARED[key] = (snapshot, prepared)
        _PREPARED.move_to_end(key)
        while len(_PREPARED) > _PREPARED_SIZE:
            _PREPARED.popitem(last=False)
    return prepared


def _prepare(definition: FormDefinition) -> PreparedForm:
    language = definition.get("default_language", "") or ""
    choices = definition.get("choices") or {}
    top = _Container("")
    fields: dict[str, _Field] = {}
    groups: dict[str, tuple[str, ...]] = {}
    repeats_of: dict[str, tuple[str, ...]] = {}
    sensitive_groups: set[str] = set()

    def visit(
        elements: list[Element],
        container: _Container,
        repeats: tuple[str, ...],
        conditions: tuple[str, ...],
        sensitive: bool,
        depth: int,
    ) -> None:
        if depth > 50:  # far deeper than any form; refuse to recurse into absurd definitions
            return
        for element in elements:
            if not isinstance(element, Mapping):
                continue
            name = element.get("name")
            kind = element.get("type")
            if not isinstance(name, str) or not isinstance(kind, str):
                continue
            relevant = element.get("relevant") or ""
            own = (
                (*conditions, relevant)
                if isinstance(relevant, str) and relevant.strip()
                else conditions
            )
            secret = sensitive or is_sensitive(element)
            repeats_of[name] = repeats
            children = element.get("children") or []
            if kind == "group":
                groups[name] = repeats
                if secret:
                    sensitive_groups.add(name)
                visit(children, container, repeats, own, secret, depth + 1)
                continue
            item = _Field(name, kind, element, repeats, own, secret)
            list_name = element.get("list_name") or ""
            entries = choices.get(list_name) if isinstance(list_name, str) else None
            if isinstance(entries, list):
                item.choices = {
                    choice["name"]: choice
                    for choice in entries
                    if isinstance(choice, Mapping) and isinstance(choice.get("name"), str)
                }
                item.rows = tuple(
                    (choice_name, _choice_row(choice, language))
                    for choice_name, choice in item.choices.items()
                )
            container.fields.setdefault(name, item)
            fields.setdefault(name, item)
            if kind == "repeat":
                item.container = _Container(name)
                visit(children, item.container, (*repeats, name), own, secret, depth + 1)

    visit(definition.get("children") or [], top, (), (), False, 0)
    calculates = _calculation_order([f for f in fields.values() if f.type == "calculate"])
    sensitive_names = frozenset(name for name, item in fields.items() if item.sensitive)
    return PreparedForm(
        definition,
        top,
        fields,
        groups,
        repeats_of,
        calculates,
        sensitive_names | sensitive_groups,
        language,
    )


def _choice_row(choice: Choice, language: str) -> dict[str, str]:
    row: dict[str, str] = {}
    extra = choice.get("extra")
    if isinstance(extra, Mapping):
        row.update({key: value for key, value in extra.items() if isinstance(value, str)})
    row["name"] = choice["name"]
    row.setdefault("label", text_in(choice.get("label"), language))
    return row


def _calculation_order(calculates: list[_Field]) -> list[_Field]:
    """Calculations before the calculations that use them (document order otherwise)."""
    by_name = {item.name: item for item in calculates}
    needs: dict[str, set[str]] = {}
    for item in calculates:
        try:
            refs = expressions.references(item.element.get("calculation") or "")
        except ExpressionError:
            refs = frozenset()
        needs[item.name] = {ref for ref in refs if ref in by_name and ref != item.name}
    ordered: list[_Field] = []
    done: set[str] = set()
    while len(ordered) < len(calculates):
        progress = False
        for item in calculates:
            if item.name not in done and needs[item.name] <= done:
                ordered.append(item)
                done.add(item.name)
                progress = True
        if not progress:  # a cycle (formcheck reports it): keep document order for the rest
            ordered.extend(item for item in calculates if item.name not in done)
            break
    return ordered
