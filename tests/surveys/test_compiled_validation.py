"""The compiled validation plan (incity.surveys.validation.compiled) changes nothing but
the speed: the same normalised answers and the same errors, in the same order, as the
reference plan (generic checkers, every question checked, no remembered rules)."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incity.surveys.definition import Element, FormDefinition
from incity.surveys.validation import ValidationResult, prepare, validate_answers
from incity.surveys.validation.compiled import SLOW, RuleMemo, compile_plan, plan
from incity.surveys.validation.run import validate
from incity.surveys.validation.values import _CHECKERS, _Invalid
from tests.surveys.definitions import (
    EN,
    choice,
    choices_of,
    make_definition,
    sample_answers,
    sample_definition,
)

# A form with what the sample form lacks: relevance shared by several questions,
# constraints on `.` of each type, required rules, a choice list with odd names.
RULES_CHOICES = {
    "tenure": choices_of("owned", "rent_private", "rent_social", "other"),
    "problems": choices_of("none", "damp", "noise", "cold"),
    "odd": [choice("a b"), choice(" "), choice("7"), choice("plain")],
}
RULES_FORM: list[Element] = [
    {"type": "select_one", "name": "tenure", "list_name": "tenure", "required": "yes"},  # type: ignore[typeddict-item]
    {
        "type": "select_one",
        "name": "contract",
        "list_name": "tenure",
        "relevant": "${tenure} = 'rent_private' or ${tenure} = 'rent_social'",
    },
    {
        "type": "group",
        "name": "renting",
        "relevant": "${tenure} != 'owned'",
        "children": [
            {"type": "text", "name": "landlord", "required": "${tenure} = 'rent_private'"},  # type: ignore[typeddict-item]
            {"type": "integer", "name": "rent", "constraint": ". >= 0 and . <= 5000"},
        ],
    },
    {"type": "integer", "name": "people", "constraint": ". >= 1 and . <= 30"},
    {
        "type": "select_multiple",
        "name": "problems",
        "list_name": "problems",
        "constraint": "not(selected(., 'none') and count-selected(.) > 1)",
        "constraint_message": {EN: "'None' goes alone."},
    },
    {
        "type": "select_one",
        "name": "worst",
        "list_name": "problems",
        "relevant": "count-selected(${problems}) > 1",
        "constraint": "selected(${problems}, .)",
    },
    {"type": "select_one", "name": "odd_one", "list_name": "odd"},
    {"type": "select_multiple", "name": "odd_many", "list_name": "odd"},
    {"type": "decimal", "name": "share", "constraint": ". <= 1.5"},
    {"type": "text", "name": "note_free"},
    {"type": "note", "name": "thanks"},
    {"type": "integer", "name": "row", "relevant": "position(..) > 0"},
    {"type": "date", "name": "when", "constraint": ". <= today()"},
    {"type": "calculate", "name": "is_renter", "calculation": "if(${tenure} = 'owned', 0, 1)"},
]


def rules_definition() -> FormDefinition:
    return make_definition(RULES_FORM, RULES_CHOICES)


def rules_answers() -> dict[str, Any]:
    return {
        "tenure": "rent_private",
        "contract": "rent_social",
        "landlord": "A housing company",
        "rent": 800,
        "people": 3,
        "problems": ["damp", "noise"],
        "worst": "noise",
        "odd_one": "plain",
        "odd_many": ["plain", "7"],
        "share": 0.5,
        "note_free": "Fine.",
        "when": "2026-01-02",
    }


def same(definition: FormDefinition, answers: Any) -> ValidationResult:
    """Validate with the reference plan and twice with the compiled plan (the second time
    with the rules' results remembered): all three must agree, errors in the same order."""
    reference = validate(definition, copy.deepcopy(answers), compiled=False)
    for _ in range(2):
        compiled = validate(definition, copy.deepcopy(answers), compiled=True)
        assert compiled.answers == reference.answers
        assert list(compiled.errors.items()) == list(reference.errors.items())
    return reference


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["", " ", "yes", "no", "owned", "rent_private", "none", "damp", "a b", "7"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


def names_and_values(definition: FormDefinition, valid: dict[str, Any]) -> Any:
    names = [*sorted(prepare(definition).fields), "unknown", "renting", "about"]
    valid_values = [copy.deepcopy(value) for value in valid.values()]
    value = st.one_of(JSON_VALUES, st.sampled_from(valid_values))
    return st.dictionaries(st.sampled_from(names), value, max_size=6)


def mutated(valid: dict[str, Any], changes: dict[str, Any], dropped: list[str]) -> dict[str, Any]:
    answers = copy.deepcopy(valid)
    for name in dropped:
        answers.pop(name, None)
    answers.update(changes)
    return answers


# ------------------------------------------------------------------ whole validations


def test_valid_answers_are_the_same_with_the_compiled_plan() -> None:
    assert same(rules_definition(), rules_answers()).ok
    assert same(sample_definition(), sample_answers()).ok


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"tenure": "owned"}, "contract", "answered, but this question does not apply"),
        ({"people": 0}, "people", "The answer does not meet the rule . >= 1 and . <= 30."),
        ({"problems": ["none", "damp"]}, "problems", "'None' goes alone."),
        ({"problems": ["damp", "damp"]}, "problems", "'damp' is chosen more than once."),
        ({"odd_one": " "}, "odd_one", "Expected the name of a choice."),
        ({"odd_many": ["a b"]}, "odd_many", "'a b' is not one of the choices."),
        ({"odd_many": "plain 7"}, None, None),
        ({"odd_one": 7}, None, None),
        ({"rent": True}, "rent", "Expected a whole number."),
        ({"rent": 2**60}, "rent", "The number is too large."),
        ({"share": float("inf")}, "share", "Expected a finite number."),
        ({"share": 2}, "share", "The answer does not meet the rule . <= 1.5."),
        ({"worst": "cold"}, "worst", "The answer does not meet the rule selected(${problems}, .)."),
        ({"note_free": ""}, None, None),
        ({"thanks": "x"}, "thanks", "This is a note: it takes no answer."),
        ({"row": 1}, "row", "answered, but this question does not apply"),
    ],
)
def test_each_kind_of_error_is_the_same_with_the_compiled_plan(
    changes: dict[str, Any], path: str | None, message: str | None
) -> None:
    result = same(rules_definition(), mutated(rules_answers(), changes, []))
    if path is None:
        assert result.ok
        return
    assert next(iter(result.errors)) == path
    assert result.errors[path].startswith(message or "")


