"""Validation of submitted answers against a form definition, and the typed answer table.

Answers are keyed by element name (see `definition.py`): groups are transparent,
a repeat's answer is a list of objects keyed the same way, a map_marks answer is
a list of marks. `validate_answers()` checks and normalises them; every error is
keyed by the path of the answer it concerns:

    "age"                          a question
    "household[2].member_age"      a question in the 2nd entry of a repeat (1-based)
    "household[2]"                 a repeat entry itself
    "places[1].category"           a field of the 1st mark of a map_marks answer
    "__all__"                      the answers as a whole (not an object)

Order of work: (1) each answer's type is checked and normalised (integers to
int, decimals to float, ODK geo strings to GeoJSON, ODK space-separated
multiple choices to lists); (2) calculations are computed; (3) relevance,
required answers, constraints, choice filters and repeat counts are checked
against the normalised answers. All errors are collected, none stops the rest.

`typed_values()` flattens normalised answers into rows for the typed answer
table, and `split_sensitive()` / `merge_sensitive()` take the sensitive answers
out (to be stored encrypted) and put them back.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from incity.surveys import expressions
from incity.surveys.definition import (
    COMPUTED_TYPES,
    DISPLAY_TYPES,
    INPUT_TYPES,
    METADATA_TYPES,
    TIMES_OF_DAY,
    Choice,
    Element,
    FormDefinition,
    is_sensitive,
    text_in,
)
from incity.surveys.expressions import EvalContext, ExpressionError

__all__ = [
    "PreparedForm",
    "TypedValue",
    "ValidationResult",
    "merge_sensitive",
    "parse_range_parameters",
    "prepare",
    "split_sensitive",
    "typed_values",
    "validate_answers",
]

FORM_ERROR_KEY = "__all__"
MAX_GEOMETRY_POSITIONS = 10_000
# A place described in words instead of drawn (the text alternative to every map question).
MAX_PLACE_DESCRIPTION = 1000
MAX_FILE_NAME = 255
# Integers beyond this lose precision in the typed table (a float column) and in JavaScript.
MAX_INTEGER = 2**53
MARK_KEYS = ("geometry", "place", "description", "category", "time_of_day", "comment")
_RANGE_DEFAULT_START = 1.0  # pyxform's default `start` for a range question

_INTEGER = re.compile(r"-?[0-9]{1,16}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(
    r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?"
)
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}.*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REQUIRED_WORDS = frozenset({"yes", "true", "true()", "1"})
_NOT_REQUIRED_WORDS = frozenset({"", "no", "false", "false()", "0"})

_INVALID: Any = object()
Scope = tuple[tuple[str, int], ...]  # the repeat entries an answer is in: (repeat, 0-based index)


class _Invalid(Exception):
    """An answer of the wrong shape; the message is the error shown for its path."""


# ------------------------------------------------------------------------ results


@dataclass(frozen=True)
class ValidationResult:
    answers: dict[str, Any]  # normalised; invalid, unknown and non-applicable answers left out
    errors: dict[str, str]  # path -> message

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class TypedValue:
    path: str  # "age", "household[2].member_age", "places[1]"
    name: str  # the element's name
    repeat_path: str  # "" at the top level, else "household[2]"
    kind: str  # 'text' | 'number' | 'date' | 'choice' | 'geometry'
    text: str | None = None
    number: float | None = None
    date: str | None = None  # ISO date or date-time
    geometry: dict[str, Any] | None = None  # GeoJSON
    lat: float | None = None
    lon: float | None = None


# ------------------------------------------------------------------- the prepared form


@dataclass(eq=False)
class _Field:
    name: str
    type: str
    element: Element
    repeats: tuple[str, ...]  # the repeats containing it, outermost first
    conditions: tuple[str, ...]  # relevant expressions: its groups' (outermost first), then its own
    sensitive: bool  # tagged sensitive, itself or through a containing group or repeat
    container: _Container | None = None  # a repeat's questions
    choices: dict[str, Choice] | None = None  # select and map_marks lists, by choice name
    rows: tuple[tuple[str, dict[str, str]], ...] = ()  # (name, choice-filter row)


@dataclass(eq=False)
class _Container:
    """The answers at one level: the top level, or one entry of a repeat (groups flattened)."""

    repeat: str  # "" at the top level
    fields: dict[str, _Field] = field(default_factory=dict)


@dataclass(eq=False)
class PreparedForm:
    """What validation needs from a definition, computed once (see `prepare`)."""

    definition: FormDefinition
    top: _Container
    fields: dict[str, _Field]  # every element but groups, by name
    groups: dict[str, tuple[str, ...]]  # group name -> the repeats containing it
    repeats_of: dict[str, tuple[str, ...]]  # element name -> containing repeats (for expressions)
    calculates: list[_Field]  # in dependency order
    sensitive_names: frozenset[str]
    language: str


_PREPARED: OrderedDict[tuple[Any, ...], tuple[FormDefinition, PreparedForm]] = OrderedDict()
_PREPARED_LOCK = threading.Lock()
_PREPARED_SIZE = 32


def prepare(definition: FormDefinition | PreparedForm) -> PreparedForm:
    """Index a definition for validation (a PreparedForm is returned as it is).

    The last few definitions prepared are remembered together with a copy of each, and
    one equal to a remembered copy (compared with ==, which is fast) is not indexed
    again: validating, splitting and typing one submission, or a batch of them, indexes
    the form once, even when each call loads the definition afresh. A definition changed
    in place no longer equals its copy, so it is indexed anew.
    """
    if isinstance(definition, PreparedForm):
        return definition
    try:
        key = (
            definition.get("form_id"),
            definition.get("version_label"),
            len(definition["children"]),
        )
    except (AttributeError, KeyError, TypeError):
        return _prepare(definition)
    with _PREPARED_LOCK:
        cached = _PREPARED.get(key)
        if cached is not None and cached[0] == definition:
            _PREPARED.move_to_end(key)
            return cached[1]
    snapshot = copy.deepcopy(definition)
    prepared = _prepare(snapshot)
    with _PREPARED_LOCK:
        _PREPARED[key] = (snapshot, prepared)
        _PREPARED.move_to_end(key)
        while len(_PREPARED) > _PREPARED_SIZE:
            _PREPARED.popitem(last=False)
    return prepared


def _prepare(definition: FormDefinition) -> PreparedForm:
    language = definition.get("default_language", "") or ""
    choices = definition.get("choices") or {}
    top = _Container("")
    fields: dict[str, _Field] = {}
    groups: dict[str, tuple[str, ...]] = {}
    repeats_of: dict[str, tuple[str, ...]] = {}
    sensitive_groups: set[str] = set()

    def visit(
        elements: list[Element],
        container: _Container,
        repeats: tuple[str, ...],
        conditions: tuple[str, ...],
        sensitive: bool,
        depth: int,
    ) -> None:
        if depth > 50:  # far deeper than any form; refuse to recurse into absurd definitions
            return
        for element in elements:
            if not isinstance(element, Mapping):
                continue
            name = element.get("name")
            kind = element.get("type")
            if not isinstance(name, str) or not isinstance(kind, str):
                continue
            relevant = element.get("relevant") or ""
            own = (
                (*conditions, relevant)
                if isinstance(relevant, str) and relevant.strip()
                else conditions
            )
            secret = sensitive or is_sensitive(element)
            repeats_of[name] = repeats
            children = element.get("children") or []
            if kind == "group":
                groups[name] = repeats
                if secret:
                    sensitive_groups.add(name)
                visit(children, container, repeats, own, secret, depth + 1)
                continue
            item = _Field(name, kind, element, repeats, own, secret)
            list_name = element.get("list_name") or ""
            entries = choices.get(list_name) if isinstance(list_name, str) else None
            if isinstance(entries, list):
                item.choices = {
                    choice["name"]: choice
                    for choice in entries
                    if isinstance(choice, Mapping) and isinstance(choice.get("name"), str)
                }
                item.rows = tuple(
                    (choice_name, _choice_row(choice, language))
                    for choice_name, choice in item.choices.items()
                )
            container.fields.setdefault(name, item)
            fields.setdefault(name, item)
            if kind == "repeat":
                item.container = _Container(name)
                visit(children, item.container, (*repeats, name), own, secret, depth + 1)

    visit(definition.get("children") or [], top, (), (), False, 0)
    calculates = _calculation_order([f for f in fields.values() if f.type == "calculate"])
    sensitive_names = frozenset(name for name, item in fields.items() if item.sensitive)
    return PreparedForm(
        definition,
        top,
        fields,
        groups,
        repeats_of,
        calculates,
        sensitive_names | sensitive_groups,
        language,
    )


def _choice_row(choice: Choice, language: str) -> dict[str, str]:
    row: dict[str, str] = {}
    extra = choice.get("extra")
    if isinstance(extra, Mapping):
        row.update({key: value for key, value in extra.items() if isinstance(value, str)})
    row["name"] = choice["name"]
    row.setdefault("label", text_in(choice.get("label"), language))
    return row


def _calculation_order(calculates: list[_Field]) -> list[_Field]:
    """Calculations before the calculations that use them (document order otherwise)."""
    by_name = {item.name: item for item in calculates}
    needs: dict[str, set[str]] = {}
    for item in calculates:
        try:
            refs = expressions.references(item.element.get("calculation") or "")
        except ExpressionError:
            refs = frozenset()
        needs[item.name] = {ref for ref in refs if ref in by_name and ref != item.name}
    ordered: list[_Field] = []
    done: set[str] = set()
    while len(ordered) < len(calculates):
        progress = False
        for item in calculates:
            if item.name not in done and needs[item.name] <= done:
                ordered.append(item)
                done.add(item.name)
                progress = True
        if not progress:  # a cycle (formcheck reports it): keep document order for the rest
            ordered.extend(item for item in calculates if item.name not in done)
            break
    return ordered


# ------------------------------------------------------------------ value checkers


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any, item: _Field) -> str:
    if not isinstance(value, str):
        raise _Invalid(_("Expected text."))
    return value


def _integer(value: Any, item: _Field) -> int:
    if isinstance(value, bool):
        raise _Invalid(_("Expected a whole number."))
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value):
        number = int(value)
    else:
        raise _Invalid(_("Expected a whole number."))
    if abs(number) > MAX_INTEGER:
        raise _Invalid(_("The number is too large."))
    return number


def _finite_number(value: Any) -> float:
    if isinstance(value, bool):
        raise _Invalid(_("Expected a number."))
    if isinstance(value, int):
        if abs(value) > 10**300:
            raise _Invalid(_("The number is too large."))
        return float(value)
    if isinstance(value, float):
        number = value
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = float(value)
    else:
        raise _Invalid(_("Expected a number."))
    if not math.isfinite(number):
        raise _Invalid(_("Expected a finite number."))
    return number


def _decimal(value: Any, item: _Field) -> float:
    return _finite_number(value)


def parse_range_parameters(text: str) -> dict[str, float]:
    """The `parameters` of a range question ('start=1 end=5 step=1'); raises ValueError."""
    numeric = {"start", "end", "step", "tick_interval", "placeholder"}
    found: dict[str, float] = {}
    for part in re.split(r"[\s;,]+", text.strip()):
        if not part:
            continue
        key, sep, raw = part.partition("=")
        key = key.strip().lower()
        if not sep:
            raise ValueError(f"'{part}' is not key=value")
        if key == "tick_labelset":
            continue
        if key not in numeric:
            raise ValueError(f"'{key}' is not a range parameter (start, end, step)")
        try:
            number = float(raw.strip()) if _DECIMAL.fullmatch(raw.strip()) else math.nan
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ValueError(f"'{part}' needs a number")
        found[key] = number
    if "step" in found and found["step"] <= 0:
        raise ValueError("step must be greater than 0")
    return found


def _range(value: Any, item: _Field) -> int | float:
    number = _finite_number(value)
    try:
        parameters = parse_range_parameters(item.element.get("parameters") or "")
    except ValueError:
        parameters = {}  # formcheck reports the parameters; check what can be checked
    start, end, step = parameters.get("start"), parameters.get("end"), parameters.get("step")
    if start is not None and end is not None:
        low, high = min(start, end), max(start, end)
        if not low <= number <= high:
            raise _Invalid(
                _("Expected a number from %(low)s to %(high)s.")
                % {"low": _show(low), "high": _show(high)}
            )
    elif start is not None and number < start:
        raise _Invalid(_("Expected a number of at least %(low)s.") % {"low": _show(start)})
    elif end is not None and number > end:
        raise _Invalid(_("Expected a number of at most %(high)s.") % {"high": _show(end)})
    if step is not None:
        base = start if start is not None else _RANGE_DEFAULT_START
        steps = (number - base) / step
        if abs(steps - round(steps)) > 1e-9 * max(1.0, abs(steps)):
            raise _Invalid(
                _("Expected a number in steps of %(step)s from %(start)s.")
                % {"step": _show(step), "start": _show(base)}
            )
    integral = all(p is None or float(p).is_integer() for p in (start, end, step))
    if integral and number.is_integer():
        return int(number)
    return number


def _show(number: float) -> str:
    return expressions.number_to_string(number)


def _choice_name(value: Any, item: _Field) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(_("Expected the name of a choice."))
    return value


def _in_list(name: str, item: _Field) -> None:
    if item.choices is not None and name not in item.choices:
        raise _Invalid(_("'%(name)s' is not one of the choices.") % {"name": _clip(name)})


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _select_one(value: Any, item: _Field) -> str:
    name = _choice_name(value, item)
    _in_list(name, item)
    return name


def _names(value: Any, item: _Field) -> list[str]:
    if isinstance(value, str):
        names = value.split()
    elif isinstance(value, list):
        names = [_choice_name(entry, item) for entry in value]
    else:
        raise _Invalid(_("Expected a list of choice names."))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise _Invalid(_("'%(name)s' is chosen more than once.") % {"name": _clip(name)})
        seen.add(name)
        if item.type in ("select_multiple", "rank") and any(char.isspace() for char in name):
            raise _Invalid(_("'%(name)s' is not one of the choices.") % {"name": _clip(name)})
        _in_list(name, item)
    return names


def _rank(value: Any, item: _Field) -> list[str]:
    names = _names(value, item)
    if item.choices is not None and not (item.element.get("choice_filter") or "").strip():
        _check_ranking(names, list(item.choices))
    return names


def _check_ranking(names: list[str], expected: list[str]) -> None:
    missing = [name for name in expected if name not in names]
    extra = [name for name in names if name not in expected]
    if missing or extra:
        detail = ", ".join(_clip(name, 30) for name in (missing or extra)[:10])
        if missing:
            raise _Invalid(
                _("Expected every choice ranked once; missing: %(names)s.") % {"names": detail}
            )
        raise _Invalid(
            _("Expected only the available choices; not available: %(names)s.") % {"names": detail}
        )


def _date(value: Any, item: _Field) -> str:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _Invalid(_("Expected a date as YYYY-MM-DD."))
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise _Invalid(_("'%(value)s' is not a real date.") % {"value": value}) from None
    return value


def _time(value: Any, item: _Field) -> str:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise _Invalid(_("Expected a time as HH:MM or HH:MM:SS."))
    return value


def _datetime(value: Any, item: _Field) -> str:
    if not isinstance(value, str) or not _DATETIME.fullmatch(value) or len(value) > 40:
        raise _Invalid(_("Expected a date and time in ISO 8601 (YYYY-MM-DDTHH:MM:SS)."))
    try:
        dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise _Invalid(
            _("'%(value)s' is not a real date and time.") % {"value": _clip(value)}
        ) from None
    return value


def _acknowledge(value: Any, item: _Field) -> str:
    if value is True or value == "OK":
        return "OK"
    raise _Invalid(_('Expected "OK" or true.'))


def _file_name(value: Any, item: _Field) -> str:
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_FILE_NAME
        or "/" in value
        or "\\" in value
        or value in (".", "..")
        or _CONTROL.search(value)
    ):
        raise _Invalid(_("Expected the name of an attached file."))
    return value


def _scalar(value: Any, item: _Field) -> str:
    """A calculated or hidden value: text, or a number or true/false written as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        return expressions.node_string(value)
    if _is_number(value):
        return expressions.node_string(value)
    raise _Invalid(_("Expected text or a number."))


