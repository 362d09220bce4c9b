"""Answers for one form definition: walk it, answer each question that applies.

Questions with a per-question generator (`questions.QuestionAnswers`) get answers
that follow from the respondent's profile; any other question gets a plausible
value for its type. Every answer respects the question's relevance, choice
filter and constraint, and `valid_answers` checks the whole set with the real
validation.
"""

from __future__ import annotations

import math
import random
import re
from datetime import timedelta
from typing import Any

from incity.demo.surveys.form import FIELDWORK_START
from incity.demo.surveys.people import Person
from incity.demo.surveys.places import Place, random_point_in
from incity.demo.surveys.questions import GENERIC, SKIP, QuestionAnswers, QuestionGenerator
from incity.demo.surveys.texts import pick_text
from incity.surveys import expressions
from incity.surveys.definition import (
    COMPUTED_TYPES,
    DISPLAY_TYPES,
    METADATA_TYPES,
    Choice,
    Element,
    FormDefinition,
    walk,
)
from incity.surveys.validation import PreparedForm, validate_answers

_EXCLUSIVE = frozenset({"none", "nothing", "prefer_not_to_say", "dont_know"})
_RARE = frozenset({"prefer_not_to_say", "dont_know", "other", "another_way"})
_BOUNDS = r"\.\s*>=?\s*(-?\d+(?:\.\d+)?)\s+and\s+\.\s*<=?\s*(-?\d+(?:\.\d+)?)"


