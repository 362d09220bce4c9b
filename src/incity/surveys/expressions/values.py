"""The values an expression computes (`NodeSet`, `Value`) and XPath's conversions between them.

Every other module of the package builds on these, so they sit apart with no
imports from the package: `to_number`, `to_string`, `truthy` and `node_string`
are also used directly by validation and the demo.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeAlias


class ExpressionError(ValueError):
    """An expression that cannot be parsed (or, rarely, evaluated); the message is one line."""


class NodeSet(tuple[str, ...]):
    """The string values of the nodes a reference selects, in document order."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"NodeSet({tuple(self)!r})"


Value: TypeAlias = "str | float | bool | NodeSet"

NAN = float("nan")
_EMPTY_NODE = NodeSet(("",))
_NO_NODES = NodeSet(())


_NUMBER = re.compile(r"[ \t\r\n]*(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))[ \t\r\n]*")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T.+")
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9](?:\.[0-9]+)?))?(.*)")
_EPOCH = dt.date(1970, 1, 1)
_EPOCH_DATETIME = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_XPATH_SPACE = re.compile(r"[ \t\r\n]+")


def number_to_string(number: float) -> str:
    """XPath's string() of a number: no exponent, no trailing '.0'."""
    if number != number:
        return "NaN"
    if number in (math.inf, -math.inf):
        return "Infinity" if number > 0 else "-Infinity"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = repr(number)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def _parse_date(text: str) -> dt.date | None:
    match = _DATE.fullmatch(text.strip())
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _parse_datetime(text: str) -> dt.datetime | None:
    text = text.strip()
    if not _DATETIME.fullmatch(text):
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _string_to_number(text: str) -> float:
    match = _NUMBER.fullmatch(text)
    if match:
        return float(match[1])
    if len(text) >= 10 and text[4:5] == "-":
        date = _parse_date(text)
        if date is not None:
            return float((date - _EPOCH).days)
        moment = _parse_datetime(text)
        if moment is not None:
            return (moment - _EPOCH_DATETIME).total_seconds() / 86400.0
    return NAN


def to_number(value: Value) -> float:
    """XPath number(); date and date-time strings give days since 1970-01-01."""
    if value is True:
        return 1.0
    if value is False:
        return 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, NodeSet):
        return _string_to_number(value[0]) if value else NAN
    if isinstance(value, str):
        return _string_to_number(value)
    if isinstance(value, int):  # pragma: no cover - ints never reach here, but be kind
        return float(value)
    return NAN


def to_string(value: Value) -> str:
    """XPath string(): the first node of a node-set, 'true'/'false', numbers without exponent."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return number_to_string(value)
    if isinstance(value, NodeSet):
        return value[0] if value else ""
    if isinstance(value, int):  # pragma: no cover
        return str(value)
    return ""


def truthy(value: Value) -> bool:
    """XPath boolean(), except that a node-set of one empty node is false (as in JavaRosa)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not (value == 0 or value != value)
    if isinstance(value, NodeSet):
        if len(value) == 1:
            return value[0] != ""
        return len(value) > 0
    if isinstance(value, str):
        return value != ""
    return bool(value)


def _geo_position(position: Any) -> str:
    if not isinstance(position, list) or len(position) < 2:
        return ""
    lon, lat = position[0], position[1]
    alt = position[2] if len(position) > 2 else 0.0
    return " ".join(number_to_string(float(part)) for part in (lat, lon, alt, 0.0))


def _geo_string(value: Mapping[str, Any]) -> str:
    """A GeoJSON geometry as ODK writes it: 'lat lon alt acc' points joined by ';'."""
    kind = value.get("type")
    coordinates = value.get("coordinates")
    try:
        if kind == "Point":
            return _geo_position(coordinates)
        if kind == "LineString" and isinstance(coordinates, list):
            return ";".join(_geo_position(position) for position in coordinates)
        if kind == "Polygon" and isinstance(coordinates, list) and coordinates:
            ring = coordinates[0]
            if isinstance(ring, list):
                return ";".join(_geo_position(position) for position in ring)
    except (TypeError, ValueError):
        return ""
    return ""


def node_string(value: Any) -> str:
    """The string an answer stands for in an expression (what ODK would put in the XML).

    Integers and decimals as XPath numbers, a list of choice names space-separated
    (as ODK sends select_multiple), a GeoJSON geometry as 'lat lon alt acc;...',
    true/false as 'true'/'false', None as ''.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_to_string(value)
    if isinstance(value, list):
        return " ".join(node_string(item) for item in value if not isinstance(item, dict | list))
    if isinstance(value, dict):
        return _geo_string(value)
    return ""


def _nodes_of(value: Any) -> NodeSet:
    if isinstance(value, str):
        return NodeSet((value,))
    if isinstance(value, list) and value and isinstance(value[0], dict):
        # A repeat's instances or a map_marks answer: one node per entry (a mark's
        # node reads as its category, a repeat instance as '').
        return NodeSet(
            item["category"]
            if isinstance(item, dict) and isinstance(item.get("category"), str)
            else ""
            for item in value
        )
    return NodeSet((node_string(value),))
