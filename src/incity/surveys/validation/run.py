"""One validation (`validate_answers`): check and normalise the answers, compute the
calculations, then check relevance, required answers, constraints, choice filters and
repeat counts against the normalised answers (see the package's docstring)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from incity.surveys import expressions
from incity.surveys.definition import (
    INPUT_TYPES,
    METADATA_TYPES,
    TIMES_OF_DAY,
    FormDefinition,
    text_in,
)
from incity.surveys.expressions import EvalContext, ExpressionError, Value
from incity.surveys.validation.compiled import (
    MARKS,
    NOTE,
    REPEAT,
    SLOW,
    Plan,
    compile_plan,
    plan,
    rules,
)
from incity.surveys.validation.form import (
    FORM_ERROR_KEY,
    PreparedForm,
    ValidationResult,
    _Container,
    _Field,
    prepare,
)
from incity.surveys.validation.values import (
    _INVALID,
    _NOT_REQUIRED_WORDS,
    _REQUIRED_WORDS,
    MARK_KEYS,
    Scope,
    _check_ranking,
    _clip,
    _Invalid,
    _mark_geometry,
    _select_one,
    _text,
)


class _Run:
    """One validation: the normalised answers so far, the errors, the expression context."""

    def __init__(self, form: PreparedForm, *, compiled: bool = True) -> None:
        self.form = form
        self.plan_of: Callable[[_Container], Plan] = plan if compiled else _reference_plan
        self.memo = rules(form) if compiled else None
        self.errors: dict[str, str] = {}
        self.answers: dict[str, Any] = {}
        now = dt.datetime.now(dt.UTC)
        # today() is the latest calendar date anywhere on Earth, so that a rule such as
        # `. <= today()` never refuses a date that is already today where it was answered.
        self.context = EvalContext(
            self.answers,
            repeats=form.repeats_of,
            choice_label=self.choice_label,
            now=now,
            today=(now + dt.timedelta(hours=14)).date(),
        )
        self.relevance: dict[tuple[str, tuple[tuple[str, int], ...]], bool] = {}
        self.contexts: dict[Scope, EvalContext] = {}  # one per repeat entry, made on first use
        # Names with a refused answer, and repeat entries that were not objects: rules that
        # depend on them cannot be judged, so they add no further errors of their own.
        self.invalid: dict[str, list[Scope]] = {}
        self.invalid_entries: set[str] = set()

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def choice_label(self, value: str, question: str) -> str:
        item = self.form.fields.get(question)
        if item is None or item.choices is None:
            return value
        labels = []
        for name in value.split():
            choice = item.choices.get(name)
            labels.append(
                text_in(choice.get("label"), self.form.language) or name if choice else name
            )
        return " ".join(labels)

    # -- 1. shapes and types

    def normalise(
        self, container: _Container, data: Mapping[Any, Any], prefix: str, scope: Scope = ()
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        normalisers = self.plan_of(container).normalisers
        for key, value in data.items():
            step = normalisers.get(key) if isinstance(key, str) else None
            if step is None:
                self.error(f"{prefix}{key}", self.misplaced(container, key))
                continue
            if step.fast is not None:
                normalised = step.fast(value)
                if normalised is not SLOW:
                    out[key] = normalised
                    continue
            path = f"{prefix}{key}"
            item = step.item
            if step.kind == NOTE:
                self.error(path, _("This is a note: it takes no answer."))
                continue
            if value is None or value == "" or (step.is_list and value == []):
                continue
            if step.kind == REPEAT:
                entries = self.normalise_repeat(item, value, path, scope)
                if entries is not _INVALID:
                    out[key] = entries
                else:
                    self.invalid.setdefault(key, []).append(scope)
                continue
            if step.kind == MARKS:
                marks = self.normalise_marks(item, value, path)
                if marks is not _INVALID:
                    out[key] = marks
                else:
                    self.invalid.setdefault(key, []).append(scope)
                continue
            try:
                out[key] = step.checker(value, item)
            except _Invalid as problem:
                self.error(path, str(problem))
                self.invalid.setdefault(key, []).append(scope)
        return out

    def misplaced(self, container: _Container, key: Any) -> str:
        form = self.form
        if not isinstance(key, str):
            return _("This is not a question of this form.")
        if key in form.groups:
            return _("This is a group, not a question: give the answers to its questions directly.")
        item = form.fields.get(key)
        if item is None:
            return _("This is not a question of this form.")
        if item.repeats:
            return _("This question belongs inside each entry of the repeat '%(repeat)s'.") % {
                "repeat": item.repeats[-1]
            }
        return _("This question is not part of the repeat '%(repeat)s'.") % {
            "repeat": container.repeat
        }

    def normalise_repeat(self, item: _Field, value: Any, path: str, scope: Scope) -> Any:
        if not isinstance(value, list):
            self.error(path, _("Expected a list of entries (objects)."))
            return _INVALID
        assert item.container is not None
        entries: list[dict[str, Any]] = []
        for position, entry in enumerate(value, start=1):
            entry_path = f"{path}[{position}]"
            if not isinstance(entry, dict):
                self.error(entry_path, _("Expected an object of answers."))
                entries.append({})  # keep the positions of the other entries
                self.invalid_entries.add(entry_path)
                continue
            entries.append(
                self.normalise(
                    item.container, entry, entry_path + ".", (*scope, (item.name, position - 1))
                )
            )
        return entries

    def normalise_marks(self, item: _Field, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            self.error(path, _("Expected a list of map marks."))
            return _INVALID
        marks: list[dict[str, Any]] = []
        valid = True
        for position, mark in enumerate(value, start=1):
            mark_path = f"{path}[{position}]"
            normalised = self.normalise_mark(item, mark, mark_path)
            if normalised is None:
                valid = False
            else:
                marks.append(normalised)
        return marks if valid else _INVALID

    def normalise_mark(self, item: _Field, mark: Any, path: str) -> dict[str, Any] | None:
        if not isinstance(mark, dict):
            self.error(
                path,
                _(
                    "Expected a map mark: an object with a category and a geometry, place or description."
                ),
            )
            return None
        before = len(self.errors)
        out: dict[str, Any] = {}
        for key, value in mark.items():
            if key not in MARK_KEYS:
                self.error(
                    f"{path}.{key}",
                    _("Not a field of a map mark (%(keys)s).") % {"keys": ", ".join(MARK_KEYS)},
                )
                continue
            if value is None or value == "":
                continue
            try:
                if key == "geometry":
                    out[key] = _mark_geometry(value)
                elif key == "category":
                    out[key] = _select_one(value, item)
                elif key == "time_of_day":
                    if value not in TIMES_OF_DAY:
                        raise _Invalid(
                            _("Expected one of %(times)s.") % {"times": ", ".join(TIMES_OF_DAY)}
                        )
                    out[key] = value
                else:
                    out[key] = _text(value, item)
            except _Invalid as problem:
                self.error(f"{path}.{key}", str(problem))
        if not any(mark.get(key) not in (None, "") for key in ("geometry", "place", "description")):
            self.error(path, _("A map mark needs a geometry, a place or a description."))
        if mark.get("category") in (None, ""):
            self.error(f"{path}.category", _("A map mark needs a category."))
        return out if len(self.errors) == before else None

    # -- 2. calculations

    def calculate(self) -> None:
        # A calculation is computed here whenever everything it refers to is answered and
        # it does not depend on the moment or on chance (now(), today(), random(), uuid(),
        # once()). The computed value is stored whatever the client sent: a value sent for
        # a calculation is never an error, because clients differ in how they write numbers
        # ('3' or '3.0'); a value the client sent is kept only when the server cannot
        # compute one. A calculation that does not apply (relevant false) is dropped.
        for item in self.form.calculates:
            expression = item.element.get("calculation") or ""
            for scope, data in self.entries(item.repeats):
                context = self.context.derive(scope=scope)
                path = _path(scope, item.name)
                if not self.applies(item, scope, path):
                    data.pop(item.name, None)
                    continue
                if not expression.strip() or not self.computable(expression, context):
                    continue
                try:
                    value = expressions.evaluate(expression, context)
                except ExpressionError as problem:
                    self.error(
                        path,
                        _("The calculation could not be made: %(problem)s") % {"problem": problem},
                    )
                    continue
                data[item.name] = expressions.to_string(value)
        self.relevance.clear()

    def computable(self, expression: str, context: EvalContext) -> bool:
        try:
            if expressions.is_volatile(expression):
                return False
            references = expressions.references(expression)
        except ExpressionError:
            return False
        for name in references:
            item = self.form.fields.get(name)
            if item is None:
                if name in self.form.groups:
                    continue
                return False
            if item.type in ("repeat", "map_marks") or context.is_aggregate(name):
                continue
            nodes = context.resolve(name)
            if not nodes or nodes[0] == "":
                return False
        return True

    def entries(
        self, repeats: tuple[str, ...]
    ) -> list[tuple[tuple[tuple[str, int], ...], dict[str, Any]]]:
        level: list[tuple[tuple[tuple[str, int], ...], dict[str, Any]]] = [((), self.answers)]
        for repeat in repeats:
            deeper: list[tuple[tuple[tuple[str, int], ...], dict[str, Any]]] = []
            for scope, data in level:
                entries = data.get(repeat)
                if isinstance(entries, list):
                    deeper.extend(
                        ((*scope, (repeat, index)), entry)
                        for index, entry in enumerate(entries)
                        if isinstance(entry, dict)
                    )
            level = deeper
        return level

    # -- 3. relevance, required, constraints, choice filters, repeat counts

    def applies(self, item: _Field, scope: tuple[tuple[str, int], ...], path: str) -> bool:
        return self.failing_condition(item, scope, path) is None

    def failing_condition(
        self, item: _Field, scope: tuple[tuple[str, int], ...], path: str
    ) -> str | None:
        """The relevant expression (its own or a group's) that rules the element out, or None."""
        for condition in item.conditions:
            key = (condition, scope)
            result = self.relevance.get(key)
            if result is None:
                try:
                    result = expressions.truthy(self.rule(condition, self.scoped(scope)))
                except ExpressionError as problem:
                    self.error(
                        path,
                        _("The form's rule %(rule)s could not be checked: %(problem)s")
                        % {"rule": condition, "problem": problem},
                    )
                    result = True
                self.relevance[key] = result
            if not result:
                return condition
        return None

    def rule(self, expression: str, context: EvalContext) -> Value:
        """A relevance or constraint rule's value (remembered by the form, see RuleMemo)."""
        if self.memo is None:
            return expressions.evaluate(expression, context)
        return self.memo.evaluate(expression, context)

    def scoped(self, scope: Scope) -> EvalContext:
        context = self.contexts.get(scope)
        if context is None:
            context = self.contexts[scope] = self.context.derive(scope=scope)
        return context

    def check(
        self,
        container: _Container,
        data: dict[str, Any],
        scope: tuple[tuple[str, int], ...],
        prefix: str,
    ) -> None:
        # Notes and calculations (see calculate()) are not in the plan's checks, nor, in
        # the compiled plan, questions for which nothing below could apply.
        for item in self.plan_of(container).checks:
            kind = item.type
            name = item.name
            path = prefix + name
            present = name in data
            failing = self.failing_condition(item, scope, path)
            if failing is not None:
                if present and not self.undecidable(failing, scope):
                    self.error(
                        path,
                        _(
                            "answered, but this question does not apply given the other answers (relevant: %(relevant)s)"
                        )
                        % {"relevant": failing},
                    )
                    del data[name]
                continue
            if kind == "repeat":
                self.check_repeat(item, data, scope, path)
                continue
            if not present:
                if kind in INPUT_TYPES and self.required(item, scope, path):
                    message = text_in(item.element.get("required_message"), self.form.language)
                    self.error(path, message or _("This question needs an answer."))
                continue
            value = data[name]
            choice_filter = (item.element.get("choice_filter") or "").strip()
            if (
                item.choices is not None
                and choice_filter
                and not self.undecidable(choice_filter, scope)
                and not self.check_filtered(item, value, scope, path)
            ):
                del data[name]
                continue
            constraint = item.element.get("constraint") or ""
            if (
                constraint.strip()
                and kind not in METADATA_TYPES
                and not self.undecidable(constraint, scope)
            ):
                try:
                    passed = expressions.truthy(
                        self.rule(constraint, self.context.derive(scope=scope, current=value))
                    )
                except ExpressionError as problem:
                    self.error(
                        path,
                        _("The form's rule %(rule)s could not be checked: %(problem)s")
                        % {"rule": constraint, "problem": problem},
                    )
                    continue
                if not passed:
                    message = text_in(item.element.get("constraint_message"), self.form.language)
                    self.error(
                        path,
                        message
                        or _("The answer does not meet the rule %(rule)s.") % {"rule": constraint},
                    )

    def check_repeat(
        self, item: _Field, data: dict[str, Any], scope: tuple[tuple[str, int], ...], path: str
    ) -> None:
        entries = data.get(item.name) or []
        count_expression = (item.element.get("repeat_count") or "").strip()
        if count_expression:
            try:
                wanted = expressions.to_number(
                    expressions.evaluate(count_expression, self.context.derive(scope=scope))
                )
            except ExpressionError as problem:
                self.error(
                    path,
                    _("The form's rule %(rule)s could not be checked: %(problem)s")
                    % {"rule": count_expression, "problem": problem},
                )
                wanted = math.nan
            if (
                math.isfinite(wanted)
                and int(wanted) != len(entries)
                and not self.undecidable(count_expression, scope)
            ):
                self.error(
                    path,
                    _("Expected %(wanted)s entries (repeat_count: %(rule)s), got %(count)s.")
                    % {
                        "wanted": max(int(wanted), 0),
                        "rule": count_expression,
                        "count": len(entries),
                    },
                )
        assert item.container is not None
        for index, entry in enumerate(entries):
            if isinstance(entry, dict) and f"{path}[{index + 1}]" not in self.invalid_entries:
                self.check(
                    item.container, entry, (*scope, (item.name, index)), f"{path}[{index + 1}]."
                )

    def undecidable(self, expression: str, scope: Scope) -> bool:
        """Whether `expression`, evaluated in `scope`, sees an answer that was refused
        (so that it cannot be judged, and adds no error of its own)."""
        if not self.invalid:
            return False
        try:
            references = expressions.references(expression)
        except ExpressionError:
            return False
        for name in references:
            for where in self.invalid.get(name, ()):
                if _visible(where, scope):
                    return True
        return False

    def required(self, item: _Field, scope: tuple[tuple[str, int], ...], path: str) -> bool:
        required = item.element.get("required", False)
        if isinstance(required, bool):
            return required
        if not isinstance(required, str):
            return bool(required)
        word = required.strip().lower()
        if word in _REQUIRED_WORDS:
            return True
        if word in _NOT_REQUIRED_WORDS:
            return False
        try:
            return expressions.truthy(
                expressions.evaluate(required, self.context.derive(scope=scope))
            )
        except ExpressionError:
            return True

    def check_filtered(
        self, item: _Field, value: Any, scope: tuple[tuple[str, int], ...], path: str
    ) -> bool:
        expression = item.element.get("choice_filter") or ""
        context = self.context.derive(scope=scope)
        available: list[str] = []
        try:
            for name, row in item.rows:
                if expressions.truthy(expressions.evaluate(expression, context.derive(row=row))):
                    available.append(name)
        except ExpressionError as problem:
            self.error(
                path,
                _("The form's rule %(rule)s could not be checked: %(problem)s")
                % {"rule": expression, "problem": problem},
            )
            return False
        allowed = set(available)

        def refuse(name: str, where: str) -> bool:
            self.error(
                where,
                _(
                    "'%(name)s' is not one of the choices available given the other answers (choice_filter: %(rule)s)."
                )
                % {"name": _clip(name), "rule": expression},
            )
            return False

        if item.type == "map_marks":
            ok = True
            for position, mark in enumerate(value, start=1):
                category = mark.get("category")
                if isinstance(category, str) and category not in allowed:
                    ok = refuse(category, f"{path}[{position}].category") and ok
            return ok
        if isinstance(value, list):
            for name in value:
                if name not in allowed:
                    return refuse(name, path)
            if item.type == "rank":
                try:
                    _check_ranking(value, available)
                except _Invalid as problem:
                    self.error(path, str(problem))
                    return False
            return True
        if value not in allowed:
            return refuse(str(value), path)
        return True


def _visible(where: Scope, scope: Scope) -> bool:
    """Whether an answer in the repeat entry `where` is seen from `scope`: from inside the
    same repeat only that entry's answers are, from outside all entries' are."""
    for (repeat, index), (here, position) in zip(where, scope, strict=False):
        if repeat != here:
            return True
        if index != position:
            return False
    return True


def _path(scope: tuple[tuple[str, int], ...], name: str) -> str:
    return "".join(f"{repeat}[{index + 1}]." for repeat, index in scope) + name


def validate_answers(
    definition: FormDefinition | PreparedForm, answers: dict[str, Any]
) -> ValidationResult:
    """Check and normalise one submission's answers; never raises for any JSON-like input."""
    return validate(definition, answers)


def validate(
    definition: FormDefinition | PreparedForm, answers: dict[str, Any], *, compiled: bool = True
) -> ValidationResult:
    """`validate_answers`; `compiled=False` validates without the form's compiled plan
    (see compiled.py), as the reference its tests compare the compiled plan with."""
    form = prepare(definition)
    run = _Run(form, compiled=compiled)
    if not isinstance(answers, Mapping):
        return ValidationResult(
            {}, {FORM_ERROR_KEY: _("The answers must be an object keyed by question name.")}
        )
    run.answers.update(run.normalise(form.top, answers, ""))
    run.calculate()
    run.check(form.top, run.answers, (), "")
    return ValidationResult(run.answers, run.errors)


def _reference_plan(container: _Container) -> Plan:
    return compile_plan(container, fast=False)
