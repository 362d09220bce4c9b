"""Checking and normalising one answer by its question's type (`CHECKERS`)."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from django.utils.translation import gettext as _

from incity.surveys import expressions
from incity.surveys.validation.form import _Field

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
# Types whose empty list is no answer (None and "" are no answer to any question).
_LIST_TYPES = frozenset(
    {"select_multiple", "select_multiple_from_file", "rank", "map_marks", "repeat"}
)
