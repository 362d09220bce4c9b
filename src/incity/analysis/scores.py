"""Domain scores: an index per framework domain from the questions tagged to it.

How a score is made (docs/analysis.md, "Domain scores", says the same for readers):

1. **Items.** A question counts towards a domain when the form tags it with that
   domain (`tags.domains`) and it has a scoring: each substantive answer maps to
   0-100, 100 being the answer most favourable to integration. incity ships a
   scoring for the module library's ordered questions (`data/scoring.json`);
   a project may replace any item's scoring or add its own questions. Answers
   without a score (don't know, prefer not to say) count as missing. Integer
   items give a range and are rescaled to 0-100.
2. **A person's score** in a domain is the mean of their item scores in it,
   provided they answered at least `min_share` of the domain's scored items in
   the form (half by default): a score from one answer out of eight would say
   more about which question was answered than about the person.
3. **A group's score** is the (weighted) mean of its members' scores, with a
   standard error by Taylor linearisation treating each person as a primary
   sampling unit (R's `svymean` with `ids = ~1`; checked against svy in the tests), and a normal 95% interval.
4. **Change between waves** is the later mean minus the earlier, with the two
   waves taken as independent samples; it is called better or worse only when
   the 95% interval of the change excludes zero, so a fall is reported as a
   fall: integration can move backwards.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from incity.errors import InvalidInput
from incity.surveys.definition import FormDefinition, questions

DEFAULT_MIN_SHARE = 0.5
Z_95 = 1.959963984540054
SCORING_FILE = Path(__file__).parent / "data" / "scoring.json"

ItemScoring = Mapping[str, float]  # answer -> score, or {"min": a, "max": b} for integers


@dataclass(frozen=True)
class ScoredItem:
    name: str
    domains: tuple[str, ...]
    levels: Mapping[str, float] | None = None
    low: float | None = None
    high: float | None = None

    def score(self, value: Any) -> float | None:
        """This answer's score, or None when it has none (missing, don't know)."""
        if self.levels is not None:
            return self.levels.get(value) if isinstance(value, str) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if self.low is None or self.high is None or not self.low <= value <= self.high:
            return None
        return 100.0 * (value - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class Summary:
    mean: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    n: int


Direction = Literal["better", "worse", "no clear change", "not comparable"]


@dataclass(frozen=True)
class Change:
    difference: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    direction: Direction


@cache
def default_scoring() -> dict[str, dict[str, float]]:
    items: dict[str, dict[str, float]] = json.loads(SCORING_FILE.read_text(encoding="utf-8"))[
        "items"
    ]
    return items


def scored_items(
    definition: FormDefinition, overrides: Mapping[str, ItemScoring] | None = None
) -> dict[str, ScoredItem]:
    """The form's questions that count towards a domain score, with their scoring.

    `overrides` (question name -> scoring) replace incity's defaults; an override
    naming a question the form lacks, an answer the question lacks, a score
    outside 0-100 or a question with no domain is refused, naming it.
    """
    by_name = {element["name"]: element for element in questions(definition)}
    overrides = overrides or {}
    for name in overrides:
        if name not in by_name:
            raise InvalidInput("scoring", f"The form has no question '{name}' to score.")
    scoring = {**default_scoring(), **overrides}
    items: dict[str, ScoredItem] = {}
    for name, element in by_name.items():
        domains = tuple(element.get("tags", {}).get("domains", []))
        if name not in scoring:
            continue
        if not domains:
            if name in overrides:
                raise InvalidInput(
                    "scoring", f"The question '{name}' is tagged with no domain; tag it first."
                )
            continue
        choices = {
            choice["name"] for choice in definition["choices"].get(element.get("list_name", ""), [])
        }
        items[name] = _item(name, element["type"], domains, scoring[name], choices)
    return items


def _item(
    name: str, kind: str, domains: tuple[str, ...], scoring: ItemScoring, choices: set[str]
) -> ScoredItem:
    if kind in ("integer", "decimal", "range"):
        low, high = scoring.get("min"), scoring.get("max")
        if low is None or high is None or set(scoring) != {"min", "max"} or not low < high:
            raise InvalidInput(
                "scoring",
                f"The number question '{name}' needs a scoring {{min, max}} with min < max.",
            )
        return ScoredItem(name, domains, low=float(low), high=float(high))
    if kind != "select_one":
        raise InvalidInput(
            "scoring", f"Only single-choice and number questions are scored; '{name}' is {kind}."
        )
    unknown = sorted(set(scoring) - choices)
    if unknown:
        raise InvalidInput(
            "scoring", f"The question '{name}' has no answer {', '.join(map(repr, unknown))}."
        )
    for answer, value in scoring.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            raise InvalidInput(
                "scoring", f"The score of '{answer}' in '{name}' must be a number from 0 to 100."
            )
    return ScoredItem(name, domains, levels={key: float(value) for key, value in scoring.items()})


def domains_of(items: Mapping[str, ScoredItem]) -> dict[str, list[str]]:
    """Domain -> the names of its scored items, in form order."""
    result: dict[str, list[str]] = {}
    for item in items.values():
        for domain in item.domains:
            result.setdefault(domain, []).append(item.name)
    return result


def person_scores(
    items: Mapping[str, ScoredItem],
    answers: Mapping[str, Any],
    min_share: float = DEFAULT_MIN_SHARE,
) -> dict[str, float]:
    """One person's score per domain (domains they answered too little of are left out)."""
    result: dict[str, float] = {}
    for domain, names in domains_of(items).items():
        scores = [
            s for s in (items[name].score(answers.get(name)) for name in names) if s is not None
        ]
        if scores and len(scores) >= math.ceil(min_share * len(names)):
            result[domain] = sum(scores) / len(scores)
    return result


