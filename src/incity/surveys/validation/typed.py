"""The typed answer table's rows from normalised answers (`typed_values`)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from incity.surveys import expressions
from incity.surveys.definition import COMPUTED_TYPES, DISPLAY_TYPES, FormDefinition
from incity.surveys.validation.form import PreparedForm, TypedValue, _Container, _Field, prepare
from incity.surveys.validation.values import _DECIMAL, _is_number


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
