"""Validation of submitted answers, the typed answer table and sensitive answers
(incity.surveys.validation)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incity.surveys.definition import Element, FormDefinition
from incity.surveys.validation import (
    TypedValue,
    ValidationResult,
    merge_sensitive,
    prepare,
    split_sensitive,
    typed_values,
    validate_answers,
)
from tests.surveys.definitions import (
    DE,
    EN,
    choice,
    choices_of,
    make_definition,
    sample_answers,
    sample_definition,
)

NOT_APPLICABLE = "answered, but this question does not apply given the other answers (relevant: {})"
NEEDS_ANSWER = "This question needs an answer."


def errors_for(definition: FormDefinition, answers: dict[str, Any]) -> dict[str, str]:
    return validate_answers(definition, answers).errors


def sample_with(**changes: Any) -> dict[str, str]:
    answers = sample_answers()
    for key, value in changes.items():
        if value is DROP:
            answers.pop(key, None)
        else:
            answers[key] = value
    return errors_for(sample_definition(), answers)


DROP = object()


def one(element: Element, value: Any, choices: dict[str, Any] | None = None) -> ValidationResult:
    return validate_answers(make_definition([element], choices), {element["name"]: value})


# ----------------------------------------------------------------- the sample form


def test_the_sample_answers_are_valid_and_normalised() -> None:
    result = validate_answers(sample_definition(), sample_answers())
    assert result.errors == {}
    assert result.ok
    expected = sample_answers()
    expected["adult"] = "yes"  # calculations are computed here
    expected["total_age"] = "40"
    assert result.answers == expected


def test_a_prepared_form_validates_the_same() -> None:
    prepared = prepare(sample_definition())
    assert prepare(prepared) is prepared
    answers = sample_answers()
    assert validate_answers(prepared, answers) == validate_answers(sample_definition(), answers)


def test_prepare_remembers_equal_definitions_but_not_changed_ones() -> None:
    definition = sample_definition()
    first = prepare(definition)
    assert prepare(sample_definition()) is first  # an equal definition loaded afresh
    definition["children"][2]["required"] = False  # changed in place
    second = prepare(definition)
    assert second is not first
    assert errors_for(definition, {}) == {"satisfaction": NEEDS_ANSWER}
    assert first.fields["consent"].element["required"] is True  # the remembered copy


def test_the_answers_must_be_an_object() -> None:
    result = validate_answers(sample_definition(), ["age", 3])  # type: ignore[arg-type]
    assert result.errors == {"__all__": "The answers must be an object keyed by question name."}
    assert result.answers == {}


def test_empty_answers_name_every_required_question() -> None:
    assert errors_for(sample_definition(), {}) == {
        "consent": "Please say whether you agree.",  # the form's own required_message
        "satisfaction": NEEDS_ANSWER,
    }


# ------------------------------------------------------------------ unknown fields


def test_unknown_fields_groups_notes_and_misplaced_questions_are_refused() -> None:
    errors = sample_with(
        bogus=1,
        about={"age": 30},
        intro="hello",
        member_age=30,
    )
    assert errors == {
        "bogus": "This is not a question of this form.",
        "about": "This is a group, not a question: give the answers to its questions directly.",
        "intro": "This is a note: it takes no answer.",
        "member_age": "This question belongs inside each entry of the repeat 'household'.",
    }


def test_a_top_level_question_inside_a_repeat_entry_is_refused() -> None:
    answers = sample_answers()
    answers["household"][0]["age"] = 30
    answers["household"][1]["nonsense"] = 1
    assert errors_for(sample_definition(), answers) == {
        "household[1].age": "This question is not part of the repeat 'household'.",
        "household[2].nonsense": "This is not a question of this form.",
    }


# --------------------------------------------------------------------------- types

TEXT: Element = {"type": "text", "name": "q"}
INTEGER: Element = {"type": "integer", "name": "q"}
DECIMAL: Element = {"type": "decimal", "name": "q"}
RANGE: Element = {"type": "range", "name": "q", "parameters": "start=0 end=10 step=2"}
DATE: Element = {"type": "date", "name": "q"}
TIME: Element = {"type": "time", "name": "q"}
DATETIME: Element = {"type": "datetime", "name": "q"}
POINT: Element = {"type": "geopoint", "name": "q"}
POINT_SHAPE_MESSAGE = 'Expected a GeoJSON Point: {"type": "Point", "coordinates": [...]}.'
TRACE: Element = {"type": "geotrace", "name": "q"}
SHAPE: Element = {"type": "geoshape", "name": "q"}
ACK: Element = {"type": "acknowledge", "name": "q"}
IMAGE: Element = {"type": "image", "name": "q"}
ONE: Element = {"type": "select_one", "name": "q", "list_name": "abc"}
MANY: Element = {"type": "select_multiple", "name": "q", "list_name": "abc"}
RANK: Element = {"type": "rank", "name": "q", "list_name": "abc"}
START: Element = {"type": "start", "name": "q"}
DEVICE: Element = {"type": "deviceid", "name": "q"}
CALC: Element = {"type": "calculate", "name": "q", "calculation": "once(now())"}
ABC = {"abc": choices_of("a", "b", "c")}

WHOLE = "Expected a whole number."
NUMBER = "Expected a number."
GEO_POINT = 'Expected a GeoJSON Point: {"type": "Point", "coordinates": [...]}.'


@pytest.mark.parametrize(
    ("element", "value", "message"),
    [
        (TEXT, 12, "Expected text."),
        (TEXT, ["a"], "Expected text."),
        (TEXT, True, "Expected text."),
        (INTEGER, "12a", WHOLE),
        (INTEGER, "1.5", WHOLE),
        (INTEGER, 1.5, WHOLE),
        (INTEGER, 3.0, WHOLE),
        (INTEGER, True, WHOLE),
        (INTEGER, " 12", WHOLE),
        (INTEGER, "1" * 5000, WHOLE),
        (INTEGER, 2**60, "The number is too large."),
        (INTEGER, {"n": 1}, WHOLE),
        (DECIMAL, "abc", NUMBER),
        (DECIMAL, "NaN", NUMBER),
        (DECIMAL, "inf", NUMBER),
        (DECIMAL, float("nan"), "Expected a finite number."),
        (DECIMAL, float("inf"), "Expected a finite number."),
        (DECIMAL, "1e999", "Expected a finite number."),
        (DECIMAL, False, NUMBER),
        (DECIMAL, "1,5", NUMBER),
        (RANGE, 11, "Expected a number from 0 to 10."),
        (RANGE, -2, "Expected a number from 0 to 10."),
        (RANGE, 3, "Expected a number in steps of 2 from 0."),
        (RANGE, "x", NUMBER),
        (DATE, "2023-02-29", "'2023-02-29' is not a real date."),
        (DATE, "2023-2-1", "Expected a date as YYYY-MM-DD."),
        (DATE, "01/02/2023", "Expected a date as YYYY-MM-DD."),
        (DATE, 20230101, "Expected a date as YYYY-MM-DD."),
        (TIME, "24:00", "Expected a time as HH:MM or HH:MM:SS."),
        (TIME, "9:30", "Expected a time as HH:MM or HH:MM:SS."),
        (TIME, "09:60", "Expected a time as HH:MM or HH:MM:SS."),
        (DATETIME, "2024-01-01", "Expected a date and time in ISO 8601 (YYYY-MM-DDTHH:MM:SS)."),
        (DATETIME, "2024-13-01T10:00", "'2024-13-01T10:00' is not a real date and time."),
        (DATETIME, "yesterday", "Expected a date and time in ISO 8601 (YYYY-MM-DDTHH:MM:SS)."),
        (
            POINT,
            {"type": "Point", "coordinates": [181, 0]},
            "The longitude 181 is outside -180 to 180.",
        ),
        (
            POINT,
            {"type": "Point", "coordinates": [0, -91]},
            "The latitude -91 is outside -90 to 90.",
        ),
        (
            POINT,
            {"type": "Point", "coordinates": [0]},
            "Expected a position [longitude, latitude] or [longitude, latitude, altitude].",
        ),
        (
            POINT,
            {"type": "Point", "coordinates": [0, True]},
            "Expected a position made of finite numbers.",
        ),
        (
            POINT,
            {"type": "Point", "coordinates": [0, float("nan")]},
            "Expected a position made of finite numbers.",
        ),
        (POINT, {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, GEO_POINT),
        (POINT, {"type": "Point", "coordinates": [0, 0], "extra": 1}, GEO_POINT),
        (POINT, [13.0, 55.0], GEO_POINT),
        (POINT, "55.6", "Expected a point as 'latitude longitude altitude accuracy'."),
        (POINT, "north south", "Expected a point as 'latitude longitude altitude accuracy'."),
        (POINT, "91 13", "The latitude 91 is outside -90 to 90."),
        (TRACE, {"type": "LineString", "coordinates": [[0, 0]]}, "A line needs at least 2 points."),
        (TRACE, "55.6 13.0", "A line needs at least 2 points."),
        (TRACE, "55.6 13.0;x y", "Expected a point as 'latitude longitude altitude accuracy'."),
        (
            SHAPE,
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]},
            "An area needs at least 4 points, the last equal to the first.",
        ),
        (
            SHAPE,
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
            "An area must end where it starts (its first and last points equal).",
        ),
        (
            SHAPE,
            {"type": "Polygon", "coordinates": []},
            "An area needs at least one ring of points.",
        ),
        (
            SHAPE,
            "1 1;2 2;3 3;1 2",
            "An area must end where it starts (its first and last points equal).",
        ),
        (ACK, "yes", 'Expected "OK" or true.'),
        (ACK, False, 'Expected "OK" or true.'),
        (IMAGE, "../etc/passwd", "Expected the name of an attached file."),
        (IMAGE, "a\nb.jpg", "Expected the name of an attached file."),
        (IMAGE, 12, "Expected the name of an attached file."),
        (IMAGE, "x" * 300, "Expected the name of an attached file."),
        (ONE, "d", "'d' is not one of the choices."),
        (ONE, ["a"], "Expected the name of a choice."),
        (ONE, True, "Expected the name of a choice."),
        (MANY, ["a", "a"], "'a' is chosen more than once."),
        (MANY, "a b a", "'a' is chosen more than once."),
        (MANY, ["a", "z"], "'z' is not one of the choices."),
        (MANY, {"a": True}, "Expected a list of choice names."),
        (MANY, [["a"]], "Expected the name of a choice."),
        (RANK, ["a", "b"], "Expected every choice ranked once; missing: c."),
        (RANK, ["a", "b", "c", "c"], "'c' is chosen more than once."),
        (START, "2024-01-01", "Expected a date and time in ISO 8601 (YYYY-MM-DDTHH:MM:SS)."),
        (DEVICE, 12345, "Expected text."),
        (CALC, {"a": 1}, "Expected text or a number."),
        (
            POINT,
            {"description": "   "},
            "Describe the place in a few words, or mark it on the map.",
        ),
        (TRACE, {"description": 7}, "Describe the place in a few words, or mark it on the map."),
        (SHAPE, {"description": "x" * 1001}, "The description is longer than 1000 characters."),
        (POINT, {"description": "by the bridge", "coordinates": [1, 2]}, POINT_SHAPE_MESSAGE),
    ],
)
def test_refused_values(element: Element, value: Any, message: str) -> None:
    result = one(element, value, ABC)
    assert result.errors == {"q": message}
    assert "q" not in result.answers


@pytest.mark.parametrize(
    ("element", "value", "normalised"),
    [
        (TEXT, "  spaces kept  ", "  spaces kept  "),
        (INTEGER, "42", 42),
        (INTEGER, "-7", -7),
        (INTEGER, 0, 0),
        (DECIMAL, "2.50", 2.5),
        (DECIMAL, 3, 3.0),
        (DECIMAL, "-.5", -0.5),
        (DECIMAL, "1e3", 1000.0),
        (RANGE, 4, 4),
        (RANGE, "10", 10),
        (DATE, "2024-02-29", "2024-02-29"),
        (TIME, "09:30", "09:30"),
        (TIME, "09:30:15.250+02:00", "09:30:15.250+02:00"),
        (DATETIME, "2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"),
        (DATETIME, "2024-01-01T10:00:00.000+01:00", "2024-01-01T10:00:00.000+01:00"),
        (POINT, "55.6 13.0 12.5 4.0", {"type": "Point", "coordinates": [13.0, 55.6, 12.5]}),
        (POINT, "55.6 13.0", {"type": "Point", "coordinates": [13.0, 55.6]}),
        (
            POINT,
            {"type": "Point", "coordinates": [13, 55]},
            {"type": "Point", "coordinates": [13.0, 55.0]},
        ),
        (
            TRACE,
            "55.6 13.0 0 5;55.7 13.1 0 5;",
            {"type": "LineString", "coordinates": [[13.0, 55.6, 0.0], [13.1, 55.7, 0.0]]},
        ),
        (
            SHAPE,
            "1 1;1 2;2 2;1 1",
            {"type": "Polygon", "coordinates": [[[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 1.0]]]},
        ),
        # The text alternative to the map: the place described in words.
        (POINT, {"description": " the dark underpass "}, {"description": "the dark underpass"}),
        (TRACE, {"description": "the path by the canal"}, {"description": "the path by the canal"}),
        (SHAPE, {"description": "the whole park"}, {"description": "the whole park"}),
        (ACK, True, "OK"),
        (ACK, "OK", "OK"),
        (IMAGE, "1700000000.jpg", "1700000000.jpg"),
        (ONE, "b", "b"),
        (MANY, "c a", ["c", "a"]),
        (MANY, ["b"], ["b"]),
        (RANK, "c a b", ["c", "a", "b"]),
        (START, "2024-01-01T08:00:00.000+01:00", "2024-01-01T08:00:00.000+01:00"),
        (DEVICE, "collect:abc", "collect:abc"),
        (CALC, 12, "12"),  # once(now()): not computed here, the client's value is kept
        (
            {"type": "select_one_from_file", "name": "q", "list_name": "c.csv"},
            "anything",
            "anything",
        ),
        ({"type": "barcode", "name": "q"}, "4006381333931", "4006381333931"),
        ({"type": "hidden", "name": "q"}, 2.5, "2.5"),
    ],
)
def test_accepted_values_are_normalised(element: Element, value: Any, normalised: Any) -> None:
    result = one(element, value, ABC)
    assert result.errors == {}
    assert result.answers == {"q": normalised}


@pytest.mark.parametrize("empty", [None, "", []])
def test_empty_values_are_no_answer(empty: Any) -> None:
    assert one(MANY, empty, ABC) == ValidationResult({}, {})
    assert one({**MANY, "required": True}, empty, ABC).errors == {"q": NEEDS_ANSWER}
    if empty != []:
        assert one({**TEXT, "required": True}, empty).errors == {"q": NEEDS_ANSWER}


# ------------------------------------------------------------- required, relevant


def test_required_message_in_the_default_language() -> None:
    element: Element = {
        "type": "text",
        "name": "q",
        "required": True,
        "required_message": {EN: "Please answer.", DE: "Bitte antworten."},
    }
    german = make_definition([element], default_language=DE)
    assert errors_for(german, {}) == {"q": "Bitte antworten."}
    english = make_definition([element])
    assert errors_for(english, {}) == {"q": "Please answer."}


def test_a_required_question_that_does_not_apply_needs_no_answer() -> None:
    assert sample_with(consent="no", age=DROP, country=DROP, city=DROP, moved_in=DROP,
                       languages_spoken=DROP, residence_status=DROP) == {}  # fmt: skip


def test_answers_to_questions_that_do_not_apply_are_refused() -> None:
    errors = sample_with(satisfaction=5)
    assert errors == {"comment": NOT_APPLICABLE.format("${satisfaction} <= 2")}


def test_a_group_s_relevance_applies_to_its_questions() -> None:
    errors = sample_with(consent="no", country=DROP, city=DROP, moved_in=DROP,
                         languages_spoken=DROP, residence_status=DROP)  # fmt: skip
    assert errors == {"age": NOT_APPLICABLE.format("${consent} = 'yes'")}


def test_a_refused_answer_does_not_also_make_others_inapplicable() -> None:
    # satisfaction is refused; whether comment applies cannot be judged, so no second error
    assert sample_with(satisfaction="lots") == {"satisfaction": NUMBER}


def test_dynamic_required() -> None:
    definition = make_definition(
        [
            {"type": "integer", "name": "a"},
            {"type": "text", "name": "b", "required": "${a} > 3"},  # type: ignore[typeddict-item]
        ]
    )
    assert errors_for(definition, {"a": 5}) == {"b": NEEDS_ANSWER}
    assert errors_for(definition, {"a": 1}) == {}


# ----------------------------------------------------------------------- constraints


def test_constraint_messages() -> None:
    assert sample_with(age=12) == {"age": "Answers from people aged 16 or over only."}
    assert sample_with(household_size=0, household=DROP) == {
        "household_size": "The answer does not meet the rule . >= 1 and . <= 20."
    }
    assert sample_with(languages_spoken="sv de en ar") == {
        "languages_spoken": "The answer does not meet the rule count-selected(.) <= 3."
    }
    assert sample_with(moved_in="2999-01-01") == {
        "moved_in": "The answer does not meet the rule . <= today()."
    }


def test_constraint_with_regex_and_a_broken_pattern() -> None:
    element: Element = {"type": "text", "name": "q", "constraint": "regex(., '^[A-Z]{2}$')"}
    assert one(element, "SE").errors == {}
    assert one(element, "Sweden").errors == {
        "q": "The answer does not meet the rule regex(., '^[A-Z]{2}$')."
    }
    definition = make_definition(
        [
            {"type": "text", "name": "pattern"},
            {"type": "text", "name": "q", "constraint": "regex(., ${pattern})"},
        ]
    )
    errors = errors_for(definition, {"pattern": "[", "q": "x"})
    assert errors["q"].startswith("The form's rule regex(., ${pattern}) could not be checked:")


# ---------------------------------------------------------------------- choice filters


def test_choice_filter() -> None:
    assert sample_with(city="berlin") == {
        "city": "'berlin' is not one of the choices available given the other answers "
        "(choice_filter: country=${country})."
    }
    assert sample_with(country="de", city="berlin") == {}
    assert sample_with(city="paris") == {"city": "'paris' is not one of the choices."}


def test_choice_filter_on_select_multiple_rank_and_map_marks() -> None:
    lists = {
        "letters": [choice("a", kind="v"), choice("b", kind="c"), choice("e", kind="v")],
        "yes_no": choices_of("yes", "no"),
    }
    children: list[Element] = [
        {"type": "select_one", "name": "vowels", "list_name": "yes_no"},
        {"type": "select_multiple", "name": "m", "list_name": "letters",
         "choice_filter": "${vowels} = 'no' or kind = 'v'"},
        {"type": "rank", "name": "r", "list_name": "letters", "choice_filter": "kind = 'v'"},
        {"type": "map_marks", "name": "p", "list_name": "letters", "choice_filter": "kind = 'v'"},
    ]  # fmt: skip
    definition = make_definition(children, lists)
    mark = {"place": "Here", "category": "b"}
    errors = errors_for(
        definition, {"vowels": "yes", "m": ["a", "b"], "r": ["e", "a", "b"], "p": [mark]}
    )
    rule = "'b' is not one of the choices available given the other answers (choice_filter: {})."
    assert errors == {
        "m": rule.format("${vowels} = 'no' or kind = 'v'"),
        "r": rule.format("kind = 'v'"),
        "p[1].category": rule.format("kind = 'v'"),
    }
    assert errors_for(definition, {"vowels": "no", "m": ["a", "b"], "r": ["e", "a"]}) == {}
    assert errors_for(definition, {"r": ["a"]}) == {
        "r": "Expected every choice ranked once; missing: e."
    }


# ------------------------------------------------------------------------ repeats


def test_repeat_errors_name_the_entry() -> None:
    answers = sample_answers()
    answers["household"] = [
        {"member_age": 10, "member_works": "yes"},
        {"member_age": "ten"},
        {},
    ]
    answers["household_size"] = 3
    assert errors_for(sample_definition(), answers) == {
        "household[2].member_age": WHOLE,
        "household[1].member_works": NOT_APPLICABLE.format("${member_age} >= 16"),
        "household[3].member_age": NEEDS_ANSWER,
    }


def test_repeat_shape_and_count() -> None:
    assert sample_with(household={"member_age": 3}) == {
        "household": "Expected a list of entries (objects)."
    }
    assert sample_with(household=[{"member_age": 3}, "x"]) == {
        "household[2]": "Expected an object of answers."
    }
    assert sample_with(household_size=3) == {
        "household": "Expected 3 entries (repeat_count: ${household_size}), got 2."
    }
    assert sample_with(household_size=1) == {
        "household": "Expected 1 entries (repeat_count: ${household_size}), got 2."
    }
    assert sample_with(household_size=DROP, household=DROP) == {}


def test_nested_repeats_and_a_repeat_that_does_not_apply() -> None:
    definition = make_definition(
        [
            {"type": "select_one", "name": "has", "list_name": "yn"},
            {
                "type": "repeat",
                "name": "trips",
                "relevant": "${has} = 'yes'",
                "children": [
                    {"type": "text", "name": "to", "required": True},
                    {
                        "type": "repeat",
                        "name": "legs",
                        "children": [
                            {"type": "integer", "name": "km", "constraint": ". > 0"},
                            {"type": "text", "name": "note", "relevant": "${km} > 100"},
                        ],
                    },
                ],
            },
            {"type": "calculate", "name": "total", "calculation": "sum(${km})"},
        ],
        {"yn": choices_of("yes", "no")},
    )
    answers: dict[str, Any] = {
        "has": "yes",
        "trips": [
            {"to": "Malmö", "legs": [{"km": 5}, {"km": 200, "note": "long"}]},
            {"legs": [{"km": 0, "note": "x"}]},
        ],
    }
    result = validate_answers(definition, answers)
    assert result.errors == {
        "trips[2].to": NEEDS_ANSWER,
        "trips[2].legs[1].note": NOT_APPLICABLE.format("${km} > 100"),
        "trips[2].legs[1].km": "The answer does not meet the rule . > 0.",
    }
    assert result.answers["total"] == "205"
    answers["has"] = "no"
    assert errors_for(definition, answers) == {"trips": NOT_APPLICABLE.format("${has} = 'yes'")}


# ---------------------------------------------------------------------- map marks


def test_map_mark_refusals_name_the_mark_and_field() -> None:
    errors = sample_with(
        places=[
            {"category": "nope", "colour": "red", "place": "Park"},
            {"geometry": {"type": "Point", "coordinates": [1]}},
            "here",
            {"description": "By the school", "category": "safe", "time_of_day": "noon"},
            {"geometry": {"type": "MultiPoint", "coordinates": []}, "category": "safe"},
            {"category": "safe", "comment": 3},
        ]
    )
    assert errors == {
        "places[1].category": "'nope' is not one of the choices.",
        "places[1].colour": "Not a field of a map mark (geometry, place, description, category, "
        "time_of_day, comment).",
        "places[2].geometry": "Expected a position [longitude, latitude] or [longitude, "
        "latitude, altitude].",
        "places[2].category": "A map mark needs a category.",
        "places[3]": "Expected a map mark: an object with a category and a geometry, place or "
        "description.",
        "places[4].time_of_day": "Expected one of day, evening, night.",
        "places[5].geometry": "Expected a GeoJSON Point, LineString or Polygon.",
        "places[6].comment": "Expected text.",
        "places[6]": "A map mark needs a geometry, a place or a description.",
    }
    assert sample_with(places={"category": "safe"}) == {"places": "Expected a list of map marks."}


def test_map_marks_accept_lines_and_areas() -> None:
    marks = [
        {"geometry": {"type": "LineString", "coordinates": [[13, 55], [13.1, 55.1]]},
         "category": "safe", "time_of_day": "evening"},
        {"geometry": {"type": "Polygon", "coordinates": [[[13, 55], [13.1, 55], [13.1, 55.1], [13, 55]]]},
         "category": "unsafe", "comment": ""},
        {"description": "The bus stop at night", "category": "unsafe"},
    ]  # fmt: skip
    result = validate_answers(sample_definition(), {**sample_answers(), "places": marks})
    assert result.errors == {}
    assert result.answers["places"][0]["geometry"]["coordinates"] == [[13.0, 55.0], [13.1, 55.1]]
    assert "comment" not in result.answers["places"][1]


# --------------------------------------------------------------------- calculations


def test_calculations_are_computed_and_override_what_the_client_sent() -> None:
    # Decision (see validation.calculate): the server's value is stored, never an error.
    answers = {**sample_answers(), "adult": "no", "total_age": "40.0"}
    result = validate_answers(sample_definition(), answers)
    assert result.errors == {}
    assert result.answers["adult"] == "yes"
    assert result.answers["total_age"] == "40"


def test_a_calculation_that_cannot_be_computed_keeps_the_client_s_value() -> None:
    definition = make_definition(
        [
            {"type": "integer", "name": "a"},
            {"type": "calculate", "name": "double", "calculation": "${a} * 2"},
            {"type": "calculate", "name": "stamp", "calculation": "once(now())"},
        ]
    )
    result = validate_answers(definition, {"double": "8", "stamp": "2026-01-01T10:00:00Z"})
    assert result.errors == {}
    assert result.answers == {"double": "8", "stamp": "2026-01-01T10:00:00Z"}
    result = validate_answers(definition, {"a": 3, "double": "8"})
    assert result.answers == {"a": 3, "double": "6"}


def test_a_calculation_that_does_not_apply_is_dropped() -> None:
    definition = make_definition(
        [
            {"type": "integer", "name": "a"},
            {"type": "calculate", "name": "c", "calculation": "${a} + 1", "relevant": "${a} > 5"},
        ]
    )
    assert validate_answers(definition, {"a": 1, "c": "2"}) == ValidationResult({"a": 1}, {})
    assert validate_answers(definition, {"a": 9}).answers == {"a": 9, "c": "10"}


def test_calculations_inside_repeats_and_chained_calculations() -> None:
    definition = make_definition(
        [
            {"type": "calculate", "name": "doubled_total", "calculation": "${total} * 2"},
            {
                "type": "repeat",
                "name": "r",
                "children": [
                    {"type": "integer", "name": "x"},
                    {"type": "calculate", "name": "x_pos", "calculation": "${x} * position(..)"},
                ],
            },
            {"type": "calculate", "name": "total", "calculation": "sum(${x_pos})"},
            {"type": "calculate", "name": "label", "calculation": "jr:choice-name(${c}, '${c}')"},
            {"type": "select_one", "name": "c", "list_name": "l"},
        ],
        {"l": [choice("a", "Apple")]},
    )
    result = validate_answers(definition, {"r": [{"x": 1}, {"x": 2}], "c": "a"})
    assert result.errors == {}
    assert result.answers["r"] == [{"x": 1, "x_pos": "1"}, {"x": 2, "x_pos": "4"}]
    assert result.answers["total"] == "5"
    assert result.answers["doubled_total"] == "10"
    assert result.answers["label"] == "Apple"


def test_a_definition_with_broken_expressions_gives_errors_not_exceptions() -> None:
    definition = make_definition(
        [
            {"type": "integer", "name": "a", "relevant": "${b} >", "constraint": "foo(.)"},
            {"type": "text", "name": "b", "required": "${a} >"},  # type: ignore[typeddict-item]
            {"type": "calculate", "name": "c", "calculation": "${a} +"},
            {"type": "select_one", "name": "s", "list_name": "l", "choice_filter": "x = ("},
            {"type": "repeat", "name": "r", "repeat_count": "${a} *",
             "children": [{"type": "text", "name": "t"}]},
        ],
        {"l": choices_of("x")},
    )  # fmt: skip
    result = validate_answers(definition, {"a": 1, "c": "kept", "s": "x", "r": [{"t": "y"}]})
    assert set(result.errors) == {"a", "b", "s", "r"}
    assert result.errors["a"].startswith("The form's rule ${b} > could not be checked:")
    assert result.errors["b"] == NEEDS_ANSWER  # a required that cannot be read is required
    assert result.answers["c"] == "kept"


# ---------------------------------------------------------------- never raises

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["yes", "se", "malmo", "55.6 13.0", "2024-01-01", "OK", "a b"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["type", "coordinates", "category", "geometry", "member_age", "x"])
            | st.text(max_size=5),
            inner,
            max_size=4,
        )
    ),
    max_leaves=25,
)
NAMES = [
    "started", "intro", "consent", "about", "age", "country", "city", "moved_in",
    "languages_spoken", "residence_status", "adult", "household_size", "household",
    "member_age", "member_works", "member_status", "total_age", "home", "walk", "area",
    "places", "priorities", "satisfaction", "comment", "photo",
]  # fmt: skip
MARK_FIELDS = ["geometry", "place", "description", "category", "time_of_day", "comment"]
ANSWERS = st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=6), JSON, max_size=12)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(ANSWERS)
def test_validate_never_raises(answers: dict[str, Any]) -> None:
    original = copy.deepcopy(answers)
    result = validate_answers(sample_definition(), answers)
    assert isinstance(result.errors, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.errors.items())
    assert answers == original or answers != answers  # the input is not changed (NaN aside)
    list(typed_values(sample_definition(), result.answers))
    list(typed_values(sample_definition(), answers))  # tolerant of unvalidated answers too


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["household", "places", "age"]),
        st.lists(
            st.dictionaries(st.sampled_from([*NAMES, *MARK_FIELDS]), JSON, max_size=5), max_size=3
        )
        | JSON,
    )
)
def test_validate_never_raises_on_nested_junk(answers: dict[str, Any]) -> None:
    merged = {**sample_answers(), **answers}
    result = validate_answers(sample_definition(), merged)
    assert isinstance(result, ValidationResult)


# ------------------------------------------------------------------- typed values


def test_typed_values_of_the_sample() -> None:
    result = validate_answers(sample_definition(), sample_answers())
    rows = list(typed_values(sample_definition(), result.answers))
    by_path: dict[str, list[TypedValue]] = {}
    for row in rows:
        by_path.setdefault(row.path, []).append(row)
    # sensitive questions, notes and groups are left out
    names = {row.name for row in rows}
    assert {"residence_status", "member_status", "intro", "about", "household"} & names == set()
    assert by_path["age"] == [TypedValue("age", "age", "", "number", number=34.0)]
    assert by_path["moved_in"] == [
        TypedValue("moved_in", "moved_in", "", "date", date="2019-04-01")
    ]
    assert by_path["started"][0].kind == "date"
    assert [row.text for row in by_path["languages_spoken"]] == ["sv", "ar"]
    assert {row.kind for row in by_path["languages_spoken"]} == {"choice"}
    assert [(row.text, row.number) for row in by_path["priorities"]] == [
        ("transport", 1.0), ("parks", 2.0), ("housing", 3.0)
    ]  # fmt: skip
    assert by_path["household[2].member_age"] == [
        TypedValue("household[2].member_age", "member_age", "household[2]", "number", number=6.0)
    ]
    assert by_path["total_age"] == [
        TypedValue("total_age", "total_age", "", "number", text="40", number=40.0)
    ]
    assert by_path["adult"] == [TypedValue("adult", "adult", "", "text", text="yes")]
    home = by_path["home"][0]
    assert (home.kind, home.lat, home.lon) == ("geometry", 55.605, 13.0038)
    area = by_path["area"][0]
    assert area.lat == pytest.approx((55.6 + 55.6 + 55.62) / 3)
    assert area.lon == pytest.approx((13.0 + 13.02 + 13.02) / 3)
    walk = by_path["walk"][0]
    assert (walk.lat, walk.lon) == (pytest.approx(55.605), pytest.approx(13.005))
    first, second = by_path["places[1]"][0], by_path["places[2]"][0]
    assert (first.kind, first.text, first.lat, first.lon) == ("geometry", "unsafe", 55.601, 13.001)
    assert first.geometry == {"type": "Point", "coordinates": [13.001, 55.601]}
    assert (second.kind, second.text, second.geometry) == ("choice", "meeting", None)
    assert by_path["photo"] == [TypedValue("photo", "photo", "", "text", text="street.jpg")]


def test_typed_values_skip_a_sensitive_group_entirely() -> None:
    definition = make_definition(
        [
            {"type": "group", "name": "g", "tags": {"sensitive": True},
             "children": [{"type": "text", "name": "secret"}]},
            {"type": "text", "name": "open"},
        ]
    )  # fmt: skip
    rows = list(typed_values(definition, {"secret": "x", "open": "y"}))
    assert [row.name for row in rows] == ["open"]


# ---------------------------------------------------------------- sensitive answers


def test_split_sensitive_of_the_sample() -> None:
    answers = validate_answers(sample_definition(), sample_answers()).answers
    plain, sensitive = split_sensitive(sample_definition(), answers, frozenset())
    assert sensitive == {
        "residence_status": "resident",
        "household[1].member_status": "resident",
        "household[2].member_status": "citizen",
    }
    assert "residence_status" not in plain
    assert plain["household"] == [
        {"member_age": 34, "member_works": "yes"},
        {"member_age": 6},
    ]
    assert merge_sensitive(plain, sensitive) == answers
    assert answers["household"][0]["member_status"] == "resident"  # input untouched


def test_extra_sensitive_names_and_whole_repeats() -> None:
    answers = sample_answers()
    plain, sensitive = split_sensitive(
        sample_definition(), answers, frozenset({"age", "household", "comment"})
    )
    assert set(sensitive) == {"residence_status", "age", "household", "comment"}
    assert sensitive["household"] == answers["household"]
    assert "household" not in plain
    assert merge_sensitive(plain, sensitive) == answers


def test_split_sensitive_group_names_everything_inside() -> None:
    plain, sensitive = split_sensitive(sample_definition(), sample_answers(), frozenset({"about"}))
    assert set(sensitive) == {
        "age", "country", "city", "moved_in", "languages_spoken", "residence_status",
        "household[1].member_status", "household[2].member_status",
    }  # fmt: skip
    assert merge_sensitive(plain, sensitive) == sample_answers()


def test_split_sensitive_catches_a_sensitive_name_in_the_wrong_place() -> None:
    answers = {"member_status": "asylum", "household": [{"residence_status": "x"}]}
    plain, sensitive = split_sensitive(sample_definition(), answers, frozenset())
    assert plain == {"household": [{}]}
    assert sensitive == {"member_status": "asylum", "household[1].residence_status": "x"}
    assert merge_sensitive(plain, sensitive) == answers


ENTRY = st.dictionaries(
    st.sampled_from(["member_age", "member_works", "member_status", "x.y", "odd"]), JSON, max_size=4
)
SPLIT_ANSWERS = st.dictionaries(
    st.sampled_from([*NAMES, "a.b", "x", ""]),
    JSON | st.lists(ENTRY | JSON, max_size=4),
    max_size=12,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    answers=SPLIT_ANSWERS,
    extra=st.frozensets(st.sampled_from([*NAMES, "a.b", "x", "nothing"]), max_size=4),
)
def test_split_and_merge_round_trip(answers: dict[str, Any], extra: frozenset[str]) -> None:
    definition = sample_definition()
    plain, sensitive = split_sensitive(definition, answers, extra)
    secret = {"residence_status", "member_status"} | extra
    if "about" in extra:
        secret |= {"age", "country", "city", "moved_in", "languages_spoken", "adult"}
    if "household" in extra:
        secret |= {"member_age", "member_works"}

    def keys(data: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(data, dict):
            found |= set(data)
            if isinstance(data.get("household"), list):
                for entry in data["household"]:
                    found |= keys(entry) if isinstance(entry, dict) else set()
        return found

    assert keys(plain).isdisjoint(secret)
    merged = merge_sensitive(plain, sensitive)
    # compared as JSON: equal even where NaN != NaN, and whatever the order of keys
    assert json.dumps(merged, sort_keys=True) == json.dumps(answers, sort_keys=True)


def test_a_place_described_in_words_is_a_text_value_in_the_typed_answers() -> None:
    rows = list(typed_values(make_definition([POINT]), {"q": {"description": "the underpass"}}))
    assert [(row.kind, row.text, row.lat) for row in rows] == [("text", "the underpass", None)]