def test_a_required_rule_is_checked_with_the_compiled_plan() -> None:
    result = same(rules_definition(), mutated(rules_answers(), {}, ["landlord"]))
    assert result.errors == {"landlord": "This question needs an answer."}
    result = same(
        rules_definition(), mutated(rules_answers(), {"tenure": "rent_social"}, ["landlord"])
    )
    assert "landlord" not in result.errors


def test_remembered_rules_follow_each_submissions_answers() -> None:
    definition = prepare(rules_definition())
    for tenure, applies in [("rent_private", True), ("owned", False), ("rent_social", True)]:
        answers = mutated(rules_answers(), {"tenure": tenure}, [])
        errors = validate_answers(definition, answers).errors
        assert ("contract" in errors) is not applies
    for people, passes in [(3, True), (31, False), (30, True), (0, False)]:
        result = validate_answers(definition, mutated(rules_answers(), {"people": people}, []))
        assert ("people" in result.errors) is not passes


def test_a_rule_that_does_not_parse_is_reported_each_time() -> None:
    definition = make_definition(
        [
            {"type": "select_one", "name": "tenure", "list_name": "tenure"},
            {"type": "text", "name": "broken", "relevant": "${tenure} = = 'x'"},
        ],
        RULES_CHOICES,
    )
    for _ in range(2):
        errors = same(definition, {"tenure": "owned", "broken": "x"}).errors
        assert errors["broken"].startswith("The form's rule ${tenure} = = 'x' could not be checked")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    changes=names_and_values(rules_definition(), rules_answers()),
    dropped=st.lists(st.sampled_from(sorted(rules_answers())), max_size=3),
)
def test_any_answers_to_the_rules_form_give_the_same_result(
    changes: dict[str, Any], dropped: list[str]
) -> None:
    same(rules_definition(), mutated(rules_answers(), changes, dropped))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    changes=names_and_values(sample_definition(), sample_answers()),
    dropped=st.lists(st.sampled_from(sorted(sample_answers())), max_size=3),
    entry=st.one_of(st.none(), JSON_VALUES),
)
def test_any_answers_to_the_sample_form_give_the_same_result(
    changes: dict[str, Any], dropped: list[str], entry: Any
) -> None:
    answers = mutated(sample_answers(), changes, dropped)
    if entry is not None and isinstance(answers.get("household"), list):
        answers["household"] = [*answers["household"], entry]
    same(sample_definition(), answers)


@pytest.mark.parametrize("answers", [[], "x", None, 3, {"": 1}])
def test_answers_that_are_not_an_object_give_the_same_result(answers: Any) -> None:
    same(rules_definition(), answers)


# ------------------------------------------------------------------------ the plan