# -- geometry


def _position(value: Any) -> list[float]:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise _Invalid(
            _("Expected a position [longitude, latitude] or [longitude, latitude, altitude].")
        )
    if not all(_is_number(part) and math.isfinite(part) for part in value):
        raise _Invalid(_("Expected a position made of finite numbers."))
    lon, lat = float(value[0]), float(value[1])
    if not -180.0 <= lon <= 180.0:
        raise _Invalid(_("The longitude %(lon)s is outside -180 to 180.") % {"lon": _show(lon)})
    if not -90.0 <= lat <= 90.0:
        raise _Invalid(_("The latitude %(lat)s is outside -90 to 90.") % {"lat": _show(lat)})
    return [lon, lat] if len(value) == 2 else [lon, lat, float(value[2])]


def _odk_point(text: str) -> list[float]:
    parts = text.split()
    if not 2 <= len(parts) <= 4 or not all(_DECIMAL.fullmatch(part) for part in parts):
        raise _Invalid(_("Expected a point as 'latitude longitude altitude accuracy'."))
    numbers = [float(part) for part in parts]
    position = [numbers[1], numbers[0]] + ([numbers[2]] if len(numbers) > 2 else [])
    return _position(position)


def _odk_points(text: str) -> list[list[float]]:
    points = [part for part in (piece.strip() for piece in text.split(";")) if part]
    if len(points) > MAX_GEOMETRY_POSITIONS:
        raise _Invalid(_("The shape has too many points."))
    return [_odk_point(point) for point in points]