def summarise(values: Sequence[float], weights: Sequence[float] | None = None) -> Summary:
    """(Weighted) mean with its linearised standard error and a normal 95% interval."""
    n = len(values)
    if weights is None:
        weights = [1.0] * n
    if len(weights) != n:
        raise InvalidInput("weights", "There must be one weight per value.")
    if any(not math.isfinite(w) or w <= 0 for w in weights):
        raise InvalidInput("weights", "Weights must be positive numbers.")
    if n == 0:
        return Summary(None, None, None, None, 0)
    total = math.fsum(weights)
    mean = math.fsum(w * y for w, y in zip(weights, values, strict=True)) / total
    if n == 1:
        return Summary(mean, None, None, None, 1)
    # Linearised variance of a ratio mean, each person a PSU, with-replacement (n / (n - 1)).
    squares = math.fsum((w * (y - mean)) ** 2 for w, y in zip(weights, values, strict=True))
    se = math.sqrt(n / (n - 1) * squares) / total
    return Summary(mean, se, mean - Z_95 * se, mean + Z_95 * se, n)


def domain_scores(
    items: Mapping[str, ScoredItem],
    answer_sets: Iterable[Mapping[str, Any]],
    weights: Sequence[float] | None = None,
    min_share: float = DEFAULT_MIN_SHARE,
) -> dict[str, Summary]:
    """Each domain's group score over these people (weights in the same order, if any)."""
    values: dict[str, list[float]] = {domain: [] for domain in domains_of(items)}
    used_weights: dict[str, list[float]] = {domain: [] for domain in values}
    for index, answers in enumerate(answer_sets):
        for domain, score in person_scores(items, answers, min_share).items():
            values[domain].append(score)
            used_weights[domain].append(1.0 if weights is None else weights[index])
    return {domain: summarise(values[domain], used_weights[domain]) for domain in values}


Conditions = Mapping[str, Sequence[str]]  # question -> the answers that qualify


def group_of(answers: Mapping[str, Any], groups: Mapping[str, Sequence[Conditions]]) -> str | None:
    """The first group with an alternative whose every condition the person meets."""
    for label, alternatives in groups.items():
        for conditions in alternatives:
            if all(answers.get(question) in accepted for question, accepted in conditions.items()):
                return label
    return None


@dataclass(frozen=True)
class TwoWayGroups:
    """How the two-way view splits people, and the sentence that says so."""

    groups: dict[str, list[dict[str, list[str]]]]
    description: str

    @property
    def questions(self) -> set[str]:
        return {
            question
            for alternatives in self.groups.values()
            for a in alternatives
            for question in a
        }


# By migration: the module library's background questions. They are sensitive by default
# (encrypted, never analysed), so this applies only where a city has decided otherwise.
BY_MIGRATION = TwoWayGroups(
    groups={
        "newcomers": [
            {"bg_born_here": ["no"], "bg_arrival": ["within_last_year", "years_1_5", "years_6_10"]}
        ],
        "long-standing residents": [
            {"bg_born_here": ["yes"]},
            {"bg_born_here": ["no"], "bg_arrival": ["over_20_years"]},
        ],
    },
    description="Newcomers: born abroad and arrived in the last ten years. Long-standing "
    "residents: born here, or arrived over 20 years ago.",
)
# By time in the neighbourhood (nbh_years), which is not sensitive: the default.
BY_RESIDENCE = TwoWayGroups(
    groups={
        "newcomers": [{"nbh_years": ["under_1_year", "years_1_to_5"]}],
        "long-standing residents": [{"nbh_years": ["over_10_years", "whole_life"]}],
    },
    description="Newcomers: living in the neighbourhood for up to five years. Long-standing "
    "residents: for over ten years or their whole life.",
)
NEWCOMERS_AND_LONG_STANDING = BY_MIGRATION.groups


def two_way_groups(analysable: set[str]) -> TwoWayGroups | None:
    """By migration where those answers may be analysed, else by time in the area."""
    for choice in (BY_MIGRATION, BY_RESIDENCE):
        if choice.questions <= analysable:
            return choice
    return None


def compare(earlier: Summary, later: Summary) -> Change:
    """The change from one wave to the next, and whether it is clearly better or worse."""
    if earlier.mean is None or later.mean is None or earlier.se is None or later.se is None:
        return Change(None, None, None, None, "not comparable")
    difference = later.mean - earlier.mean
    se = math.hypot(earlier.se, later.se)
    low, high = difference - Z_95 * se, difference + Z_95 * se
    direction: Direction = "better" if low > 0 else "worse" if high < 0 else "no clear change"
    return Change(difference, se, low, high, direction)
