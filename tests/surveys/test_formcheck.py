"""Checks of form definitions before publication (incity.surveys.formcheck)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incity.surveys.definition import Element, FormDefinition
from incity.surveys.formcheck import DefinitionProblem, check_definition, is_dynamic_default
from tests.surveys.definitions import EN, choice, choices_of, make_definition, sample_definition


def problems(definition: FormDefinition) -> list[tuple[str, str, str]]:
    return [(p.name, p.field, p.message) for p in check_definition(definition)]


def only(children: list[Element], choices: dict[str, Any] | None = None) -> list[str]:
    return [p.message for p in check_definition(make_definition(children, choices))]


def test_the_sample_form_has_no_problems() -> None:
    assert check_definition(sample_definition()) == []


def test_problems_are_frozen_dataclasses() -> None:
    problem = DefinitionProblem("a", "type", "a (type): unknown type 'x'.")
    with pytest.raises(AttributeError):
        problem.name = "b"  # type: ignore[misc]


# -- names and types


def test_unknown_type() -> None:
    assert problems(make_definition([{"type": "texte", "name": "a"}])) == [
        ("a", "type", "a (type): unknown type 'texte'.")
    ]


@pytest.mark.parametrize("name", ["1abc", "has space", "", "a/b", "ä", "a$"])
def test_invalid_names(name: str) -> None:
    (found,) = check_definition(make_definition([{"type": "text", "name": name}]))
    assert found.field == "name"
    assert "is not a valid name" in found.message
    assert "\n" not in found.message


def test_names_must_be_unique_in_the_whole_form() -> None:
    definition = make_definition(
        [
            {"type": "text", "name": "a"},
            {"type": "group", "name": "g", "children": [{"type": "integer", "name": "a"}]},
        ]
    )
    assert problems(definition) == [
        ("a", "name", "a (name): another element already has this name.")
    ]


def test_a_group_or_repeat_needs_children() -> None:
    assert only([{"type": "group", "name": "g", "children": []}]) == [
        "g (children): a group needs at least one question."
    ]
    assert only([{"type": "repeat", "name": "r"}]) == [
        "r (children): a repeat needs at least one question."
    ]


def test_a_calculate_needs_a_calculation() -> None:
    assert only([{"type": "calculate", "name": "c", "calculation": "  "}]) == [
        "c (calculation): a calculate needs a calculation."
    ]


# -- choice lists


def test_select_without_a_list() -> None:
    assert only([{"type": "select_one", "name": "s"}]) == [
        "s (list_name): a select_one question needs a choice list (list_name)."
    ]
    assert only([{"type": "select_multiple", "name": "s", "list_name": "nope"}]) == [
        "s (list_name): the choice list 'nope' does not exist."
    ]
    assert only([{"type": "rank", "name": "r", "list_name": ""}]) == [
        "r (list_name): a rank question needs a choice list (list_name)."
    ]


def test_map_marks_need_a_list() -> None:
    assert only([{"type": "map_marks", "name": "places"}]) == [
        "places (list_name): map marks need a choice list (list_name)."
    ]


def test_a_select_from_file_needs_a_file_name_but_no_list() -> None:
    assert only([{"type": "select_one_from_file", "name": "s", "list_name": "cities.csv"}]) == []
    assert only([{"type": "select_one_from_file", "name": "s"}]) == [
        "s (list_name): a select_one_from_file question needs the name of its file."
    ]


def test_choice_list_problems() -> None:
    found = problems(
        make_definition(
            [{"type": "select_multiple", "name": "s", "list_name": "spaced"}],
            {
                "empty": [],
                "dupes": [choice("a"), choice("b"), choice("a")],
                "spaced": [choice("a b")],
                "nameless": [{"name": "", "label": {EN: "?"}}],
            },
        )
    )
    assert found == [
        ("empty", "choices", "choice list 'empty' (choices): has no choices."),
        ("dupes", "choices", "choice list 'dupes' (choices): duplicate choice name 'a'."),
        (
            "spaced",
            "choices",
            "choice list 'spaced' (choices): choice name 'a b' contains a space, which a "
            "multiple-choice answer cannot carry.",
        ),
        ("nameless", "choices", "choice list 'nameless' (choices): choice 1 has no name."),
    ]


# -- expressions


@pytest.mark.parametrize(
    "column", ["relevant", "constraint", "calculation", "choice_filter", "repeat_count"]
)
def test_unparsable_expressions(column: str) -> None:
    element: dict[str, Any] = {"type": "text", "name": "q", column: "${q} > )"}
    assert only([element]) == [  # type: ignore[list-item]
        f"q ({column}): cannot read the expression: unexpected ')' at character 8 in '${{q}} > )'."
    ]


def test_unknown_functions_and_bad_regexes() -> None:
    assert only([{"type": "text", "name": "q", "constraint": "frobnicate('x', 'y')"}]) == [
        "q (constraint): cannot read the expression: unknown function 'frobnicate' at "
        "character 1 in 'frobnicate('x', 'y')'."
    ]
    (message,) = only([{"type": "text", "name": "q", "constraint": "regex(., '[a-')"}])
    assert message.startswith("q (constraint): cannot read the expression: invalid regular")


def test_a_dynamic_default_is_an_expression_but_a_literal_is_not() -> None:
    # as pyxform decides when it writes the XForm
    assert is_dynamic_default("${a} + 1")
    assert is_dynamic_default("today()")
    assert is_dynamic_default("50 mod 2")
    assert not is_dynamic_default("yes")
    assert not is_dynamic_default("well-being")
    assert not is_dynamic_default("2024-01-01", "date")
    assert not is_dynamic_default("")
    assert only([{"type": "text", "name": "q", "default": "Hello (world"}]) == []
    assert only([{"type": "date", "name": "q", "default": "2024-01-01"}]) == []
    assert only([{"type": "date", "name": "q", "default": "date(today() - 1"}]) == [
        "q (default): cannot read the expression: expected ')' but the expression ended in "
        "'date(today() - 1'."
    ]


def test_references_to_missing_names() -> None:
    assert only(
        [
            {"type": "integer", "name": "age"},
            {"type": "text", "name": "q", "relevant": "${agee} > 16 and ${age} > 1"},
            {"type": "note", "name": "n", "label": {EN: "Hello ${nobody} (${age})"}},
        ]
    ) == [
        "q (relevant): refers to ${agee}, which is not in this form.",
        "n (label): refers to ${nobody}, which is not in this form.",
    ]


def test_bare_names_belong_in_choice_filters_only() -> None:
    assert only(
        [{"type": "integer", "name": "age"}, {"type": "text", "name": "q", "relevant": "age > 3"}]
    ) == ["q (relevant): uses the bare name 'age'; refer to a question as ${age}."]


def test_choice_filter_columns_must_exist() -> None:
    children: list[Element] = [
        {"type": "select_one", "name": "country", "list_name": "countries"},
        {
            "type": "select_one",
            "name": "city",
            "list_name": "cities",
            "choice_filter": "country = ${country} and region = 'x' and name != 'other'",
        },
    ]
    lists = {
        "countries": choices_of("se"),
        "cities": [choice("malmo", country="se"), choice("other")],
    }
    assert only(children, lists) == [
        "city (choice_filter): the choice list 'cities' has no column 'region'."
    ]


def test_range_parameters() -> None:
    assert only([{"type": "range", "name": "r", "parameters": "start=1 end=x"}]) == [
        "r (parameters): 'end=x' needs a number."
    ]
    assert only([{"type": "range", "name": "r", "parameters": "start=1 step=0"}]) == [
        "r (parameters): step must be greater than 0."
    ]
    assert only([{"type": "range", "name": "r", "parameters": "begin=1"}]) == [
        "r (parameters): 'begin' is not a range parameter (start, end, step)."
    ]
    assert only([{"type": "range", "name": "r", "parameters": "start=0 end=10 step=0.5"}]) == []


# -- cycles


def test_relevance_cycle() -> None:
    assert problems(
        make_definition(
            [
                {"type": "text", "name": "a", "relevant": "${b} = 'x'"},
                {"type": "text", "name": "b", "relevant": "${a} = 'y'"},
            ]
        )
    ) == [("a", "relevant", "a (relevant): circular dependency: a → b → a.")]


def test_a_calculation_referring_to_itself() -> None:
    assert only([{"type": "calculate", "name": "c", "calculation": "${c} + 1"}]) == [
        "c (calculation): circular dependency: c → c."
    ]


def test_longer_cycle_through_calculations_and_relevance() -> None:
    assert only(
        [
            {"type": "calculate", "name": "a", "calculation": "${c} * 2"},
            {"type": "integer", "name": "b", "relevant": "${a} > 1"},
            {"type": "calculate", "name": "c", "calculation": "${b} + 1"},
        ]
    ) == ["a (calculation): circular dependency: a → c → b → a."]


def test_a_group_relevant_on_its_own_question_is_a_cycle() -> None:
    assert only(
        [
            {
                "type": "group",
                "name": "g",
                "relevant": "${inner} = 'yes'",
                "children": [{"type": "text", "name": "inner"}],
            }
        ]
    ) == ["g (relevant): circular dependency: g → inner → g."]


def test_constraints_and_chains_without_cycles_are_fine() -> None:
    assert (
        only(
            [
                {"type": "integer", "name": "a", "constraint": ". > 0 and ${b} > 0"},
                {"type": "integer", "name": "b", "relevant": "${a} > 1", "constraint": "${a} > ."},
                {"type": "calculate", "name": "c", "calculation": "${a} + ${b}"},
                {"type": "text", "name": "d", "relevant": "${c} > 2"},
            ]
        )
        == []
    )


# -- the form


def test_default_language_must_be_one_of_the_languages() -> None:
    definition = make_definition([{"type": "text", "name": "a"}], languages=["Deutsch (de)"])
    assert problems(definition) == [
        (
            "",
            "default_language",
            "form (default_language): 'English (en)' is not one of the form's languages "
            "(Deutsch (de)).",
        )
    ]


def test_an_empty_form() -> None:
    assert only([]) == ["form (children): the form has no questions."]


def test_many_problems_are_all_reported() -> None:
    definition = sample_definition()
    definition["children"].append({"type": "textt", "name": "x"})
    definition["children"][2]["relevant"] = "${nothing} = 1"
    definition["choices"]["empty"] = []
    fields = {(p.name, p.field) for p in check_definition(definition)}
    assert fields == {("x", "type"), ("consent", "relevant"), ("empty", "choices")}


# -- robustness

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
ELEMENT = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["text", "group", "repeat", "select_one", "calculate", "map_marks", "x"]
        )
    },
    optional={
        "name": st.sampled_from(["a", "b", "c", "1", ""]) | JSON,
        "relevant": st.sampled_from(["${a} = 1", "${b} > )", "${c}", ""]) | JSON,
        "calculation": st.sampled_from(["${a} + 1", "${zz}", "${c}"]) | JSON,
        "choice_filter": st.sampled_from(["x = ${a}", "name = 'a'"]) | JSON,
        "list_name": st.sampled_from(["l", "m"]) | JSON,
        "children": st.lists(
            st.fixed_dictionaries({"type": st.just("text"), "name": st.sampled_from(["a", "d"])}),
            max_size=2,
        )
        | JSON,
        "label": JSON,
        "tags": JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    children=st.lists(ELEMENT | JSON, max_size=6),
    choices=st.dictionaries(st.sampled_from(["l", "m"]), JSON) | JSON,
    languages=JSON,
    default=JSON,
)
def test_never_raises_on_malformed_definitions(
    children: Any, choices: Any, languages: Any, default: Any
) -> None:
    definition: Any = {
        "form_id": "x",
        "title": "x",
        "children": children,
        "choices": choices,
        "languages": languages,
        "default_language": default,
    }
    for problem in check_definition(definition):
        assert isinstance(problem, DefinitionProblem)
        assert "\n" not in problem.message
    assert check_definition([]) == [  # type: ignore[arg-type]
        DefinitionProblem("", "form", "form (form): a definition must be an object.")
    ]
