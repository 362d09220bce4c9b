"""XLSForm sheet, column and type names and what incity calls them, and cell-text helpers."""

from __future__ import annotations

import re

from pyxform.question_type_dictionary import QUESTION_TYPE_DICT

SURVEY = "survey"
CHOICES = "choices"
SETTINGS = "settings"
MAP_MARKS = "map_marks"
TIME_OF_DAY_LIST = "incity_time_of_day"

_TRANSLATED_FIELDS = ("label", "hint", "required_message", "constraint_message")
_MEDIA_KINDS = ("image", "big-image", "audio", "video")
_PLAIN_FIELDS = (
    "relevant",
    "constraint",
    "calculation",
    "default",
    "appearance",
    "parameters",
    "choice_filter",
    "repeat_count",
)
_TAG_COLUMNS = {
    "incity_domains": "domains",
    "incity_module": "module",
    "incity_source_survey": "source_survey",
    "incity_source_variable": "source_variable",
    "incity_sensitive": "sensitive",
}

# Survey column headers (snake-cased, lower-cased; "::" between tokens) -> incity field.
_SURVEY_COLUMNS: dict[str, str] = {
    "type": "type",
    "command": "type",
    "name": "name",
    "tag": "name",
    "value": "name",
    "label": "label",
    "caption": "label",
    "hint": "hint",
    "required": "required",
    "bind::required": "required",
    "required_message": "required_message",
    "requiredmsg": "required_message",
    "bind::jr:requiredmsg": "required_message",
    "relevant": "relevant",
    "relevance": "relevant",
    "bind::relevant": "relevant",
    "constraint": "constraint",
    "bind::constraint": "constraint",
    "constraint_message": "constraint_message",
    "constraining_message": "constraint_message",
    "bind::jr:constraintmsg": "constraint_message",
    "calculation": "calculation",
    "calculate": "calculation",
    "bind::calculate": "calculation",
    "default": "default",
    "read_only": "read_only",
    "readonly": "read_only",
    "bind::readonly": "read_only",
    "appearance": "appearance",
    "control::appearance": "appearance",
    "body::appearance": "appearance",
    "parameters": "parameters",
    "choice_filter": "choice_filter",
    "repeat_count": "repeat_count",
    "count": "repeat_count",
    "jr:count": "repeat_count",
    "control::jr:count": "repeat_count",
    "body::jr:count": "repeat_count",
    "disabled": "disabled",
    "incity_type": "incity_type",
    **{column: column for column in _TAG_COLUMNS},
    **{kind: f"media:{kind}" for kind in _MEDIA_KINDS},
    **{f"media::{kind}": f"media:{kind}" for kind in _MEDIA_KINDS},
}
_CHOICE_COLUMNS: dict[str, str] = {
    "list_name": "list_name",
    "name": "name",
    "value": "name",
    "label": "label",
    "caption": "label",
    **{kind: f"media:{kind}" for kind in _MEDIA_KINDS},
    **{f"media::{kind}": f"media:{kind}" for kind in _MEDIA_KINDS},
}
_TRANSLATED_COLUMNS = frozenset({*_TRANSLATED_FIELDS, *(f"media:{kind}" for kind in _MEDIA_KINDS)})
# pyxform translates these too; incity keeps them in `extra` but counts their languages.
_TRANSLATED_EXTRA = frozenset({"guidance_hint"})

_YES = frozenset({"yes", "true", "true()"})
_NO = frozenset({"no", "false", "false()"})

