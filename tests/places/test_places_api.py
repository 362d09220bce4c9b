"""Named places and the plan image over the API: refusals first, then what works."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from incity.accounts.models import AuditEvent
from incity.places.models import NamedPlace, PlanImage
from tests.personas import Cast, bearer
from tests.places.geo import riverton_areas

pytestmark = pytest.mark.django_db

PLACES = "/api/v1/projects/riverton-survey/places"
STATION = {"name": "Station square", "kind": "landmark", "lon": -1.89, "lat": 52.48}


def _post(user: Any, body: dict[str, Any], url: str = PLACES) -> Any:
    return Client().post(url, body, content_type="application/json", headers=bearer(user))


# --- named places: refusals -----------------------------------------------------------


@pytest.mark.parametrize("role", ["citizen_researcher", "partner", "viewer"])
def test_roles_that_may_not_edit_cannot_add_a_place(cast: Cast, role: str) -> None:
    response = _post(cast.by_role(role), STATION)
    assert response.status_code == 403
    assert not NamedPlace.objects.exists()


def test_another_citys_lead_gets_404_for_the_places_of_riverton(cast: Cast) -> None:
    place = _post(cast.lead, STATION).json()
    for response in (
        Client().get(PLACES, headers=bearer(cast.outsider)),
        Client().get(f"{PLACES}/{place['id']}", headers=bearer(cast.outsider)),
        _post(cast.outsider, STATION),
        Client().delete(f"{PLACES}/{place['id']}", headers=bearer(cast.outsider)),
    ):
        assert response.status_code == 404
    assert NamedPlace.objects.count() == 1


def test_a_place_of_another_project_answers_404_through_this_one(cast: Cast) -> None:
    theirs = _post(cast.outsider, STATION, "/api/v1/projects/hillside-survey/places").json()
    response = Client().get(f"{PLACES}/{theirs['id']}", headers=bearer(cast.lead))
    assert response.status_code == 404
    assert response.json()["message"] == f"The project has no place {theirs['id']}."


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"name": "  "}, "name", "Give the place a name."),
        ({"kind": "castle"}, "kind", "The kind must be one of"),
        ({"lon": 200.0}, "lon", "lon must be a number from -180 to 180"),
        ({"lat": -91.0}, "lat", "lat must be a number from -90 to 90"),
        ({"translations": {"Deutsch (de)": ""}}, "translations.Deutsch (de)", "1-200 characters"),
    ],
)
def test_a_bad_place_is_refused_naming_the_field(
    cast: Cast, change: dict[str, Any], field: str, words: str
) -> None:
    response = _post(cast.lead, {**STATION, **change})
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == field
    assert words in response.json()["message"]
    assert not NamedPlace.objects.exists()


def test_two_places_with_the_same_name_are_refused(cast: Cast) -> None:
    _post(cast.lead, STATION)
    response = _post(cast.lead, {**STATION, "name": "STATION SQUARE"})
    assert response.status_code == 422
    assert response.json()["message"] == "The project already has a place named 'STATION SQUARE'."


# --- named places: what works -----------------------------------------------------------


def test_a_researcher_adds_edits_and_deletes_a_place_and_each_step_is_audited(cast: Cast) -> None:
    riverton_areas(cast)
    created = _post(cast.researcher, {**STATION, "translations": {"Deutsch (de)": "Bahnhofsplatz"}})
    assert created.status_code == 201
    place = created.json()
    assert place["area"] == "Riverton North"
    assert place["translations"] == {"Deutsch (de)": "Bahnhofsplatz"}

    listing = Client().get(PLACES, headers=bearer(cast.fieldworker))
    assert [row["name"] for row in listing.json()] == ["Station square"]

    edited = Client().put(
        f"{PLACES}/{place['id']}",
        {**STATION, "name": "Library", "kind": "service", "lat": 52.46},
        content_type="application/json",
        headers=bearer(cast.researcher),
    )
    assert edited.status_code == 200
    assert edited.json()["area"] == "Riverton South"

    deleted = Client().delete(f"{PLACES}/{place['id']}", headers=bearer(cast.researcher))
    assert deleted.status_code == 204
    assert not NamedPlace.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="places.")
        .order_by("at", "id")
        .values_list("action", flat=True)
    )[-3:] == ["places.create_place", "places.update_place", "places.delete_place"]


# --- plan image -----------------------------------------------------------------------


def _image(kind: str = "PNG", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 220, 200)).save(buffer, kind)
    return buffer.getvalue()


CORNERS = {"west": -1.92, "south": 52.45, "east": -1.88, "north": 52.50}


def _upload(
    user: Any, data: bytes, name: str = "plan.png", corners: dict[str, float] | None = None
) -> Any:
    upload = SimpleUploadedFile(name, data)
    return Client().post(
        "/api/v1/projects/riverton-survey/plan-image",
        {"file": upload, **CORNERS, **(corners or {})},
        headers=bearer(user),
    )


def test_a_file_that_is_not_an_image_is_refused(cast: Cast) -> None:
    response = _upload(cast.lead, b"GIF89a but not really")
    assert response.status_code == 422
    assert response.json()["message"] == "The file is not a readable PNG or JPEG image."
    assert not PlanImage.objects.exists()


def test_an_image_of_another_format_is_refused(cast: Cast) -> None:
    response = _upload(cast.lead, _image("GIF"), "plan.gif")
    assert response.status_code == 422
    assert response.json()["message"] == "The image is GIF; upload a PNG or JPEG."


def test_a_plan_over_the_size_limit_is_refused(cast: Cast, settings: Any) -> None:
    settings.PLAN_IMAGE_MAX_BYTES = 50
    response = _upload(cast.lead, _image())
    assert response.status_code == 422
    assert "INCITY_PLAN_IMAGE_MAX_MB" in response.json()["message"]


@pytest.mark.parametrize(
    ("corners", "field"),
    [
        ({"east": -1.95}, "east"),
        ({"north": 52.40}, "north"),
        ({"west": -181.0}, "west"),
        ({"south": 52.45, "north": 95.0}, "north"),
        ({"west": -5.0}, "corners"),
    ],
)
def test_bad_corners_are_refused(cast: Cast, corners: dict[str, float], field: str) -> None:
    response = _upload(cast.lead, _image(), corners=corners)
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == field
    assert not PlanImage.objects.exists()


def test_a_viewer_cannot_upload_a_plan(cast: Cast) -> None:
    assert _upload(cast.viewer, _image()).status_code == 403


def test_a_lead_uploads_a_plan_and_its_url_serves_the_image(cast: Cast) -> None:
    data = _image("JPEG")
    response = _upload(cast.lead, data, "plan.jpg")
    assert response.status_code == 201
    plan = response.json()
    assert plan["content_type"] == "image/jpeg"
    assert (plan["width"], plan["height"]) == (40, 30)
    assert plan["bounds"] == [-1.92, 52.45, -1.88, 52.50]
    served = Client().get(plan["url"])
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == data  # type: ignore[attr-defined]
    assert Client().get(plan["url"].replace(plan["url"][-68:-4], "0" * 64)).status_code == 404

    replaced = _upload(cast.lead, _image("PNG"))
    assert replaced.status_code == 201
    assert PlanImage.objects.count() == 1
    assert Client().get(plan["url"]).status_code == 404