def _geojson(value: Any, kind: str) -> dict[str, Any]:
    if (
        not isinstance(value, dict)
        or value.get("type") != kind
        or set(value) != {"type", "coordinates"}
    ):
        raise _Invalid(
            _('Expected a GeoJSON %(kind)s: {"type": "%(kind)s", "coordinates": [...]}.')
            % {"kind": kind}
        )
    return value


def _line(positions: Any) -> list[list[float]]:
    if not isinstance(positions, list) or len(positions) < 2:
        raise _Invalid(_("A line needs at least 2 points."))
    if len(positions) > MAX_GEOMETRY_POSITIONS:
        raise _Invalid(_("The line has too many points."))
    return [_position(position) for position in positions]


def _ring(positions: Any) -> list[list[float]]:
    if not isinstance(positions, list) or len(positions) < 4:
        raise _Invalid(_("An area needs at least 4 points, the last equal to the first."))
    if len(positions) > MAX_GEOMETRY_POSITIONS:
        raise _Invalid(_("The area has too many points."))
    ring = [_position(position) for position in positions]
    if ring[0][:2] != ring[-1][:2]:
        raise _Invalid(_("An area must end where it starts (its first and last points equal)."))
    return ring


def _described(value: Any) -> dict[str, Any] | None:
    """`{"description": "..."}`: the place in words, for someone who cannot use the map."""
    if not isinstance(value, dict) or set(value) != {"description"}:
        return None
    text = value["description"]
    if not isinstance(text, str) or not text.strip():
        raise _Invalid(_("Describe the place in a few words, or mark it on the map."))
    if len(text) > MAX_PLACE_DESCRIPTION:
        raise _Invalid(
            _("The description is longer than %(max)d characters.") % {"max": MAX_PLACE_DESCRIPTION}
        )
    return {"description": text.strip()}


