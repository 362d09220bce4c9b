"""Form definitions built in code, for tests of expressions, form checks and validation.

`make_definition(children, choices)` wraps elements into a minimal definition;
`sample_definition()` is a realistic form with groups, a repeat with a
repeat_count, a choice filter, a rank, geo questions, map marks, a calculation
and sensitive questions, and `sample_answers()` a valid submission of it.
Both return fresh copies, so tests may change them.
"""

from __future__ import annotations

import copy
from typing import Any

from incity.surveys.definition import Choice, Element, FormDefinition

EN = "English (en)"
DE = "Deutsch (de)"


def choice(name: str, label: str = "", **extra: str) -> Choice:
    item: Choice = {"name": name, "label": {EN: label or name.capitalize()}}
    if extra:
        item["extra"] = dict(extra)
    return item


def choices_of(*names: str) -> list[Choice]:
    return [choice(name) for name in names]


def make_definition(
    children: list[Element],
    choices: dict[str, list[Choice]] | None = None,
    *,
    languages: list[str] | None = None,
    default_language: str = EN,
) -> FormDefinition:
    return {
        "form_id": "test_form",
        "title": "Test form",
        "default_language": default_language,
        "languages": languages if languages is not None else [EN, DE],
        "settings": {},
        "choices": copy.deepcopy(choices) if choices else {},
        "children": copy.deepcopy(children),
    }


_SAMPLE: FormDefinition = {
    "form_id": "neighbourhood",
    "title": "Neighbourhood survey (synthetic test form)",
    "version_label": "2026-11",
    "default_language": EN,
    "languages": [EN, DE],
    "settings": {"style": "pages"},
    "choices": {
        "yes_no": [
            {"name": "yes", "label": {EN: "Yes", DE: "Ja"}},
            {"name": "no", "label": {EN: "No", DE: "Nein"}},
        ],
        "countries": [choice("se", "Sweden"), choice("de", "Germany")],
        "cities": [
            choice("stockholm", "Stockholm", country="se"),
            choice("malmo", "Malmö", country="se"),
            choice("berlin", "Berlin", country="de"),
            choice("hamburg", "Hamburg", country="de"),
        ],
        "languages": choices_of("sv", "de", "en", "ar"),
        "status": choices_of("citizen", "resident", "asylum", "other"),
        "place_categories": choices_of("safe", "unsafe", "meeting"),
        "priorities": choices_of("parks", "transport", "housing"),
    },
    "children": [
        {"type": "start", "name": "started"},
        {"type": "note", "name": "intro", "label": {EN: "Welcome.", DE: "Willkommen."}},
        {
            "type": "select_one",
            "name": "consent",
            "list_name": "yes_no",
            "label": {EN: "Do you agree to take part?"},
            "required": True,
            "required_message": {EN: "Please say whether you agree.", DE: "Bitte antworten."},
        },
        {
            "type": "group",
            "name": "about",
            "label": {EN: "About you"},
            "relevant": "${consent} = 'yes'",
            "children": [
                {
                    "type": "integer",
                    "name": "age",
                    "label": {EN: "How old are you?"},
                    "required": True,
                    "constraint": ". >= 16 and . <= 120",
                    "constraint_message": {EN: "Answers from people aged 16 or over only."},
                },
                {
                    "type": "select_one",
                    "name": "country",
                    "list_name": "countries",
                    "label": {EN: "Country"},
                    "required": True,
                },
                {
                    "type": "select_one",
                    "name": "city",
                    "list_name": "cities",
                    "label": {EN: "City"},
                    "choice_filter": "country=${country}",
                },
                {
                    "type": "date",
                    "name": "moved_in",
                    "label": {EN: "When did you move in?"},
                    "constraint": ". <= today()",
                },
                {
                    "type": "select_multiple",
                    "name": "languages_spoken",
                    "list_name": "languages",
                    "label": {EN: "Languages you speak"},
                    "constraint": "count-selected(.) <= 3",
                },
                {
                    "type": "select_one",
                    "name": "residence_status",
                    "list_name": "status",
                    "label": {EN: "Residence status"},
                    "tags": {"sensitive": True},
                },
                {
                    "type": "calculate",
                    "name": "adult",
                    "calculation": "if(${age} >= 18, 'yes', 'no')",
                },
            ],
        },
        {
            "type": "integer",
            "name": "household_size",
            "label": {EN: "How many people live in your home?"},
            "constraint": ". >= 1 and . <= 20",
        },
        {
            "type": "repeat",
            "name": "household",
            "label": {EN: "Household members"},
            "repeat_count": "${household_size}",
            "children": [
                {
                    "type": "integer",
                    "name": "member_age",
                    "label": {EN: "Age"},
                    "required": True,
                    "constraint": ". >= 0",
                },
                {
                    "type": "select_one",
                    "name": "member_works",
                    "list_name": "yes_no",
                    "label": {EN: "Works?"},
                    "relevant": "${member_age} >= 16",
                },
                {
                    "type": "select_one",
                    "name": "member_status",
                    "list_name": "status",
                    "label": {EN: "Residence status"},
                    "tags": {"sensitive": True},
                },
            ],
        },
        {"type": "calculate", "name": "total_age", "calculation": "sum(${member_age})"},
        {"type": "geopoint", "name": "home", "label": {EN: "Where do you live?"}},
        {"type": "geotrace", "name": "walk", "label": {EN: "Your daily walk"}},
        {"type": "geoshape", "name": "area", "label": {EN: "Your neighbourhood"}},
        {
            "type": "map_marks",
            "name": "places",
            "list_name": "place_categories",
            "label": {EN: "Mark places you feel safe or unsafe"},
        },
        {
            "type": "rank",
            "name": "priorities",
            "list_name": "priorities",
            "label": {EN: "Rank these"},
        },
        {
            "type": "range",
            "name": "satisfaction",
            "label": {EN: "How satisfied are you?"},
            "parameters": "start=1 end=5 step=1",
            "required": True,
        },
        {
            "type": "text",
            "name": "comment",
            "label": {EN: "What could be better?"},
            "relevant": "${satisfaction} <= 2",
        },
        {"type": "image", "name": "photo", "label": {EN: "A photo of your street"}},
    ],
}