class AnswerMaker:
    """Answers for one form definition: per-question generators, else a value by type."""

    def __init__(self, definition: FormDefinition, rng: random.Random) -> None:
        self.definition = definition
        self.rng = rng
        self.choices: dict[str, list[Choice]] = definition["choices"]
        self.repeats: dict[str, tuple[str, ...]] = {}
        for element, parents in walk(definition["children"]):
            repeat_path = tuple(p["name"] for p in parents if p["type"] == "repeat")
            if repeat_path:
                self.repeats[element["name"]] = repeat_path
        self.questions = QuestionAnswers(rng, self.choices)
        self.specific: dict[str, QuestionGenerator] = self.questions.generators()

    # -- the generic walk

    def make(self, person: Person, place: Place) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        self._fill(self.definition["children"], answers, answers, (), person, place)
        return answers

    def _fill(
        self,
        elements: list[Element],
        target: dict[str, Any],
        root: dict[str, Any],
        scope: tuple[tuple[str, int], ...],
        person: Person,
        place: Place,
    ) -> None:
        for element in elements:
            kind = element["type"]
            if kind in DISPLAY_TYPES or kind in COMPUTED_TYPES or kind in METADATA_TYPES:
                continue
            if not self._relevant(element, root, scope):
                continue
            if kind == "group":
                self._fill(element.get("children", []), target, root, scope, person, place)
                continue
            if kind == "repeat":
                instances: list[dict[str, Any]] = []
                target[element["name"]] = instances
                for index in range(self.rng.randint(0, 2)):
                    instance: dict[str, Any] = {}
                    instances.append(instance)
                    self._fill(
                        element.get("children", []),
                        instance,
                        root,
                        (*scope, (element["name"], index)),
                        person,
                        place,
                    )
                if not instances:
                    del target[element["name"]]
                continue
            value = self._value(element, person, root, place, scope)
            if value is not SKIP:
                target[element["name"]] = value

    def _context(
        self, answers: dict[str, Any], scope: tuple[tuple[str, int], ...], current: Any = None
    ) -> expressions.EvalContext:
        return expressions.EvalContext(answers, repeats=self.repeats, scope=scope, current=current)

    def _relevant(
        self, element: Element, answers: dict[str, Any], scope: tuple[tuple[str, int], ...]
    ) -> bool:
        relevant = element.get("relevant", "")
        if not relevant:
            return True
        return expressions.truthy(expressions.evaluate(relevant, self._context(answers, scope)))

    def _satisfies(
        self,
        element: Element,
        value: Any,
        answers: dict[str, Any],
        scope: tuple[tuple[str, int], ...],
    ) -> bool:
        constraint = element.get("constraint", "")
        if not constraint:
            return True
        return expressions.truthy(
            expressions.evaluate(constraint, self._context(answers, scope, value))
        )

    def _value(
        self,
        element: Element,
        person: Person,
        answers: dict[str, Any],
        place: Place,
        scope: tuple[tuple[str, int], ...],
    ) -> Any:
        required = bool(element.get("required"))
        generator = self.specific.get(element["name"])
        for attempt in range(30):
            value: Any = GENERIC
            if generator is not None and attempt < 10:
                value = generator(person, answers, place)
            if value is SKIP:
                if not required:
                    return SKIP
                value = GENERIC
            if value is GENERIC:
                value = self._by_type(element, person, answers, place, scope)
                if value is SKIP:
                    if not required:
                        return SKIP
                    continue
            if not self._allowed(element, value, answers, scope):
                continue
            if self._satisfies(element, value, answers, scope):
                return value
        if required:
            raise ValueError(
                f"No valid synthetic answer found for required question '{element['name']}'."
            )
        return SKIP

    def _options(
        self, element: Element, answers: dict[str, Any], scope: tuple[tuple[str, int], ...]
    ) -> list[str]:
        choices = self.choices.get(element.get("list_name", ""), [])
        choice_filter = element.get("choice_filter", "")
        if not choice_filter:
            return [choice["name"] for choice in choices]
        context = self._context(answers, scope)
        return [
            choice["name"]
            for choice in choices
            if expressions.truthy(
                expressions.evaluate(
                    choice_filter,
                    context.derive(row={"name": choice["name"], **choice.get("extra", {})}),
                )
            )
        ]

    def _allowed(
        self,
        element: Element,
        value: Any,
        answers: dict[str, Any],
        scope: tuple[tuple[str, int], ...],
    ) -> bool:
        """A choice answer must name choices of its list (after the choice filter)."""
        kind = element["type"]
        if kind not in ("select_one", "select_multiple", "rank"):
            return True
        options = set(self._options(element, answers, scope))
        if kind == "select_one":
            return isinstance(value, str) and value in options
        return isinstance(value, list) and bool(value) and all(item in options for item in value)

    def _by_type(
        self,
        element: Element,
        person: Person,
        answers: dict[str, Any],
        place: Place,
        scope: tuple[tuple[str, int], ...],
    ) -> Any:
        rng = self.rng
        kind = element["type"]
        required = bool(element.get("required"))
        if kind == "select_one":
            options = self._options(element, answers, scope)
            if not options:
                return SKIP
            weights = [0.04 if name in _RARE else 1.0 for name in options]
            return rng.choices(options, weights=weights)[0]
        if kind == "select_multiple":
            options = self._options(element, answers, scope)
            if not options:
                return SKIP
            exclusive = [name for name in options if name in _EXCLUSIVE]
            ordinary = [name for name in options if name not in _EXCLUSIVE]
            if exclusive and (not ordinary or rng.random() < 0.2):
                preferred = [name for name in exclusive if name in ("none", "nothing")]
                return [rng.choice(preferred or exclusive)]
            ordinary = [
                name for name in ordinary if name not in _RARE or rng.random() < 0.1
            ] or ordinary
            return sorted(
                rng.sample(ordinary, min(len(ordinary), rng.randint(1, 3))), key=options.index
            )
        if kind == "rank":
            options = self._options(element, answers, scope)
            rng.shuffle(options)
            return options
        if kind in ("integer", "decimal", "range"):
            return self._number(element)
        if kind == "text":
            if not required and rng.random() < 0.7:
                return SKIP
            return pick_text(rng, element["name"], person.language)
        if kind == "date":
            day = FIELDWORK_START.date() - timedelta(days=rng.randint(30, 3650))
            return day.isoformat()
        if kind == "time":
            return f"{rng.randint(7, 21):02d}:{rng.choice((0, 15, 30, 45)):02d}"
        if kind == "datetime":
            moment = FIELDWORK_START - timedelta(
                days=rng.randint(1, 365), minutes=rng.randint(0, 1440)
            )
            return moment.isoformat()
        if kind == "geopoint":
            lon, lat = random_point_in(place.boundary, rng)
            return {"type": "Point", "coordinates": [lon, lat]}
        if kind == "map_marks":
            return self.questions.map_marks(person, answers, place)
        if kind == "acknowledge":
            return "OK" if required else SKIP
        # Media, barcodes, lines and shapes: the demo leaves them unanswered.
        return SKIP

    def _number(self, element: Element) -> int | float:
        low, high = 0.0, 10.0
        match = re.search(_BOUNDS, element.get("constraint", ""))
        if match:
            low, high = float(match.group(1)), float(match.group(2))
            high = min(high, low + 20)
        elif element["type"] == "range":
            parameters = dict(
                part.split("=", 1) for part in element.get("parameters", "").split() if "=" in part
            )
            low = float(parameters.get("start", 0))
            high = float(parameters.get("end", 10))
        if element["type"] == "decimal":
            return round(self.rng.uniform(low, high), 1)
        return self.rng.randint(math.ceil(low), math.floor(high))


def valid_answers(
    maker: AnswerMaker, definition: PreparedForm, person: Person, place: Place
) -> dict[str, Any]:
    """Answers that pass `validate_answers`: regenerate, then drop what validation refuses."""
    errors: dict[str, str] = {}
    for _ in range(5):
        answers = maker.make(person, place)
        for _ in range(5):
            result = validate_answers(definition, answers)
            errors = dict(result.errors)
            if not errors:
                return answers
            # Drop the refused answers (a question that does not apply, a value out of range).
            dropped = {path.split("[")[0].split(".")[0] for path in errors}
            if not dropped & set(answers):
                break
            answers = {name: value for name, value in answers.items() if name not in dropped}
    raise ValueError(f"The demo could not make valid answers for the DiPS form: {errors}")
