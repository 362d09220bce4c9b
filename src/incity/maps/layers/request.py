"""What a map layer is asked for, checked against the form: every bad parameter is named.

A layer is drawn from one map question of a form (map_marks, or a geopoint, geotrace
or geoshape by its representative point), filtered by category, time of day, respondent
group (QUESTION=LEVEL on a top-level choice question of the same submission) and the
survey wave (the days the answers were received).

A group may name a sensitive select_one question (stored encrypted, e.g. migration
background): published layers then filter by its decrypted levels, audited once per
build (`analysis.sensitive_groups`); the levels never leave per point or per mark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from incity.accounts.audit import Origin
from incity.accounts.models import User
from incity.analysis.query import form_categoricals
from incity.analysis.sensitive_groups import sensitive_names, sensitive_question
from incity.errors import InvalidInput
from incity.surveys.definition import TIMES_OF_DAY, walk
from incity.surveys.models import Form

MAP_QUESTION_TYPES = ("map_marks", "geopoint", "geotrace", "geoshape")
# Each filter doubles the wider layers the gate checks a filtered layer against (as
# MAX_FILTERS does for tables); three groups, the time and the window keep it quick.
MAX_GROUPS = 3
MIN_RESOLUTION = 7
MAX_RESOLUTION = 10
Scope = Literal["published", "raw"]


@dataclass(frozen=True)
class LayerParams:
    """The parameters as the caller sent them (strings, not yet checked against the form)."""

    question: str | None = None
    category: str | None = None
    time: str | None = None
    group: tuple[str, ...] = ()
    resolution: int | None = None
    since: date | None = None
    until: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "category": self.category,
            "time": self.time,
            "group": list(self.group),
            "resolution": self.resolution,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayerParams:
        return cls(
            question=data.get("question"),
            category=data.get("category"),
            time=data.get("time"),
            group=tuple(data.get("group") or ()),
            resolution=data.get("resolution"),
            since=date.fromisoformat(data["since"]) if data.get("since") else None,
            until=date.fromisoformat(data["until"]) if data.get("until") else None,
        )


@dataclass(frozen=True)
class MapQuestion:
    name: str
    type: str
    # Category names in the form's order ('' for a question without categories).
    categories: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reader:
    """Who asks for a layer, for the audit row of a read of sensitive answers."""

    actor: User | None
    origin: Origin


SYSTEM_READER = Reader(None, Origin(channel="system"))


@dataclass(frozen=True)
class LayerRequest:
    """Checked parameters: every name exists in the form and every level in its list."""

    form: Form
    question: MapQuestion
    category: str | None
    time: str | None
    groups: tuple[tuple[str, str], ...]
    resolution: int | None
    since: date | None
    until: date | None
    # The group questions that are sensitive (their levels are decrypted to filter).
    sensitive: frozenset[str] = frozenset()
    reader: Reader = field(default=SYSTEM_READER, compare=False)

    def cache_key(self) -> str:
        groups = ",".join(f"{name}={level}" for name, level in self.groups)
        return (
            f"{self.question.name}|{self.category}|{self.time}|{groups}|"
            f"{self.resolution}|{self.since}|{self.until}"
        )


def map_questions(form: Form) -> dict[str, MapQuestion]:
    """Top-level map questions over every published version (a later version wins)."""
    found: dict[str, MapQuestion] = {}
    for definition in form.versions.order_by("number").values_list("definition", flat=True):
        lists = definition.get("choices", {})
        for element, parents in walk(definition["children"]):
            if element["type"] not in MAP_QUESTION_TYPES:
                continue
            if any(parent["type"] == "repeat" for parent in parents):
                continue
            choices = (
                lists.get(element.get("list_name", ""), [])
                if element["type"] == "map_marks"
                else []
            )
            if element["type"] == "map_marks" and not choices:
                choices = [{"name": name, "label": name} for name in _DEFAULT_CATEGORIES]
            found[element["name"]] = MapQuestion(
                element["name"],
                element["type"],
                tuple(choice["name"] for choice in choices),
                {choice["name"]: _label(choice.get("label"), choice["name"]) for choice in choices},
            )
    return found


# The categories a map_marks question offers when it has no list of its own (places.queries).
_DEFAULT_CATEGORIES = ("safe", "unsafe", "resource", "meeting_place")


def _label(label: Any, fallback: str) -> str:
    if isinstance(label, str):
        return label
    if isinstance(label, dict) and label:
        english = [text for key, text in label.items() if key.lower().startswith("english")]
        return str(english[0] if english else next(iter(label.values())))
    return fallback


def check_request(form: Form, params: LayerParams, reader: Reader = SYSTEM_READER) -> LayerRequest:
    """The checked request, or InvalidInput naming the first parameter that is wrong."""
    question = _question(form, params.question)
    category = _category(question, params.category)
    time = _time(question, params.time)
    if len(params.group) > MAX_GROUPS:
        raise InvalidInput("group", f"At most {MAX_GROUPS} groups in one layer.")
    secret = sensitive_names(form)
    groups = tuple(_group(form, item, secret) for item in params.group)
    resolution = params.resolution
    if resolution is not None and not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise InvalidInput(
            "resolution",
            f"The hexagon resolution must be from {MIN_RESOLUTION} to {MAX_RESOLUTION}, "
            f"not {resolution}.",
        )
    if params.since and params.until and params.since > params.until:
        raise InvalidInput("since", f"'since' ({params.since}) is after 'until' ({params.until}).")
    return LayerRequest(
        form,
        question,
        category,
        time,
        groups,
        resolution,
        params.since,
        params.until,
        frozenset(name for name, _ in groups if name in secret),
        reader,
    )


def _question(form: Form, name: str | None) -> MapQuestion:
    questions = map_questions(form)
    if not questions:
        raise InvalidInput("question", f"The form '{form.form_id}' has no map question.")
    if name is None:
        marks = [q for q in questions.values() if q.type == "map_marks"]
        return marks[0] if marks else next(iter(questions.values()))
    if name not in questions:
        known = ", ".join(sorted(questions))
        raise InvalidInput(
            "question",
            f"'{name}' is not a map question of the form (outside repeats); map questions: "
            f"{known}.",
        )
    return questions[name]


def _category(question: MapQuestion, category: str | None) -> str | None:
    if category is None or category == "":
        return None
    if not question.categories:
        raise InvalidInput(
            "category", f"'{question.name}' is a {question.type} question; it has no categories."
        )
    if category not in question.categories:
        raise InvalidInput(
            "category",
            f"'{category}' is not a category of '{question.name}'; categories: "
            f"{', '.join(question.categories)}.",
        )
    return category


def _time(question: MapQuestion, time: str | None) -> str | None:
    if time is None or time == "":
        return None
    if time not in TIMES_OF_DAY:
        raise InvalidInput(
            "time", f"'{time}' is not a time of day; use one of {', '.join(TIMES_OF_DAY)}."
        )
    if question.type != "map_marks":
        raise InvalidInput(
            "time", f"'{question.name}' is a {question.type} question; it has no time of day."
        )
    return time


def _group(form: Form, item: str, secret: frozenset[str]) -> tuple[str, str]:
    name, equals, level = item.partition("=")
    if not equals or not name or not level:
        raise InvalidInput("group", f"Write a group as QUESTION=LEVEL, not '{item}'.")
    if name in secret:
        # Refused unless a select_one outside repeats; its levels are checked here too.
        choices = sensitive_question(form, name).levels
        if level not in choices:
            raise InvalidInput(
                "group", f"'{level}' is not a choice of '{name}'; choices: {', '.join(choices)}."
            )
        return name, level
    categoricals = form_categoricals(form)
    if name not in categoricals:
        known = ", ".join(sorted(categoricals)) or "none"
        raise InvalidInput(
            "group",
            f"'{name}' is not a choice question of the form (outside repeats); choice "
            f"questions: {known}.",
        )
    levels = _levels(form, name)
    if level not in levels:
        raise InvalidInput(
            "group", f"'{level}' is not a choice of '{name}'; choices: {', '.join(levels)}."
        )
    return name, level


def _levels(form: Form, name: str) -> list[str]:
    levels: list[str] = []
    for definition in form.versions.order_by("number").values_list("definition", flat=True):
        lists = definition.get("choices", {})
        for element, _ in walk(definition["children"]):
            if element.get("name") == name:
                for choice in lists.get(element.get("list_name", ""), []):
                    if choice["name"] not in levels:
                        levels.append(choice["name"])
    return levels