_SAMPLE_ANSWERS: dict[str, Any] = {
    "started": "2026-11-02T09:15:00.000+01:00",
    "consent": "yes",
    "age": 34,
    "country": "se",
    "city": "malmo",
    "moved_in": "2019-04-01",
    "languages_spoken": ["sv", "ar"],
    "residence_status": "resident",
    "household_size": 2,
    "household": [
        {"member_age": 34, "member_works": "yes", "member_status": "resident"},
        {"member_age": 6, "member_status": "citizen"},
    ],
    "home": {"type": "Point", "coordinates": [13.0038, 55.6050]},
    "walk": {"type": "LineString", "coordinates": [[13.0, 55.6], [13.01, 55.61]]},
    "area": {
        "type": "Polygon",
        "coordinates": [[[13.0, 55.6], [13.02, 55.6], [13.02, 55.62], [13.0, 55.6]]],
    },
    "places": [
        {
            "geometry": {"type": "Point", "coordinates": [13.001, 55.601]},
            "category": "unsafe",
            "time_of_day": "night",
            "comment": "Dark underpass",
        },
        {"place": "The library", "category": "meeting"},
    ],
    "priorities": ["transport", "parks", "housing"],
    "satisfaction": 2,
    "comment": "More benches.",
    "photo": "street.jpg",
}


def sample_definition() -> FormDefinition:
    return copy.deepcopy(_SAMPLE)


def sample_answers() -> dict[str, Any]:
    return copy.deepcopy(_SAMPLE_ANSWERS)