def test_the_plan_checks_only_questions_with_something_to_check() -> None:
    checked = {item.name for item in plan(prepare(rules_definition()).top).checks}
    assert checked == {
        "tenure",  # required
        "contract",  # relevant
        "landlord",  # relevant (its group's) and a required rule
        "rent",
        "people",
        "problems",
        "worst",
        "share",  # constraints
        "row",
        "when",
    }
    reference = compile_plan(prepare(rules_definition()).top, fast=False)
    assert "note_free" in {item.name for item in reference.checks}


@pytest.mark.parametrize(
    ("element", "checked"),
    [
        ({"type": "text", "name": "q"}, False),
        ({"type": "text", "name": "q", "required": "no"}, False),
        ({"type": "text", "name": "q", "required": False}, False),
        ({"type": "text", "name": "q", "required": " FALSE() "}, False),
        ({"type": "text", "name": "q", "constraint": "  "}, False),
        ({"type": "text", "name": "q", "choice_filter": "x = 1"}, False),  # no choice list
        ({"type": "start", "name": "q", "constraint": ". > 1"}, False),  # metadata
        ({"type": "text", "name": "q", "required": "yes"}, True),
        ({"type": "text", "name": "q", "required": 1}, True),
        ({"type": "text", "name": "q", "required": "${a} = 1"}, True),
        ({"type": "text", "name": "q", "constraint": ". != 'x'"}, True),
        ({"type": "text", "name": "q", "constraint": 5}, True),  # odd: left to run.check
        ({"type": "text", "name": "q", "relevant": "${a} = 1"}, True),
        ({"type": "select_one", "name": "q", "list_name": "l", "choice_filter": "x = 1"}, True),
    ],
)
def test_a_question_is_left_out_of_the_checks_only_when_nothing_applies(
    element: Element, checked: bool
) -> None:
    form = prepare(make_definition([element], {"l": choices_of("x")}))
    assert (element["name"] in {item.name for item in plan(form.top).checks}) is checked


FAST_VALUES: list[Any] = [
    None, "", " ", "x", "plain", "7", "a b", "rent_private", 0, 7, -1, 2**53, 2**53 + 1, -(2**53),
    True, False, 1.5, 0.0, -0.0, float("nan"), float("inf"), 1e308, [], ["plain"], ["plain", "7"],
    ["7", "7"], ["a b"], [" "], [7], [None], "plain 7", {}, {"a": 1}, [[1]],
]  # fmt: skip


@pytest.mark.parametrize(
    "element",
    [
        {"type": "text", "name": "q"},
        {"type": "barcode", "name": "q"},
        {"type": "integer", "name": "q"},
        {"type": "decimal", "name": "q"},
        {"type": "select_one", "name": "q", "list_name": "odd"},
        {"type": "select_multiple", "name": "q", "list_name": "odd"},
        {"type": "select_multiple_from_file", "name": "q", "list_name": "odd"},
    ],
)
@pytest.mark.parametrize("value", FAST_VALUES)
def test_a_fast_checker_accepts_only_what_the_generic_checker_accepts_unchanged(
    element: Element, value: Any
) -> None:
    form = prepare(make_definition([element], RULES_CHOICES))
    step = plan(form.top).normalisers["q"]
    assert step.fast is not None
    fast = step.fast(copy.deepcopy(value))
    if fast is SLOW:
        return
    expected = _CHECKERS[element["type"]](copy.deepcopy(value), step.item)
    assert fast == expected
    assert type(fast) is type(expected)
    if isinstance(expected, float) and expected == 0:
        assert math.copysign(1, fast) == math.copysign(1, expected)


def test_fast_checkers_leave_every_error_to_the_generic_checker() -> None:
    form = prepare(make_definition([{"type": "integer", "name": "q"}]))
    step = plan(form.top).normalisers["q"]
    assert step.fast is not None
    for value in (True, 2**53 + 1, "12", 1.0):
        assert step.fast(value) is SLOW
    with pytest.raises(_Invalid):
        step.checker(True, step.item)


# ----------------------------------------------------------------------- rule memo


@pytest.mark.parametrize(
    ("rule", "remembered"),
    [
        ("${tenure} = 'owned'", True),
        ("not(selected(., 'none') and count-selected(.) > 1)", True),
        (". <= today()", False),
        ("now() > 0", False),
        ("random() < 0.5", False),
        ("position(..) > 1", False),
        ("${member_age} >= 16", False),  # in a repeat: depends on the entry
        ("country = ${tenure}", False),  # a choice column
        ("${tenure} = = 'x'", False),  # does not parse: fails each time
    ],
)
def test_only_rules_that_read_nothing_but_answers_are_remembered(
    rule: str, remembered: bool
) -> None:
    memo = RuleMemo({"member_age": ("household",), "tenure": ()})
    assert (memo._reads(rule) is not None) is remembered
