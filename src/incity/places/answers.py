"""Refusing map answers outside a project's area (called while checking a submission).

Only the respondent's own map answers are checked: geopoint, geotrace, geoshape
and each mark of a map_marks answer, at the top level and inside repeats.
`start-geopoint` (where the device was when the form opened) is not: an
interviewer may open a form anywhere. Sensitive answers are checked too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shapely.geometry import shape

from incity.accounts.models import Project
from incity.places.geometry import ProjectArea, outside_message, project_area
from incity.surveys.definition import FormDefinition
from incity.surveys.validation import PreparedForm, prepare

GEOMETRY_QUESTIONS = frozenset({"geopoint", "geotrace", "geoshape"})


def outside_area_errors(
    project: Project, form: FormDefinition | PreparedForm, answers: Mapping[str, Any]
) -> dict[str, str]:
    """Errors keyed like validation's ('places[2].geometry'), one per answer outside the area."""
    area = project_area(project)
    if area is None:
        return {}
    return {
        path: _message(area, path, question)
        for path, question, geometry in _geometries(prepare(form).top, answers, "")
        if not area.covers(shape(geometry))
    }


def _message(area: ProjectArea, path: str, question: str) -> str:
    where = outside_message(area)
    if path.endswith("].geometry"):
        number = path.rsplit("[", 1)[1].split("]", 1)[0]
        return (
            f"Mark {number} of '{question}' is {where}. Mark a place inside the area, or "
            "choose a named place or describe the place instead."
        )
    return (
        f"The place given for '{question}' is {where}. Choose a place inside the area, or "
        "describe the place instead."
    )


def _geometries(
    container: Any, data: Mapping[str, Any], prefix: str
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(error path, question name, GeoJSON) for every map answer in `data`."""
    for item in container.fields.values():
        value = data.get(item.name)
        if value is None:
            continue
        path = prefix + item.name
        if item.type == "repeat" and isinstance(value, list) and item.container is not None:
            for position, entry in enumerate(value, start=1):
                if isinstance(entry, Mapping):
                    yield from _geometries(item.container, entry, f"{path}[{position}].")
        elif item.type in GEOMETRY_QUESTIONS and isinstance(value, dict) and "coordinates" in value:
            # A place described in words ({"description": ...}) has nothing to check.
            yield path, item.name, value
        elif item.type == "map_marks" and isinstance(value, list):
            for position, mark in enumerate(value, start=1):
                if isinstance(mark, Mapping) and isinstance(mark.get("geometry"), dict):
                    yield f"{path}[{position}].geometry", item.name, mark["geometry"]