# Every question type name pyxform accepts for a type incity models -> incity's name.
_TYPE_ALIASES: dict[str, str] = {
    **{name: name for name in ("text", "integer", "decimal", "range", "date", "time")},
    **{name: name for name in ("geopoint", "geotrace", "geoshape", "barcode", "acknowledge")},
    **{name: name for name in ("image", "audio", "video", "file", "note", "calculate")},
    **{name: name for name in ("hidden", "start", "end", "today", "deviceid", "username")},
    **{name: name for name in ("email", "phonenumber", "subscriberid", "simserial", "audit")},
    **{name: name for name in ("start-geopoint", "background-audio", "datetime")},
    "string": "text",
    "q string": "text",
    "add text prompt": "text",
    "int": "integer",
    "q int": "integer",
    "add integer prompt": "integer",
    "q decimal": "decimal",
    "add decimal prompt": "decimal",
    "q date": "date",
    "add date prompt": "date",
    "dateTime": "datetime",
    "date time": "datetime",
    "q dateTime": "datetime",
    "q date time": "datetime",
    "add dateTime prompt": "datetime",
    "add date time prompt": "datetime",
    "gps": "geopoint",
    "location": "geopoint",
    "q geopoint": "geopoint",
    "q location": "geopoint",
    "add location prompt": "geopoint",
    "q geotrace": "geotrace",
    "q geoshape": "geoshape",
    "q barcode": "barcode",
    "add barcode prompt": "barcode",
    "trigger": "acknowledge",
    "q acknowledge": "acknowledge",
    "add acknowledge prompt": "acknowledge",
    "photo": "image",
    "q image": "image",
    "q picture": "image",
    "add image prompt": "image",
    "add photo prompt": "image",
    "q audio": "audio",
    "add audio prompt": "audio",
    "q video": "video",
    "add video prompt": "video",
    "add file prompt": "file",
    "q note": "note",
    "add note prompt": "note",
    "q calculate": "calculate",
    "add calculate prompt": "calculate",
    "start time": "start",
    "get start time": "start",
    "end time": "end",
    "get end time": "end",
    "get today": "today",
    "imei": "deviceid",
    "device id": "deviceid",
    "get device id": "deviceid",
    "uri:deviceid": "deviceid",
    "uri:username": "username",
    "uri:email": "email",
    "phone number": "phonenumber",
    "get phone number": "phonenumber",
    "uri:phonenumber": "phonenumber",
    "subscriber id": "subscriberid",
    "get subscriber id": "subscriberid",
    "uri:subscriberid": "subscriberid",
    "sim id": "simserial",
    "get sim id": "simserial",
    "uri:simserial": "simserial",
}
# Select commands (followed by a list name) -> incity's type. Longest first when matching.
_SELECT_COMMANDS: dict[str, str] = {
    "select_one": "select_one",
    "select one": "select_one",
    "select1": "select_one",
    "select one from": "select_one",
    "add select one prompt using": "select_one",
    "select_multiple": "select_multiple",
    "select all that apply": "select_multiple",
    "select all that apply from": "select_multiple",
    "add select multiple prompt using": "select_multiple",
    "rank": "rank",
    "select_one_from_file": "select_one_from_file",
    "select one from file": "select_one_from_file",
    "select_multiple_from_file": "select_multiple_from_file",
    "select multiple from file": "select_multiple_from_file",
}
_FILE_SELECTS = frozenset({"select_one_from_file", "select_multiple_from_file"})
_LIST_SELECTS = frozenset({"select_one", "select_multiple", "rank"})
_SELECT_FILE_EXTENSIONS = (".csv", ".xml", ".geojson")
_OR_OTHER = frozenset({"or_other", "or other", "or specify other"})
_BEGIN_END = re.compile(
    r"^(?P<action>begin|end)[ _](?P<kind>group|repeat|lgroup|looped group|loop)"
    r"(?:\s+(?:over\s+)?(?P<list>\S+))?$"
)
# Types pyxform knows that incity does not model: refused with a clear word.
_UNSUPPORTED_TYPES = frozenset(
    {*QUESTION_TYPE_DICT, "select_one_external", "begin loop", "begin_loop"}
) - set(_TYPE_ALIASES)
_KNOWN_TYPE_WORDS = sorted(
    {*_TYPE_ALIASES, *_SELECT_COMMANDS, "begin_group", "end_group", "begin_repeat", "end_repeat"}
)

# The fixed questions of a map-marks repeat, and the ODK geometry type per mark kind.
_MARK_CHILDREN = ("category", "geometry", "time_of_day", "comment")
_GEOMETRY_TYPES = {"point": "geopoint", "line": "geotrace", "polygon": "geoshape"}
_GEOMETRY_KINDS = {odk: kind for kind, odk in _GEOMETRY_TYPES.items()}
_MARK_LABELS = {
    "category": "Category",
    "geometry": "Place on the map",
    "time_of_day": "Time of day",
    "comment": "Comment",
}
_TIME_OF_DAY_LABELS = {"day": "Day", "evening": "Evening", "night": "Night"}
# Control characters xlsx cannot hold (the writer drops them too).
_ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _clean(value: object) -> str:
    """A cell as text the way it reads back from any format: one kind of newline, no
    non-breaking spaces or control characters (xlsx cannot hold them), no outer spaces."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    return _ILLEGAL_CHARACTERS.sub("", text).strip()


def _clean_header(value: object) -> str:
    return " ".join(_clean(value).split())


def _snake(token: str) -> str:
    return "_".join(token.split()).lower()


def _yes_no(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    return None


def _parameters(text: str) -> dict[str, str]:
    """'key=value' pairs as pyxform splits them (spaces, commas or semicolons between)."""
    pairs: dict[str, str] = {}
    for token in re.split(r"[\s,;]+", text.strip()):
        key, sep, value = token.partition("=")
        if sep:
            pairs[key.lower()] = value
    return pairs


def _safe_name(stem: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "form"
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"
