"""The form definition: incity's one internal shape for a form version.

Every form, whether built from modules in the form builder, posted as JSON to
the API or imported from an XLSForm, is stored as a `FormDefinition` (plain
JSON in the database). XLSForm import and export, the XForm for ODK Collect,
validation of submissions and the collection app all read this shape, so it is
the contract between them. It follows XLSForm closely (names, expressions and
language keys are XLSForm's) but is a tree rather than rows, and it carries
incity's own tags (framework domains, the source survey and variable of a
question's wording, sensitivity).

A definition looks like this:

    {
      "form_id": "dips_2026",                # XLSForm settings form_id
      "title": "Neighbourhood survey",       # XLSForm settings form_title
      "version_label": "2026-11",            # XLSForm settings version (free text)
      "default_language": "English (en)",
      "languages": ["English (en)", "Deutsch (de)", "Svenska (sv)"],
      "settings": {"style": "pages"},         # other settings columns, kept as read
      "choices": {
        "yes_no": [
          {"name": "yes", "label": {"English (en)": "Yes", ...},
           "media": {}, "extra": {"county": "x"}}     # extra = choice-filter columns
        ]
      },
      "children": [ <element>, ... ]
    }

An element:

    {
      "type": "select_one",               # one of ELEMENT_TYPES
      "name": "tenure",                   # XML name, unique in the form
      "label": {"English (en)": "...", "Deutsch (de)": "..."},
      "hint": {...}, "required": true, "required_message": {...},
      "relevant": "${age} >= 16",          # XPath with ${name} references, or ""
      "constraint": ". > 0", "constraint_message": {...},
      "calculation": "", "default": "", "read_only": false,
      "appearance": "", "parameters": "",
      "list_name": "tenure",              # select_one / select_multiple / rank / map_marks
      "choice_filter": "",
      "repeat_count": "",                 # repeat only
      "media": {"image": {"English (en)": "house.png"}},
      "tags": {"domains": ["ioi-2019:housing"], "module": "housing",
               "source_survey": "European Social Survey", "source_variable": "aesfdrk",
               "sensitive": false},
      "extra": {"bind::odk:length": "..."},  # XLSForm columns incity does not model, kept
      "children": [...]                   # group and repeat only
    }

Language keys are the XLSForm suffixes exactly as written ("English (en)", or
legacy "english"); a form without language columns uses the key "default".
Missing keys in an element mean their empty value (see `ELEMENT_DEFAULTS`).

Answers (see `validation/`) are keyed by element name; groups are
transparent, a repeat's answer is a list of objects keyed the same way.

'map marks' is incity's own type: several points, lines or areas in one
answer, each with a category from `list_name`, an optional time of day and a
comment. XLSForm has no such type; the XLSForm writer expresses it as a
repeat marked with the column `incity_type` = `map_marks` and reads it back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal, NotRequired, TypedDict

LanguageText = dict[str, str]

# Answerable question types incity validates and renders.
INPUT_TYPES: frozenset[str] = frozenset(
    {
        "text",
        "integer",
        "decimal",
        "range",
        "select_one",
        "select_multiple",
        "rank",
        "date",
        "time",
        "datetime",
        "geopoint",
        "geotrace",
        "geoshape",
        "map_marks",
        "barcode",
        "acknowledge",
        "image",
        "audio",
        "video",
        "file",
        "select_one_from_file",
        "select_multiple_from_file",
    }
)
# Elements that hold no answer of the respondent's own.
STRUCTURE_TYPES: frozenset[str] = frozenset({"group", "repeat"})
DISPLAY_TYPES: frozenset[str] = frozenset({"note"})
COMPUTED_TYPES: frozenset[str] = frozenset({"calculate", "hidden"})
# Values the collecting device fills in itself (XLSForm metadata types).
METADATA_TYPES: frozenset[str] = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "username",
        "email",
        "phonenumber",
        "subscriberid",
        "simserial",
        "audit",
        "start-geopoint",
        "background-audio",
    }
)
ELEMENT_TYPES: frozenset[str] = (
    INPUT_TYPES | STRUCTURE_TYPES | DISPLAY_TYPES | COMPUTED_TYPES | METADATA_TYPES
)
SELECT_TYPES: frozenset[str] = frozenset(
    {"select_one", "select_multiple", "rank", "select_one_from_file", "select_multiple_from_file"}
)
GEO_TYPES: frozenset[str] = frozenset({"geopoint", "geotrace", "geoshape", "map_marks"})
MEDIA_ANSWER_TYPES: frozenset[str] = frozenset({"image", "audio", "video", "file"})

# The types the form builder offers for custom questions (the rest arrive by import).
BUILDER_TYPES: tuple[str, ...] = (
    "text",
    "integer",
    "decimal",
    "select_one",
    "select_multiple",
    "date",
    "time",
    "note",
    "group",
    "repeat",
    "calculate",
    "geopoint",
    "geotrace",
    "geoshape",
    "map_marks",
)

# The times of day a map mark may carry.
TIMES_OF_DAY: tuple[str, ...] = ("day", "evening", "night")
# The geometry kinds a map mark may have.
MARK_GEOMETRIES: tuple[str, ...] = ("point", "line", "polygon")

DEFAULT_LANGUAGE_KEY = "default"
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_LANGUAGE_CODE = re.compile(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)\)\s*$")
_RTL_CODES = frozenset({"ar", "fa", "he", "ur", "ps", "ckb", "dv", "yi", "sd", "ug"})
# Legacy XLSForm language names (without a code) that we can still place.
_LEGACY_NAMES: dict[str, str] = {
    "english": "en",
    "german": "de",
    "deutsch": "de",
    "swedish": "sv",
    "svenska": "sv",
    "arabic": "ar",
    "somali": "so",
    "farsi": "fa",
    "persian": "fa",
    "dari": "prs",
    "turkish": "tr",
    "polish": "pl",
    "ukrainian": "uk",
    "french": "fr",
    "spanish": "es",
    "portuguese": "pt",
    "russian": "ru",
    "tigrinya": "ti",
    "kurdish": "ku",
    "pashto": "ps",
    "urdu": "ur",
}


class ChoiceTags(TypedDict, total=False):
    score: float


class Choice(TypedDict):
    name: str
    label: LanguageText
    media: NotRequired[dict[str, LanguageText]]
    extra: NotRequired[dict[str, str]]


class Tags(TypedDict, total=False):
    domains: list[str]
    module: str
    source_survey: str
    source_variable: str
    sensitive: bool


class Element(TypedDict):
    type: str
    name: str
    label: NotRequired[LanguageText]
    hint: NotRequired[LanguageText]
    required: NotRequired[bool]
    required_message: NotRequired[LanguageText]
    relevant: NotRequired[str]
    constraint: NotRequired[str]
    constraint_message: NotRequired[LanguageText]
    calculation: NotRequired[str]
    default: NotRequired[str]
    read_only: NotRequired[bool]
    appearance: NotRequired[str]
    parameters: NotRequired[str]
    list_name: NotRequired[str]
    choice_filter: NotRequired[str]
    repeat_count: NotRequired[str]
    media: NotRequired[dict[str, LanguageText]]
    tags: NotRequired[Tags]
    extra: NotRequired[dict[str, str]]
    children: NotRequired[list[Element]]


class FormDefinition(TypedDict):
    form_id: str
    title: str
    default_language: str
    languages: list[str]
    children: list[Element]
    choices: dict[str, list[Choice]]
    version_label: NotRequired[str]
    settings: NotRequired[dict[str, str]]


ElementKind = Literal["input", "structure", "display", "computed", "metadata"]

ELEMENT_DEFAULTS: dict[str, Any] = {
    "label": {},
    "hint": {},
    "required": False,
    "required_message": {},
    "relevant": "",
    "constraint": "",
    "constraint_message": {},
    "calculation": "",
    "default": "",
    "read_only": False,
    "appearance": "",
    "parameters": "",
    "list_name": "",
    "choice_filter": "",
    "repeat_count": "",
    "media": {},
    "tags": {},
    "extra": {},
}


def element_kind(element_type: str) -> ElementKind:
    if element_type in STRUCTURE_TYPES:
        return "structure"
    if element_type in DISPLAY_TYPES:
        return "display"
    if element_type in COMPUTED_TYPES:
        return "computed"
    if element_type in METADATA_TYPES:
        return "metadata"
    return "input"


def walk(
    elements: list[Element], parents: tuple[Element, ...] = ()
) -> Iterator[tuple[Element, tuple[Element, ...]]]:
    """Every element depth-first, with the groups and repeats that contain it."""
    for element in elements:
        yield element, parents
        if element["type"] in STRUCTURE_TYPES:
            yield from walk(element.get("children", []), (*parents, element))


def questions(definition: FormDefinition) -> list[Element]:
    """Elements that carry a value: inputs, calculations and metadata (no groups or notes)."""
    return [
        element
        for element, _ in walk(definition["children"])
        if element_kind(element["type"]) in ("input", "computed", "metadata")
    ]


def count_questions(definition: FormDefinition) -> int:
    return len(questions(definition))


def elements_by_name(definition: FormDefinition) -> dict[str, Element]:
    return {element["name"]: element for element, _ in walk(definition["children"])}


def language_code(language: str) -> str:
    """The language code of an XLSForm language key: 'English (en)' -> 'en', 'english' -> 'en'.

    Unknown legacy names give '' (the collection app then falls back to the interface language).
    """
    match = _LANGUAGE_CODE.search(language)
    if match:
        return match.group(1).lower()
    return _LEGACY_NAMES.get(language.strip().lower(), "")


def is_right_to_left(language: str) -> bool:
    return language_code(language).split("-")[0] in _RTL_CODES


def text_in(texts: LanguageText | None, language: str, fallback: str = "") -> str:
    """The text in `language`, else in `fallback`, else any text there is."""
    if not texts:
        return ""
    if texts.get(language):
        return texts[language]
    if fallback and texts.get(fallback):
        return texts[fallback]
    return next((text for text in texts.values() if text), "")


def is_sensitive(element: Element) -> bool:
    return bool(element.get("tags", {}).get("sensitive"))


def compact(definition: FormDefinition) -> FormDefinition:
    """The definition with every empty or default value left out, the shape stored.

    Builders and API clients may send `"hint": {}` or `"required": false`; the
    XLSForm reader leaves such keys out. Storing one shape means a form that is
    exported and imported again compares equal to the stored one.
    """
    result: dict[str, Any] = {
        key: value
        for key, value in definition.items()
        if key not in ("children", "choices", "settings") and value not in ("", None)
    }
    result["settings"] = dict(definition.get("settings") or {})
    result["choices"] = {
        list_name: [_compact_choice(choice) for choice in choices]
        for list_name, choices in definition["choices"].items()
    }
    result["children"] = [_compact_element(element) for element in definition["children"]]
    return result  # type: ignore[return-value]


def _compact_element(element: Element) -> Element:
    compacted: dict[str, Any] = {}
    for key, value in element.items():
        if key == "children":
            compacted["children"] = [_compact_element(child) for child in value]  # type: ignore[attr-defined]
        elif key in ELEMENT_DEFAULTS and value == ELEMENT_DEFAULTS[key]:
            continue
        elif isinstance(value, dict) and key != "tags":
            cleaned = {k: v for k, v in value.items() if v not in ("", None, {})}
            if cleaned:
                compacted[key] = cleaned
        elif key == "tags":
            tags = {k: v for k, v in value.items() if v not in ("", None, [], False)}  # type: ignore[attr-defined]
            if tags:
                compacted["tags"] = tags
        else:
            compacted[key] = value
    return compacted  # type: ignore[return-value]


def _compact_choice(choice: Choice) -> Choice:
    compacted: dict[str, Any] = {"name": choice["name"], "label": dict(choice.get("label") or {})}
    for key in ("media", "extra"):
        value = choice.get(key)
        if value:
            compacted[key] = value
    return compacted  # type: ignore[return-value]
