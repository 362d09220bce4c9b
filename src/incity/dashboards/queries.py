"""Guarded reads behind the dashboards: the form, its questions, filters and the people in view.

A dashboard reads a form with `view_published` (figures pass the disclosure
gate) or, for `scope=raw`, with `view_raw_data` (figures as they are; audited
by the panels that read them). Forms in other organisations answer 404.

"People" are the form's submissions that were not rejected, each with the
typed answers the dashboard needs (choice names, numbers), when it arrived
and who collected it. Sensitive answers never reach the typed answers, so
they never reach a dashboard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from incity.accounts.models import User
from incity.accounts.permissions import ProjectAction
from incity.analysis.query import MULTIPLE, SINGLE
from incity.errors import InvalidInput
from incity.surveys import queries as survey_queries
from incity.surveys.definition import is_sensitive, text_in, walk
from incity.surveys.models import Answer, Form, Submission, SubmissionStatus
from incity.surveys.queries import project_sensitive_names
from incity.surveys.services.typed import derive_typed_answers

Scope = Literal["published", "raw"]
# A form's neighbourhood question: a single choice named like this (or ending "_neighbourhood").
NEIGHBOURHOOD_NAMES = ("neighbourhood", "area")


def dashboard_form(user: User, form_pk: int, scope: str) -> Form:
    """The form if the user may see it at this scope: raw needs `view_raw_data` (else 403)."""
    if scope not in ("published", "raw"):
        raise InvalidInput("scope", f"scope: '{scope}' is not published or raw.")
    action = ProjectAction.VIEW_RAW_DATA if scope == "raw" else ProjectAction.VIEW_PUBLISHED
    return survey_queries.get_form(user, form_pk, action)


@dataclass(frozen=True)
class Question:
    name: str
    label: str
    type: str
    levels: tuple[tuple[str, str], ...]  # (choice name, label) in the form's order

    @property
    def multiple(self) -> bool:
        return self.type in MULTIPLE

    def level_label(self, level: str) -> str:
        return dict(self.levels).get(level, level)


@dataclass
class FormQuestions:
    """The form's top-level, non-sensitive choice and number questions over all versions."""

    choice: dict[str, Question] = field(default_factory=dict)
    numbers: dict[str, Question] = field(default_factory=dict)
    neighbourhood: str | None = None
    # Top-level group (a module) -> (its label, its choice questions); "other" for the rest.
    sections: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    def section(self, name: str | None) -> str | None:
        """The section asked for (the first when none is); unknown names are refused."""
        if not name:
            return next(iter(self.sections), None)
        if name not in self.sections:
            known = ", ".join(self.sections) or "none"
            raise InvalidInput("section", f"section: the form has no section '{name}' ({known}).")
        return name

    def categorical(self, name: str, parameter: str) -> Question:
        if name == "neighbourhood" and self.neighbourhood:
            name = self.neighbourhood
        if name not in self.choice:
            choices = ", ".join(self.choice) or "none"
            raise InvalidInput(
                parameter,
                f"{parameter}: '{name}' is not a single or multiple choice question of this "
                f"form (choice questions: {choices}).",
                question=name,
            )
        return self.choice[name]

    def level(self, question: Question, level: str, parameter: str) -> str:
        names = [name for name, _ in question.levels]
        if level not in names:
            raise InvalidInput(
                parameter,
                f"{parameter}: '{level}' is not a choice of '{question.name}' "
                f"(choices: {', '.join(names)}).",
                question=question.name,
                level=level,
            )
        return level


def form_questions(form: Form) -> FormQuestions:
    found = FormQuestions()
    sensitive = set(project_sensitive_names(form.project))
    for definition in form.versions.order_by("number").values_list("definition", flat=True):
        language = definition["default_language"]
        for element, parents in walk(definition["children"]):
            name, kind = element["name"], element["type"]
            if any(parent["type"] == "repeat" for parent in parents):
                continue
            if is_sensitive(element) or name in sensitive:
                continue
            choices = definition["choices"].get(element.get("list_name", ""), [])
            question = Question(
                name,
                text_in(element.get("label"), language, name),
                kind,
                tuple((c["name"], text_in(c["label"], language, c["name"])) for c in choices),
            )
            if kind in SINGLE or kind in MULTIPLE:
                found.choice[name] = question
                top = parents[0] if parents and parents[0]["type"] == "group" else None
                key = top["name"] if top else "other"
                label = text_in(top.get("label"), language, key) if top else "Other questions"
                members = found.sections.setdefault(key, (label, []))[1]
                if name not in members:
                    members.append(name)
            elif kind in ("integer", "decimal", "range"):
                found.numbers[name] = question
    found.neighbourhood = next(
        (
            name
            for name, question in found.choice.items()
            if not question.multiple
            and (name in NEIGHBOURHOOD_NAMES or name.endswith("_neighbourhood"))
        ),
        None,
    )
    return found


