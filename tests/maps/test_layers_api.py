"""The map layer API as a viewer, a researcher, a lead and an outsider meet it: refusals first."""

from __future__ import annotations

from typing import Any

import h3
import pytest
from django.test import Client

from incity.accounts.models import AuditEvent, AuditKind, User
from incity.surveys.models import Form
from tests.maps.fixtures import CLUSTER, STRAY, riverton_form
from tests.personas import Cast, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(cast: Cast) -> Form:
    return riverton_form(cast)


def _get(user: User | None, form: Form, path: str) -> Any:
    headers = bearer(user) if user is not None else {}
    return Client().get(f"/api/v1/forms/{form.pk}/layers/{path}", headers=headers)


def _raw_reads() -> int:
    return AuditEvent.objects.filter(kind=AuditKind.RAW_READ, action="maps.raw_read").count()


# --- refusals --------------------------------------------------------------------------


def test_an_anonymous_request_is_refused_with_401(form: Form) -> None:
    assert _get(None, form, "hexagons").status_code == 401


def test_another_citys_lead_cannot_tell_the_form_exists(cast: Cast, form: Form) -> None:
    response = _get(cast.outsider, form, "hexagons")
    assert response.status_code == 404
    assert response.json()["message"] == f"No form {form.pk} among yours."


def test_another_citys_lead_gets_404_for_raw_points_and_nothing_is_audited(
    cast: Cast, form: Form
) -> None:
    assert _get(cast.outsider, form, "points?scope=raw").status_code == 404
    assert _raw_reads() == 0


def test_a_viewer_asking_for_raw_hexagons_is_forbidden(cast: Cast, form: Form) -> None:
    assert _get(cast.viewer, form, "hexagons?scope=raw").status_code == 403
    assert _raw_reads() == 0


def test_a_partner_cannot_read_raw_points(cast: Cast, form: Form) -> None:
    assert _get(cast.partner, form, "points?scope=raw").status_code == 403


def test_points_are_never_published(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "points")
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "scope"


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("category=lost", "category", "'lost' is not a category of 'places'"),
        ("time=dawn", "time", "'dawn' is not a time of day"),
        ("resolution=12", "resolution", "from 7 to 10, not 12"),
        ("resolution=6", "resolution", "from 7 to 10, not 6"),
        ("question=comment", "question", "'comment' is not a map question"),
        ("question=nothing", "question", "'nothing' is not a map question"),
        ("group=tenure", "group", "QUESTION=LEVEL"),
        ("group=tenure=castle", "group", "'castle' is not a choice of 'tenure'"),
        ("group=colour=red", "group", "'colour' is not a choice question"),
        ("group=born_here=maybe", "group", "'maybe' is not a choice of 'born_here'"),
        ("since=2026-02-01&until=2026-01-01", "since", "is after 'until'"),
    ],
)
def test_bad_parameters_are_refused_with_the_parameter_named(
    cast: Cast, form: Form, query: str, field: str, words: str
) -> None:
    response = _get(cast.viewer, form, f"hexagons?{query}")
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["extra"]["field"] == field
    assert words in body["message"]


def test_a_bad_date_is_refused_naming_the_parameter(cast: Cast, form: Form) -> None:
    response = _get(cast.viewer, form, "hexagons?since=yesterday")
    assert response.status_code == 422
    assert "since" in response.json()["extra"]["field"]


def test_an_unknown_image_format_is_refused(cast: Cast, form: Form) -> None:
    response = _get(cast.viewer, form, "hexagons.gif")
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "format"


def test_an_image_of_raw_data_is_refused(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "hexagons.png?scope=raw")
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "scope"


def test_areas_are_refused_when_the_project_has_none(cast: Cast) -> None:
    from tests.surveys.forms import published_form

    form = published_form(cast)
    response = _get(cast.viewer, form, "areas")
    assert response.status_code == 409
    assert "no areas" in response.json()["message"]


