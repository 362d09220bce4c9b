"""The map context handed to the collection app, area assignment, and the outside-area rule."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from incity.accounts.models import Project
from incity.places.geometry import assign_area
from incity.places.queries import map_context
from incity.places.services import PlaceInput, create_place
from incity.surveys.models import Submission
from tests.personas import SYSTEM, Cast, bearer
from tests.places.geo import riverton_areas
from tests.surveys.forms import good_answers, payload, published_form

pytestmark = pytest.mark.django_db


def _fresh(cast: Cast) -> Project:
    return Project.objects.get(pk=cast.survey.pk)  # no cached area on it


def test_a_project_without_areas_has_no_area_and_no_bounds(cast: Cast) -> None:
    context = map_context(_fresh(cast))
    assert context["area"] is None
    assert context["bounds"] is None
    assert context["plan_image"] is None
    assert context["places"] == []
    assert [c["name"] for c in context["categories"]] == [
        "safe",
        "unsafe",
        "resource",
        "meeting_place",
    ]
    assert context["tile_url"].startswith("https://")
    json.dumps(context)  # JSON-safe, to embed in the page


def test_the_map_context_holds_the_union_of_the_areas_and_the_named_places(cast: Cast) -> None:
    riverton_areas(cast)
    create_place(
        acting_user=None,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        place=PlaceInput(name="Library", kind="service", lon=-1.9, lat=52.46),
    )
    context = map_context(_fresh(cast))
    assert context["area"]["type"] == "Polygon"  # two squares side by side become one
    assert context["bounds"] == [-1.92, 52.45, -1.88, 52.5]
    assert context["area_names"] == ["Riverton North", "Riverton South"]
    assert context["places"] == [
        {
            "id": context["places"][0]["id"],
            "name": "Library",
            "translations": {},
            "kind": "service",
            "lon": -1.9,
            "lat": 52.46,
        }
    ]


def test_the_map_context_api_answers_collectors_and_refuses_other_cities(cast: Cast) -> None:
    riverton_areas(cast)
    url = "/api/v1/projects/riverton-survey/map-context"
    assert Client().get(url, headers=bearer(cast.outsider)).status_code == 404
    assert Client().get(url).status_code == 401
    response = Client().get(url, headers=bearer(cast.fieldworker))
    assert response.status_code == 200
    assert response.json()["area_names"] == ["Riverton North", "Riverton South"]


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [
        ({"type": "Point", "coordinates": [-1.90, 52.49]}, "Riverton North"),
        ({"type": "Point", "coordinates": [-1.90, 52.46]}, "Riverton South"),
        ({"type": "Point", "coordinates": [-1.9202, 52.46]}, "Riverton South"),  # ~14 m out
        ({"type": "Point", "coordinates": [-1.95, 52.46]}, None),
        ({"type": "LineString", "coordinates": [[-1.90, 52.47], [-1.90, 52.49]]}, "Riverton North"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[-1.91, 52.46], [-1.90, 52.46], [-1.90, 52.48], [-1.91, 52.48], [-1.91, 52.46]]
                ],
            },
            "Riverton South",
        ),
    ],
)
def test_answers_are_assigned_to_their_neighbourhood(
    cast: Cast, geometry: dict[str, Any], expected: str | None
) -> None:
    riverton_areas(cast)
    area = assign_area(_fresh(cast), geometry)
    assert (area.name if area else None) == expected


def test_assigning_without_areas_gives_none(cast: Cast) -> None:
    assert assign_area(_fresh(cast), {"type": "Point", "coordinates": [-1.9, 52.46]}) is None


# --- the outside-area rule, through the real submissions API -------------------------


def _submit(cast: Cast, answers: dict[str, Any]) -> Any:
    form = published_form(cast)
    return Client().post(
        f"/api/v1/forms/{form.pk}/submissions",
        payload(answers=answers),
        content_type="application/json",
        headers=bearer(cast.fieldworker),
    )


OUTSIDE = {"type": "Point", "coordinates": [-1.70, 52.48]}


def test_a_mark_outside_the_project_area_is_refused_naming_the_mark(cast: Cast) -> None:
    riverton_areas(cast)
    answers = good_answers()
    answers["places"].append({"geometry": OUTSIDE, "category": "unsafe", "time_of_day": "night"})
    response = _submit(cast, answers)
    assert response.status_code == 422
    errors = response.json()["extra"]["errors"]
    assert list(errors) == ["places[3].geometry"]
    assert errors["places[3].geometry"].startswith(
        "Mark 3 of 'places' is outside the project area (Riverton North, Riverton South)."
    )
    assert Submission.objects.count() == 0


def test_a_line_leaving_the_area_is_refused(cast: Cast) -> None:
    riverton_areas(cast)
    line = {"type": "LineString", "coordinates": [[-1.90, 52.48], [-1.80, 52.48]]}
    answers = good_answers(places=[{"geometry": line, "category": "safe"}])
    response = _submit(cast, answers)
    assert response.status_code == 422
    assert "places[1].geometry" in response.json()["extra"]["errors"]


def test_a_batch_refuses_only_the_submission_with_the_outside_mark(cast: Cast) -> None:
    riverton_areas(cast)
    form = published_form(cast)
    outside = good_answers(places=[{"geometry": OUTSIDE, "category": "safe"}])
    response = Client().post(
        f"/api/v1/forms/{form.pk}/submissions/batch",
        {"submissions": [payload(), payload(answers=outside)]},
        content_type="application/json",
        headers=bearer(cast.fieldworker),
    )
    assert response.status_code == 200, response.json()
    outcomes = [item["outcome"] for item in response.json()["results"]]
    assert outcomes == ["created", "invalid"]
    assert Submission.objects.count() == 1


def test_marks_inside_the_area_and_marks_without_geometry_are_stored(cast: Cast) -> None:
    riverton_areas(cast)
    answers = good_answers()
    answers["places"].append({"place": "Library", "category": "safe"})
    response = _submit(cast, answers)
    assert response.status_code == 201, response.json()


def test_without_areas_no_mark_is_refused_for_its_place(cast: Cast) -> None:
    answers = good_answers(places=[{"geometry": OUTSIDE, "category": "safe"}])
    assert _submit(cast, answers).status_code == 201
