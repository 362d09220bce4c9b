"""Validation work decided once per form instead of once per answer.

A batch validates a thousand submissions of one form; most of what `run.py` would
otherwise work out for every answer depends on the form alone: which checker a
question's type takes, which choice names are valid, and which questions need any
check at all once the answers are normalised (most have no relevance, constraint,
choice filter or required rule). A `Plan` holds that for one container (the top level
or a repeat's entries), is made on first use and kept on the container, which is
never changed after `prepare`.

Fast paths only ever accept: a fast checker returns the normalised value for an
answer it is sure of, or `SLOW`, and then the generic checker (in values.py)
decides, with its own error messages. A question is left out of the checks only
when checking it provably does nothing, and a rule's result is remembered only for
rules whose result depends on nothing but the answers they name and `.` (see
`RuleMemo`), so errors, their order and the normalised answers are the same as
without a plan (tests/surveys/test_compiled_validation.py
compares both on generated forms and answers).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from incity.surveys import expressions
from incity.surveys.definition import DISPLAY_TYPES, INPUT_TYPES, METADATA_TYPES
from incity.surveys.expressions import EvalContext, ExpressionError, Value
from incity.surveys.validation.form import PreparedForm, _Container, _Field
from incity.surveys.validation.values import (
    _CHECKERS,
    _LIST_TYPES,
    _NOT_REQUIRED_WORDS,
    MAX_INTEGER,
    _decimal,
    _integer,
    _names,
    _scalar,
    _select_one,
    _text,
)

SLOW: Any = object()  # a fast checker's "not sure": the generic checker decides

# What `run.py` does with an answer, by its question's kind.
NOTE = 0  # a note: no answer allowed
REPEAT = 1
MARKS = 2  # map_marks
VALUE = 3  # any other question: its type's checker

Checker = Callable[[Any, _Field], Any]
FastChecker = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Normaliser:
    """How one question's answer is checked and normalised."""

    item: _Field
    kind: int  # NOTE, REPEAT, MARKS or VALUE
    is_list: bool  # an empty list counts as no answer
    checker: Checker  # the generic checker: exact errors for every input
    fast: FastChecker | None  # the answer normalised, or SLOW; None: always generic


@dataclass(frozen=True, slots=True)
class Plan:
    normalisers: dict[str, Normaliser]  # by question name
    checks: tuple[_Field, ...]  # the questions step 3 must look at, in document order


def plan(container: _Container) -> Plan:
    """The container's plan, made on first use (two threads may both make it: same result)."""
    made = container.plan
    if made is None:
        made = container.plan = compile_plan(container)
    assert isinstance(made, Plan)
    return made


def compile_plan(container: _Container, *, fast: bool = True) -> Plan:
    """`fast=False` gives the reference plan: generic checkers, every question checked."""
    normalisers = {name: _normaliser(item, fast=fast) for name, item in container.fields.items()}
    checks = tuple(
        item
        for item in container.fields.values()
        if item.type not in DISPLAY_TYPES
        and item.type != "calculate"  # computed in step 2, never checked in step 3
        and (not fast or _needs_check(item))
    )
    return Plan(normalisers, checks)


def _normaliser(item: _Field, *, fast: bool) -> Normaliser:
    kind = item.type
    checker: Checker = _CHECKERS.get(kind) or _scalar  # unknown types: text kept as text
    if kind in DISPLAY_TYPES:
        role = NOTE
    elif kind == "repeat":
        role = REPEAT
    elif kind == "map_marks":
        role = MARKS
    else:
        role = VALUE
    quick = _fast_checker(item, checker) if fast and role == VALUE else None
    return Normaliser(item, role, kind in _LIST_TYPES, checker, quick)


# ------------------------------------------------------------------- fast checkers


def _fast_checker(item: _Field, checker: Checker) -> FastChecker | None:
    if checker is _text:
        return _fast_text
    if checker is _integer:
        return _fast_integer
    if checker is _decimal:
        return _fast_decimal
    if item.choices is None:
        return None  # a list from a file, or a missing list: the generic checker decides
    if checker is _select_one:
        return _fast_select_one(frozenset(name for name in item.choices if name.strip()))
    if checker is _names:
        # Names with spaces cannot be chosen in a list (see values._names): left to it.
        return _fast_select_multiple(
            frozenset(name for name in item.choices if name.split() == [name])
        )
    return None


def _fast_text(value: Any) -> Any:
    return value if value.__class__ is str and value else SLOW