def _geopoint(value: Any, item: _Field | None = None) -> dict[str, Any]:
    described = _described(value)
    if described is not None:
        return described
    if isinstance(value, str):
        return {"type": "Point", "coordinates": _odk_point(value)}
    point = _geojson(value, "Point")
    return {"type": "Point", "coordinates": _position(point["coordinates"])}


def _geotrace(value: Any, item: _Field | None = None) -> dict[str, Any]:
    described = _described(value)
    if described is not None:
        return described
    if isinstance(value, str):
        return {"type": "LineString", "coordinates": _line(_odk_points(value))}
    line = _geojson(value, "LineString")
    return {"type": "LineString", "coordinates": _line(line["coordinates"])}


def _geoshape(value: Any, item: _Field | None = None) -> dict[str, Any]:
    described = _described(value)
    if described is not None:
        return described
    if isinstance(value, str):
        return {"type": "Polygon", "coordinates": [_ring(_odk_points(value))]}
    polygon = _geojson(value, "Polygon")
    rings = polygon["coordinates"]
    if not isinstance(rings, list) or not rings:
        raise _Invalid(_("An area needs at least one ring of points."))
    return {"type": "Polygon", "coordinates": [_ring(ring) for ring in rings]}


def _mark_geometry(value: Any) -> dict[str, Any]:
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "Point":
        return _geopoint(value)
    if kind == "LineString":
        return _geotrace(value)
    if kind == "Polygon":
        return _geoshape(value)
    raise _Invalid(_("Expected a GeoJSON Point, LineString or Polygon."))


_CHECKERS: dict[str, Any] = {
    "text": _text,
    "barcode": _text,
    "integer": _integer,
    "decimal": _decimal,
    "range": _range,
    "select_one": _select_one,
    "select_one_from_file": _select_one,
    "select_multiple": _names,
    "select_multiple_from_file": _names,
    "rank": _rank,
    "date": _date,
    "time": _time,
    "datetime": _datetime,
    "geopoint": _geopoint,
    "geotrace": _geotrace,
    "geoshape": _geoshape,
    "acknowledge": _acknowledge,
    "image": _file_name,
    "audio": _file_name,
    "video": _file_name,
    "file": _file_name,
    "calculate": _scalar,
    "hidden": _scalar,
    "start": _datetime,
    "end": _datetime,
    "today": _date,
    "deviceid": _text,
    "username": _text,
    "email": _text,
    "phonenumber": _text,
    "subscriberid": _text,
    "simserial": _text,
    "audit": _file_name,
    "background-audio": _file_name,
    "start-geopoint": _geopoint,
}
_LIST_TYPES = frozenset(
    {"select_multiple", "select_multiple_from_file", "rank", "map_marks", "repeat"}
)


def _is_empty(value: Any, kind: str) -> bool:
    if value is None or value == "":
        return True
    return value == [] and kind in _LIST_TYPES


# --------------------------------------------------------------------- validation