# ------------------------------------------------------------------------------ filters


@dataclass(frozen=True)
class Filters:
    since: date | None = None
    until: date | None = None
    neighbourhood: str | None = None  # a level of the form's neighbourhood question
    group: tuple[str, str] | None = None  # (question, level)

    def table_filters(self, questions: FormQuestions) -> tuple[str, ...]:
        """The filters as the tables engine takes them (QUESTION=LEVEL)."""
        found = []
        if self.neighbourhood is not None and questions.neighbourhood:
            found.append(f"{questions.neighbourhood}={self.neighbourhood}")
        if self.group is not None:
            found.append(f"{self.group[0]}={self.group[1]}")
        return tuple(found)

    def query_string(self) -> dict[str, str]:
        found = {}
        if self.since:
            found["since"] = self.since.isoformat()
        if self.until:
            found["until"] = self.until.isoformat()
        if self.neighbourhood:
            found["neighbourhood"] = self.neighbourhood
        if self.group:
            found["group"] = f"{self.group[0]}={self.group[1]}"
        return found


def parse_date(text: str | None, parameter: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            parameter, f"{parameter}: '{text}' is not a date (YYYY-MM-DD).", value=text
        ) from None


def parse_filters(params: Mapping[str, str], questions: FormQuestions) -> Filters:
    """Dates, a neighbourhood and a group (QUESTION=LEVEL), each checked against the form."""
    since = parse_date(params.get("since"), "since")
    until = parse_date(params.get("until"), "until")
    if since and until and until < since:
        raise InvalidInput("until", "until: the end date is before the start date (since).")
    neighbourhood = (params.get("neighbourhood") or "").strip() or None
    if neighbourhood is not None:
        if questions.neighbourhood is None:
            raise InvalidInput(
                "neighbourhood",
                "neighbourhood: this form has no neighbourhood question (a single choice named "
                "'neighbourhood'), so it cannot be filtered by neighbourhood.",
            )
        question = questions.choice[questions.neighbourhood]
        questions.level(question, neighbourhood, "neighbourhood")
    group = None
    text = (params.get("group") or "").strip()
    if text:
        name, sign, level = text.partition("=")
        if not sign or not name.strip() or not level.strip():
            raise InvalidInput(
                "group", f"group: '{text}' is not QUESTION=LEVEL (for example bg_gender=woman)."
            )
        question = questions.categorical(name.strip(), "group")
        group = (question.name, questions.level(question, level.strip(), "group"))
    return Filters(since, until, neighbourhood, group)


# ------------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Person:
    submission_id: int
    received_at: datetime
    collector: str
    answers: Mapping[str, Any]


def people(form: Form, names: Iterable[str]) -> list[Person]:
    """Every submission that was not rejected, with its typed answers to `names`."""
    derive_typed_answers(form=form)
    rows = (
        Submission.objects.filter(form=form)
        .exclude(status=SubmissionStatus.REJECTED)
        .order_by("pk")
        .values_list("pk", "received_at", "device_id", "collected_by__username")
    )
    answers: dict[int, dict[str, Any]] = {}
    typed = (
        Answer.objects.filter(form=form, name__in=set(names), repeat_path="")
        .order_by("id")
        .values_list("submission_id", "name", "kind", "text", "number")
    )
    for submission, name, kind, text, number in typed.iterator(chunk_size=50_000):
        mine = answers.setdefault(submission, {})
        value: Any = number if text is None else text
        if kind == "choice" and name in mine:
            previous = mine[name]
            mine[name] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            mine[name] = value
    return [
        Person(pk, received, device or username or "unknown", answers.get(pk, {}))
        for pk, received, device, username in rows
    ]


def meets(person: Person, filters: Filters, questions: FormQuestions) -> bool:
    """Whether the person is in view under the filters (dates are days received, inclusive)."""
    day = person.received_at.date()
    if filters.since and day < filters.since:
        return False
    if filters.until and day > filters.until:
        return False
    conditions = []
    if filters.neighbourhood is not None and questions.neighbourhood:
        conditions.append((questions.neighbourhood, filters.neighbourhood))
    if filters.group is not None:
        conditions.append(filters.group)
    for name, level in conditions:
        value = person.answers.get(name)
        if not (value == level or (isinstance(value, list) and level in value)):
            return False
    return True