def _fast_integer(value: Any) -> Any:
    return value if value.__class__ is int and -MAX_INTEGER <= value <= MAX_INTEGER else SLOW


def _fast_decimal(value: Any) -> Any:
    return value if value.__class__ is float and math.isfinite(value) else SLOW


def _fast_select_one(names: frozenset[str]) -> FastChecker:
    def check(value: Any) -> Any:
        return value if value.__class__ is str and value in names else SLOW

    return check


def _fast_select_multiple(names: frozenset[str]) -> FastChecker:
    def check(value: Any) -> Any:
        if value.__class__ is not list or not value:
            return SLOW
        for name in value:
            if name.__class__ is not str or name not in names:
                return SLOW
        if len(set(value)) != len(value):
            return SLOW  # chosen twice: the generic checker says which
        return list(value)

    return check


# ---------------------------------------------------------------- which to check


def _needs_check(item: _Field) -> bool:
    """False only when step 3 (run.check) provably does nothing for this question.

    Whatever is not plainly absent (an unusual value in the definition included) keeps
    the question in, so that run.check treats it exactly as it always has.
    """
    if item.conditions or item.type == "repeat":
        return True
    element = item.element
    if item.type in INPUT_TYPES and not _never_required(element.get("required", False)):
        return True
    choice_filter = element.get("choice_filter") or ""
    if not isinstance(choice_filter, str) or (item.choices is not None and choice_filter.strip()):
        return True
    constraint = element.get("constraint") or ""
    if not isinstance(constraint, str):
        return True
    return bool(constraint.strip()) and item.type not in METADATA_TYPES


def _never_required(required: Any) -> bool:
    """The same reading as run.required, for a value that needs no answers to decide."""
    if not isinstance(required, str):
        return not required  # True and False, or anything else read as true or false
    return required.strip().lower() in _NOT_REQUIRED_WORDS


# ------------------------------------------------------------------ rule results

# Functions whose result depends on more than their arguments: the moment, chance, or
# where in the repeats the rule is evaluated.
_CONTEXT_FUNCTIONS = expressions.VOLATILE_FUNCTIONS | {"position", "indexed-repeat"}
_MEMO_SIZE = 8192  # results kept per form (then forgotten): rules see few distinct answers
_UNKNOWN: Any = object()


class RuleMemo:
    """A form's relevance and constraint results, by what each rule reads.

    A rule that calls no context function, uses no choice column and names only
    questions outside repeats reads nothing but `${name}` (`EvalContext.resolve`,
    which then ignores the scope) and `.` (`EvalContext.dot`); the same node sets give
    the same value, so it is computed once for each. A thousand submissions mostly
    repeat a few answers to the questions that relevance depends on. Rules that fail
    are not remembered: they are evaluated (and fail) again each time.
    """

    def __init__(self, repeats_of: dict[str, tuple[str, ...]]) -> None:
        self.repeats_of = repeats_of
        self.reads: dict[str, tuple[str, ...] | None] = {}  # None: not remembered
        self.results: dict[tuple[Any, ...], Value] = {}

    def evaluate(self, expression: str, context: EvalContext) -> Value:
        reads = self.reads.get(expression, _UNKNOWN)
        if reads is _UNKNOWN:
            reads = self.reads[expression] = self._reads(expression)
        if reads is None:
            return expressions.evaluate(expression, context)
        key = (
            expression,
            expressions.node_string(context.current),
            *[context.resolve(name) for name in reads],
        )
        result = self.results.get(key, _UNKNOWN)
        if result is _UNKNOWN:
            result = expressions.evaluate(expression, context)
            if len(self.results) >= _MEMO_SIZE:
                self.results.clear()
            self.results[key] = result
        return result

    def _reads(self, expression: str) -> tuple[str, ...] | None:
        try:
            functions = expressions.function_names(expression)
            bare = expressions.bare_names(expression)
            names = expressions.references(expression)
        except ExpressionError:
            return None
        if bare or not functions.isdisjoint(_CONTEXT_FUNCTIONS):
            return None
        if any(self.repeats_of.get(name) for name in names):
            return None
        return tuple(sorted(names))


def rules(form: PreparedForm) -> RuleMemo:
    """The form's RuleMemo, made on first use."""
    made = form.rules
    if made is None:
        made = form.rules = RuleMemo(form.repeats_of)
    assert isinstance(made, RuleMemo)
    return made