class _Run:
    """One validation: the normalised answers so far, the errors, the expression context."""

    def __init__(self, form: PreparedForm) -> None:
        self.form = form
        self.errors: dict[str, str] = {}
        self.answers: dict[str, Any] = {}
        now = dt.datetime.now(dt.UTC)
        # today() is the latest calendar date anywhere on Earth, so that a rule such as
        # `. <= today()` never refuses a date that is already today where it was answered.
        self.context = EvalContext(
            self.answers,
            repeats=form.repeats_of,
            choice_label=self.choice_label,
            now=now,
            today=(now + dt.timedelta(hours=14)).date(),
        )
        self.relevance: dict[tuple[str, tuple[tuple[str, int], ...]], bool] = {}
        # Names with a refused answer, and repeat entries that were not objects: rules that
        # depend on them cannot be judged, so they add no further errors of their own.
        self.invalid: dict[str, list[Scope]] = {}
        self.invalid_entries: set[str] = set()

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def choice_label(self, value: str, question: str) -> str:
        item = self.form.fields.get(question)
        if item is None or item.choices is None:
            return value
        labels = []
        for name in value.split():
            choice = item.choices.get(name)
            labels.append(
                text_in(choice.get("label"), self.form.language) or name if choice else name
            )
        return " ".join(labels)

    # -- 1. shapes and types

    def normalise(
        self, container: _Container, data: Mapping[Any, Any], prefix: str, scope: Scope = ()
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in data.items():
            path = f"{prefix}{key}"
            item = container.fields.get(key) if isinstance(key, str) else None
            if item is None:
                self.error(path, self.misplaced(container, key))
                continue
            if item.type in DISPLAY_TYPES:
                self.error(path, _("This is a note: it takes no answer."))
                continue
            if _is_empty(value, item.type):
                continue
            if item.type == "repeat":
                entries = self.normalise_repeat(item, value, path, scope)
                if entries is not _INVALID:
                    out[key] = entries
                else:
                    self.invalid.setdefault(key, []).append(scope)
                continue
            if item.type == "map_marks":
                marks = self.normalise_marks(item, value, path)
                if marks is not _INVALID:
                    out[key] = marks
                else:
                    self.invalid.setdefault(key, []).append(scope)
                continue
            checker = _CHECKERS.get(item.type)
            if checker is None:  # an unknown type: formcheck refuses it; keep text as text
                checker = _scalar
            try:
                out[key] = checker(value, item)
            except _Invalid as problem:
                self.error(path, str(problem))
                self.invalid.setdefault(key, []).append(scope)
        return out

    def misplaced(self, container: _Container, key: Any) -> str:
        form = self.form
        if not isinstance(key, str):
            return _("This is not a question of this form.")
        if key in form.groups:
            return _("This is a group, not a question: give the answers to its questions directly.")
        item = form.fields.get(key)
        if item is None:
            return _("This is not a question of this form.")
        if item.repeats:
            return _("This question belongs inside each entry of the repeat '%(repeat)s'.") % {
                "repeat": item.repeats[-1]
            }
        return _("This question is not part of the repeat '%(repeat)s'.") % {
            "repeat": container.repeat
        }

    def normalise_repeat(self, item: _Field, value: Any, path: str, scope: Scope) -> Any:
        if not isinstance(value, list):
            self.error(path, _("Expected a list of entries (objects)."))
            return _INVALID
        assert item.container is not None
        entries: list[dict[str, Any]] = []
        for position, entry in enumerate(value, start=1):
            entry_path = f"{path}[{position}]"
            if not isinstance(entry, dict):
                self.error(entry_path, _("Expected an object of answers."))
                entries.append({})  # keep the positions of the other entries
                self.invalid_entries.add(entry_path)
                continue
            entries.append(
                self.normalise(
                    item.container, entry, entry_path + ".", (*scope, (item.name, position - 1))
                )
            )
        return entries

    def normalise_marks(self, item: _Field, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            self.error(path, _("Expected a list of map marks."))
            return _INVALID
        marks: list[dict[str, Any]] = []
        valid = True
        for position, mark in enumerate(value, start=1):
            mark_path = f"{path}[{position}]"
            normalised = self.normalise_mark(item, mark, mark_path)
            if normalised is None:
                valid = False
            else:
                marks.append(normalised)
        return marks if valid else _INVALID

    def normalise_mark(self, item: _Field, mark: Any, path: str) -> dict[str, Any] | None:
        if not isinstance(mark, dict):
            self.error(
                path,
                _(
                    "Expected a map mark: an object with a category and a geometry, place or description."
                ),
            )
            return None
        before = len(self.errors)
        out: dict[str, Any] = {}
        for key, value in mark.items():
            if key not in MARK_KEYS:
                self.error(
                    f"{path}.{key}",
                    _("Not a field of a map mark (%(keys)s).") % {"keys": ", ".join(MARK_KEYS)},
                )
                continue
            if value is None or value == "":
                continue
            try:
                if key == "geometry":
                    out[key] = _mark_geometry(value)
                elif key == "category":
                    out[key] = _select_one(value, item)
                elif key == "time_of_day":
                    if value not in TIMES_OF_DAY:
                        raise _Invalid(
                            _("Expected one of %(times)s.") % {"times": ", ".join(TIMES_OF_DAY)}
                        )
                    out[key] = value
                else:
                    out[key] = _text(value, item)
            except _Invalid as problem:
                self.error(f"{path}.{key}", str(problem))
        if not any(mark.get(key) not in (None, "") for key in ("geometry", "place", "description")):
            self.error(path, _("A map mark needs a geometry, a place or a description."))
        if mark.get("category") in (None, ""):
            self.error(f"{path}.category", _("A map mark needs a category."))
        return out if len(self.errors) == before else None

    # -- 2. calculations

    def calculate(self) -> None:
        # A calculation is computed here whenever everything it refers to is answered and
        # it does not depend on the moment or on chance (now(), today(), random(), uuid(),
        # once()). The computed value is stored whatever the client sent: a value sent for
        # a calculation is never an error, because clients differ in how they write numbers
        # ('3' or '3.0'); a value the client sent is kept only when the server cannot
        # compute one. A calculation that does not apply (relevant false) is dropped.
        for item in self.form.calculates:
            expression = item.element.get("calculation") or ""
            for scope, data in self.entries(item.repeats):
                context = self.context.derive(scope=scope)
                path = _path(scope, item.name)
                if not self.applies(item, scope, path):
                    data.pop(item.name, None)
                    continue
                if not expression.strip() or not self.computable(expression, context):
                    continue
                try:
                    value = expressions.evaluate(expression, context)
                except ExpressionError as problem:
                    self.error(
                        path,
                        _("The calculation could not be made: %(problem)s") % {"problem": problem},
                    )
                    continue
                data[item.name] = expressions.to_string(value)
        self.relevance.clear()

    def computable(self, expression: str, context: EvalContext) -> bool:
        try:
            if expressions.is_volatile(expression):
                return False
            references = expressions.references(expression)
        except ExpressionError:
            return False
        for name in references:
            item = self.form.fields.get(name)
            if item is None:
                if name in self.form.groups:
                    continue
                return False
            if item.type in ("repeat", "map_marks") or context.is_aggregate(name):
                continue
            nodes = context.resolve(name)
            if not nodes or nodes[0] == "":
                return False
        return True

    def entries(
        self, repeats: tuple[str, ...]
    ) -> list[tuple[tuple[tuple[str, int], ...], dict[str, Any]]]:
        level: list[tuple[tuple[tuple[str, int], ...], dict[str, Any]]] = [((), self.answers)]
        for repeat in repeats:
            deeper: list[tuple[tuple[tuple[str, int], ...], dict[str, Any]]] = []
            for scope, data in level:
                entries = data.get(repeat)
                if isinstance(entries, list):
                    deeper.extend(
                        ((*scope, (repeat, index)), entry)
                        for index, entry in enumerate(entries)
                        if isinstance(entry, dict)
                    )
            level = deeper
        return level

    # -- 3. relevance, required, constraints, choice filters, repeat counts

    def applies(self, item: _Field, scope: tuple[tuple[str, int], ...], path: str) -> bool:
        return self.failing_condition(item, scope, path) is None

    def failing_condition(
        self, item: _Field, scope: tuple[tuple[str, int], ...], path: str
    ) -> str | None:
        """The relevant expression (its own or a group's) that rules the element out, or None."""
        for condition in item.conditions:
            key = (condition, scope)
            result = self.relevance.get(key)
            if result is None:
                try:
                    result = expressions.truthy(
                        expressions.evaluate(condition, self.context.derive(scope=scope))
                    )
                except ExpressionError as problem:
                    self.error(
                        path,
                        _("The form's rule %(rule)s could not be checked: %(problem)s")
                        % {"rule": condition, "problem": problem},
                    )
                    result = True
                self.relevance[key] = result
            if not result:
                return condition
        return None

    def check(
        self,
        container: _Container,
        data: dict[str, Any],
        scope: tuple[tuple[str, int], ...],
        prefix: str,
    ) -> None:
        for item in container.fields.values():
            kind = item.type
            if kind in DISPLAY_TYPES or kind == "calculate":  # calculations: see calculate()
                continue
            name = item.name
            path = prefix + name
            present = name in data
            failing = self.failing_condition(item, scope, path)
            if failing is not None:
                if present and not self.undecidable(failing, scope):
                    self.error(
                        path,
                        _(
                            "answered, but this question does not apply given the other answers (relevant: %(relevant)s)"
                        )
                        % {"relevant": failing},
                    )
                    del data[name]
                continue
            if kind == "repeat":
                self.check_repeat(item, data, scope, path)
                continue
            if not present:
                if kind in INPUT_TYPES and self.required(item, scope, path):
                    message = text_in(item.element.get("required_message"), self.form.language)
                    self.error(path, message or _("This question needs an answer."))
                continue
            value = data[name]
            choice_filter = (item.element.get("choice_filter") or "").strip()
            if (
                item.choices is not None
                and choice_filter
                and not self.undecidable(choice_filter, scope)
                and not self.check_filtered(item, value, scope, path)
            ):
                del data[name]
                continue
            constraint = item.element.get("constraint") or ""
            if (
                constraint.strip()
                and kind not in METADATA_TYPES
                and not self.undecidable(constraint, scope)
            ):
                try:
                    passed = expressions.truthy(
                        expressions.evaluate(
                            constraint, self.context.derive(scope=scope, current=value)
                        )
                    )
                except ExpressionError as problem:
                    self.error(
                        path,
                        _("The form's rule %(rule)s could not be checked: %(problem)s")
                        % {"rule": constraint, "problem": problem},
                    )
                    continue
                if not passed:
                    message = text_in(item.element.get("constraint_message"), self.form.language)
                    self.error(
                        path,
                        message
                        or _("The answer does not meet the rule %(rule)s.") % {"rule": constraint},
                    )

    def check_repeat(
        self, item: _Field, data: dict[str, Any], scope: tuple[tuple[str, int], ...], path: str
    ) -> None:
        entries = data.get(item.name) or []
        count_expression = (item.element.get("repeat_count") or "").strip()
        if count_expression:
            try:
                wanted = expressions.to_number(
                    expressions.evaluate(count_expression, self.context.derive(scope=scope))
                )
            except ExpressionError as problem:
                self.error(
                    path,
                    _("The form's rule %(rule)s could not be checked: %(problem)s")
                    % {"rule": count_expression, "problem": problem},
                )
                wanted = math.nan
            if (
                math.isfinite(wanted)
                and int(wanted) != len(entries)
                and not self.undecidable(count_expression, scope)
            ):
                self.error(
                    path,
                    _("Expected %(wanted)s entries (repeat_count: %(rule)s), got %(count)s.")
                    % {
                        "wanted": max(int(wanted), 0),
                        "rule": count_expression,
                        "count": len(entries),
                    },
                )
        assert item.container is not None
        for index, entry in enumerate(entries):
            if isinstance(entry, dict) and f"{path}[{index + 1}]" not in self.invalid_entries:
                self.check(
                    item.container, entry, (*scope, (item.name, index)), f"{path}[{index + 1}]."
                )

    def undecidable(self, expression: str, scope: Scope) -> bool:
        """Whether `expression`, evaluated in `scope`, sees an answer that was refused
        (so that it cannot be judged, and adds no error of its own)."""
        if not self.invalid:
            return False
        try:
            references = expressions.references(expression)
        except ExpressionError:
            return False
        for name in references:
            for where in self.invalid.get(name, ()):
                if _visible(where, scope):
                    return True
        return False

    def required(self, item: _Field, scope: tuple[tuple[str, int], ...], path: str) -> bool:
        required = item.element.get("required", False)
        if isinstance(required, bool):
            return required
        if not isinstance(required, str):
            return bool(required)
        word = required.strip().lower()
        if word in _REQUIRED_WORDS:
            return True
        if word in _NOT_REQUIRED_WORDS:
            return False
        try:
            return expressions.truthy(
                expressions.evaluate(required, self.context.derive(scope=scope))
            )
        except ExpressionError:
            return True

    def check_filtered(
        self, item: _Field, value: Any, scope: tuple[tuple[str, int], ...], path: str
    ) -> bool:
        expression = item.element.get("choice_filter") or ""
        context = self.context.derive(scope=scope)
        available: list[str] = []
        try:
            for name, row in item.rows:
                if expressions.truthy(expressions.evaluate(expression, context.derive(row=row))):
                    available.append(name)
        except ExpressionError as problem:
            self.error(
                path,
                _("The form's rule %(rule)s could not be checked: %(problem)s")
                % {"rule": expression, "problem": problem},
            )
            return False
        allowed = set(available)

        def refuse(name: str, where: str) -> bool:
            self.error(
                where,
                _(
                    "'%(name)s' is not one of the choices available given the other answers (choice_filter: %(rule)s)."
                )
                % {"name": _clip(name), "rule": expression},
            )
            return False

        if item.type == "map_marks":
            ok = True
            for position, mark in enumerate(value, start=1):
                category = mark.get("category")
                if isinstance(category, str) and category not in allowed:
                    ok = refuse(category, f"{path}[{position}].category") and ok
            return ok
        if isinstance(value, list):
            for name in value:
                if name not in allowed:
                    return refuse(name, path)
            if item.type == "rank":
                try:
                    _check_ranking(value, available)
                except _Invalid as problem:
                    self.error(path, str(problem))
                    return False
            return True
        if value not in allowed:
            return refuse(str(value), path)
        return True


def _visible(where: Scope, scope: Scope) -> bool:
    """Whether an answer in the repeat entry `where` is seen from `scope`: from inside the
    same repeat only that entry's answers are, from outside all entries' are."""
    for (repeat, index), (here, position) in zip(where, scope, strict=False):
        if repeat != here:
            return True
        if index != position:
            return False
    return True


def _path(scope: tuple[tuple[str, int], ...], name: str) -> str:
    return "".join(f"{repeat}[{index + 1}]." for repeat, index in scope) + name


def validate_answers(
    definition: FormDefinition | PreparedForm, answers: dict[str, Any]
) -> ValidationResult:
    """Check and normalise one submission's answers; never raises for any JSON-like input."""
    form = prepare(definition)
    run = _Run(form)
    if not isinstance(answers, Mapping):
        return ValidationResult(
            {}, {FORM_ERROR_KEY: _("The answers must be an object keyed by question name.")}
        )
    run.answers.update(run.normalise(form.top, answers, ""))
    run.calculate()
    run.check(form.top, run.answers, (), "")
    return ValidationResult(run.answers, run.errors)


# ------------------------------------------------------------------ typed answers


def typed_values(
    definition: FormDefinition | PreparedForm, answers: dict[str, Any]
) -> Iterator[TypedValue]:
    """Rows for the typed answer table from normalised answers (see `validate_answers`).

    Notes, groups and sensitive elements are skipped. select_multiple and rank give a
    row per choice (a rank's position in `number`); map_marks a row per mark (path
    'places[1]', category in `text`, kind 'geometry', or 'choice' for a mark with
    only a place or description); a calculation a 'number' when its value reads as
    one, else 'text'.
    """
    form = prepare(definition)
    if isinstance(answers, Mapping):
        yield from _typed(form.top, answers, "", "")


def _typed(
    container: _Container, data: Mapping[str, Any], repeat_path: str, prefix: str
) -> Iterator[TypedValue]:
    for item in container.fields.values():
        if item.sensitive or item.type in DISPLAY_TYPES or item.name not in data:
            continue
        value = data[item.name]
        if value is None:
            continue
        path = prefix + item.name
        if item.type == "repeat":
            if isinstance(value, list) and item.container is not None:
                for position, entry in enumerate(value, start=1):
                    if isinstance(entry, Mapping):
                        entry_path = f"{path}[{position}]"
                        yield from _typed(item.container, entry, entry_path, entry_path + ".")
            continue
        yield from _typed_field(item, value, path, repeat_path)


def _typed_field(item: _Field, value: Any, path: str, repeat_path: str) -> Iterator[TypedValue]:
    kind = item.type
    name = item.name
    if kind in ("integer", "decimal", "range"):
        if _is_number(value):
            yield TypedValue(path, name, repeat_path, "number", number=float(value))
    elif kind in ("date", "today", "datetime", "start", "end"):
        if isinstance(value, str):
            yield TypedValue(path, name, repeat_path, "date", date=value)
    elif kind in ("select_one", "select_one_from_file"):
        yield TypedValue(path, name, repeat_path, "choice", text=expressions.node_string(value))
    elif kind in ("select_multiple", "select_multiple_from_file", "rank"):
        names = (
            value.split() if isinstance(value, str) else value if isinstance(value, list) else []
        )
        for position, choice in enumerate(names, start=1):
            if isinstance(choice, str):
                yield TypedValue(
                    path, name, repeat_path, "choice", text=choice,
                    number=float(position) if kind == "rank" else None,
                )  # fmt: skip
    elif kind in ("geopoint", "geotrace", "geoshape", "start-geopoint"):
        if isinstance(value, dict) and "description" in value:
            yield TypedValue(path, name, repeat_path, "text", text=str(value["description"]))
        elif isinstance(value, dict):
            lat, lon = _representative(value)
            yield TypedValue(path, name, repeat_path, "geometry", geometry=value, lat=lat, lon=lon)
    elif kind == "map_marks":
        for position, mark in enumerate(value if isinstance(value, list) else [], start=1):
            if not isinstance(mark, Mapping):
                continue
            geometry = mark.get("geometry") if isinstance(mark.get("geometry"), dict) else None
            lat, lon = _representative(geometry) if geometry else (None, None)
            category = mark.get("category")
            yield TypedValue(
                f"{path}[{position}]",
                name,
                repeat_path,
                "geometry" if geometry else "choice",
                text=category if isinstance(category, str) else None,
                geometry=geometry,
                lat=lat,
                lon=lon,
            )
    elif kind in COMPUTED_TYPES:
        text = expressions.node_string(value)
        number = float(text) if _DECIMAL.fullmatch(text) else math.nan
        if math.isfinite(number):
            yield TypedValue(path, name, repeat_path, "number", text=text, number=number)
        else:
            yield TypedValue(path, name, repeat_path, "text", text=text)
    elif not isinstance(value, dict | list):
        yield TypedValue(path, name, repeat_path, "text", text=expressions.node_string(value))


def _representative(geometry: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """(lat, lon) of a point, else the mean of a line's or an area's outer ring's vertices."""
    coordinates = geometry.get("coordinates")
    kind = geometry.get("type")
    try:
        if kind == "Point":
            return float(coordinates[1]), float(coordinates[0])  # type: ignore[index]
        if kind == "LineString":
            positions = list(coordinates)  # type: ignore[arg-type]
        elif kind == "Polygon":
            ring = list(coordinates[0])  # type: ignore[index]
            positions = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
        else:
            return None, None
        if not positions:
            return None, None
        lat = math.fsum(float(p[1]) for p in positions) / len(positions)
        lon = math.fsum(float(p[0]) for p in positions) / len(positions)
        return lat, lon
    except (TypeError, ValueError, IndexError, KeyError):
        return None, None


# ---------------------------------------------------------------- sensitive answers

_PATH_STEP = re.compile(r"([^\[\]]+)\[([0-9]+)\]\.(.+)", re.DOTALL)


def split_sensitive(
    definition: FormDefinition | PreparedForm,
    answers: dict[str, Any],
    extra_sensitive: frozenset[str],
    *,
    copy_values: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the answers without sensitive values, the sensitive values keyed by path).

    Sensitive: elements tagged sensitive (or inside a group or repeat tagged so) and
    names in `extra_sensitive`. Inside repeats the plain part keeps the structure
    and the value goes under its path ("household[2].status"); a sensitive repeat
    goes whole under its name. `merge_sensitive()` puts everything back.
    `copy_values=False` shares nested values with `answers` (for answers just
    validated, which nothing else holds: a batch spends a fifth of its split on copies).
    """
    form = prepare(definition)
    secret = set(form.sensitive_names) | set(extra_sensitive)
    for name in extra_sensitive:
        item = form.fields.get(name)
        if name in form.groups or (item is not None and item.type == "repeat"):
            secret.update(_descendants(form.definition.get("children") or [], name))
    sensitive: dict[str, Any] = {}
    if not isinstance(answers, Mapping):
        return answers, sensitive
    plain = _split(form, answers, "", frozenset(secret), sensitive, _copy if copy_values else _same)
    return plain, sensitive


def _descendants(children: list[Element], name: str) -> set[str]:
    found: set[str] = set()
    stack: list[tuple[list[Element], bool]] = [(children, False)]
    while stack:
        elements, inside = stack.pop()
        for element in elements:
            if not isinstance(element, Mapping):
                continue
            here = inside or element.get("name") == name
            if inside and isinstance(element.get("name"), str):
                found.add(element["name"])
            if isinstance(element.get("children"), list):
                stack.append((element["children"], here))
    return found


def _split(
    form: PreparedForm,
    data: Mapping[str, Any],
    prefix: str,
    secret: frozenset[str],
    sensitive: dict[str, Any],
    keep: Callable[[Any], Any],
) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(key, str) and key in secret and "[" not in key and "]" not in key:
            sensitive[prefix + key] = keep(value)
            continue
        item = form.fields.get(key) if isinstance(key, str) else None
        if item is not None and item.type == "repeat" and isinstance(value, list):
            plain[key] = [
                _split(form, entry, f"{prefix}{key}[{position}].", secret, sensitive, keep)
                if isinstance(entry, Mapping)
                else keep(entry)
                for position, entry in enumerate(value, start=1)
            ]
        else:
            plain[key] = keep(value)
    return plain


def _same(value: Any) -> Any:
    return value


def _copy(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float):
        return value
    return copy.deepcopy(value)


def merge_sensitive(plain: dict[str, Any], sensitive: dict[str, Any]) -> dict[str, Any]:
    """The answers `split_sensitive()` split: `plain` with the sensitive values put back."""
    merged = copy.deepcopy(plain)
    for path, value in sensitive.items():
        target: Any = merged
        rest = path
        while True:
            step = _PATH_STEP.fullmatch(rest)
            if step is None:
                break
            repeat, position, rest = step[1], int(step[2]), step[3]
            entries = target.setdefault(repeat, [])
            if not isinstance(entries, list):
                break
            while len(entries) < position:
                entries.append({})
            target = entries[position - 1]
            if not isinstance(target, dict):
                break
        if isinstance(target, dict):
            target[rest] = copy.deepcopy(value)
    return merged