# --- acceptances ----------------------------------------------------------------------


def _features(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {feature["id"]: feature["properties"] for feature in body["features"]}


def test_a_viewer_sees_the_cluster_and_not_the_stray_marks(cast: Cast, form: Form) -> None:
    response = _get(cast.viewer, form, "hexagons?resolution=9")
    assert response.status_code == 200
    body = response.json()
    cluster = h3.latlng_to_cell(CLUSTER[1], CLUSTER[0], 9)
    stray = h3.latlng_to_cell(STRAY[1], STRAY[0], 9)
    cells = _features(body)
    assert set(cells) == {cluster}
    assert cells[cluster]["total"] == 12
    assert cells[cluster]["counts"] == {"safe": 0, "unsafe": 12}
    assert cells[cluster]["balance"] == -1.0
    assert stray not in cells
    assert body["disclosure"]["cells_suppressed_small"] == 1
    assert "at least 10 marks" in body["disclosure"]["note"]
    assert body["layer"]["is_synthetic"] is False or body["layer"]["is_synthetic"] is True


def test_filters_by_time_of_day_and_group(cast: Cast, form: Form) -> None:
    by_day = _features(_get(cast.viewer, form, "hexagons?resolution=9&time=day").json())
    assert by_day == {}
    owners = _features(_get(cast.viewer, form, "hexagons?resolution=9&group=tenure=owner").json())
    assert owners == {}
    social = _get(cast.viewer, form, "hexagons?resolution=9&group=tenure=social_rent&time=night")
    assert [p["total"] for p in _features(social.json()).values()] == [12]


def test_the_category_filter_sets_the_value(cast: Cast, form: Form) -> None:
    body = _get(cast.viewer, form, "hexagons?resolution=9&category=safe").json()
    assert [p["value"] for p in _features(body).values()] == [0]


def test_a_date_window_that_excludes_everything_publishes_nothing(cast: Cast, form: Form) -> None:
    body = _get(cast.viewer, form, "hexagons?until=2000-01-01").json()
    assert body["features"] == []


def test_the_raw_layer_has_exact_counts_and_is_audited(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "hexagons?resolution=9&scope=raw")
    assert response.status_code == 200
    totals = sorted(p["total"] for p in _features(response.json()).values())
    assert totals == [3, 12]
    assert _raw_reads() == 1
    event = AuditEvent.objects.get(kind=AuditKind.RAW_READ, action="maps.raw_read")
    assert event.actor == cast.researcher
    assert event.detail["layer"] == "hexagons"


def test_raw_points_are_every_mark_and_audited(cast: Cast, form: Form) -> None:
    body = _get(cast.researcher, form, "points?scope=raw&category=safe").json()
    assert len(body["features"]) == 3
    assert body["features"][0]["geometry"]["coordinates"] == [STRAY[0], STRAY[1]]
    assert body["features"][0]["properties"]["time_of_day"] == "day"
    assert _raw_reads() == 1


def test_the_area_choropleth_hides_the_small_neighbourhood(cast: Cast, form: Form) -> None:
    body = _get(cast.viewer, form, "areas").json()
    areas = {f["properties"]["area"]: f["properties"] for f in body["features"]}
    assert areas["Riverton North"]["counts"]["unsafe"] == 12
    assert areas["Riverton South"]["total"] is None
    assert areas["Riverton South"]["suppressed"]


def test_hotspots_need_three_published_cells_and_say_so(cast: Cast, form: Form) -> None:
    body = _get(cast.viewer, form, "hotspots?resolution=9").json()
    assert body["features"] == []
    assert "too few for Gi*" in body["disclosure"]["note"]


def test_a_warm_request_is_answered_from_the_cache(cast: Cast, form: Form) -> None:
    first = _get(cast.viewer, form, "hexagons?resolution=9").json()
    assert _get(cast.viewer, form, "hexagons?resolution=9").json() == first
