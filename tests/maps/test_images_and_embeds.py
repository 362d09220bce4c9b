"""Static images, embed tokens and the embed page: refusals first."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from PIL import Image

from incity.accounts.models import AuditEvent
from incity.maps.models import EmbeddedMap
from incity.surveys.models import Form
from tests.maps.fixtures import STRAY, riverton_form
from tests.personas import Cast, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(cast: Cast) -> Form:
    return riverton_form(cast)


def _embed(cast: Cast, form: Form, **body: object) -> object:
    return Client().post(
        f"/api/v1/forms/{form.pk}/embeds",
        data={"kind": "hexagons", "resolution": 9, **body},
        content_type="application/json",
        headers=bearer(cast.lead),
    )


def test_a_viewer_cannot_create_an_embed(cast: Cast, form: Form) -> None:
    response = Client().post(
        f"/api/v1/forms/{form.pk}/embeds",
        data={"kind": "hexagons"},
        content_type="application/json",
        headers=bearer(cast.viewer),
    )
    assert response.status_code == 403
    assert not EmbeddedMap.objects.exists()


def test_an_outsider_cannot_create_an_embed(cast: Cast, form: Form) -> None:
    response = Client().post(
        f"/api/v1/forms/{form.pk}/embeds",
        data={"kind": "hexagons"},
        content_type="application/json",
        headers=bearer(cast.outsider),
    )
    assert response.status_code == 404


def test_an_embed_of_raw_points_is_refused(cast: Cast, form: Form) -> None:
    response = _embed(cast, form, kind="points")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert not EmbeddedMap.objects.exists()


def test_an_embed_with_a_bad_category_is_refused(cast: Cast, form: Form) -> None:
    response = _embed(cast, form, category="lost")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert not EmbeddedMap.objects.exists()


def test_an_unknown_token_answers_404() -> None:
    assert Client().get("/maps/embed/nothing-here/").status_code == 404


def test_the_embed_lifecycle(cast: Cast, form: Form) -> None:
    created = _embed(cast, form, title="Unsafe places")
    assert created.status_code == 201  # type: ignore[attr-defined]
    body = created.json()  # type: ignore[attr-defined]
    assert "<iframe" in body["iframe"]
    assert AuditEvent.objects.filter(action="maps.embed_create").count() == 1
    page = Client().get(f"/maps/embed/{body['token']}/")
    assert page.status_code == 200
    assert "X-Frame-Options" not in page.headers
    html = page.content.decode()
    assert "Unsafe places" in html
    assert str(STRAY[0]) not in html
    assert str(STRAY[1]) not in html
    assert "-1.9," not in html  # the cluster's exact point is not there either
    # The outsider cannot switch it off; the lead can, and then it is gone.
    outsider = Client().post(f"/api/v1/embeds/{body['id']}/disable", headers=bearer(cast.outsider))
    assert outsider.status_code == 404
    disabled = Client().post(f"/api/v1/embeds/{body['id']}/disable", headers=bearer(cast.lead))
    assert disabled.status_code == 200
    assert Client().get(f"/maps/embed/{body['token']}/").status_code == 404


def test_other_pages_still_refuse_framing(cast: Cast) -> None:
    assert Client().get("/healthz").headers.get("X-Frame-Options") == "DENY"


def test_the_png_is_a_valid_image(cast: Cast, form: Form) -> None:
    response = Client().get(
        f"/api/v1/forms/{form.pk}/layers/hexagons.png?resolution=9", headers=bearer(cast.viewer)
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(io.BytesIO(response.content)).size[0] > 100


def test_the_svg_parses_and_carries_the_disclosure_note(cast: Cast, form: Form) -> None:
    response = Client().get(
        f"/api/v1/forms/{form.pk}/layers/hexagons.svg?resolution=9&measure=balance",
        headers=bearer(cast.viewer),
    )
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag.endswith("svg")


def test_the_hotspot_png_renders(cast: Cast, form: Form) -> None:
    response = Client().get(
        f"/api/v1/forms/{form.pk}/layers/hotspots.png", headers=bearer(cast.viewer)
    )
    assert response.status_code == 200
    assert response.content[:4] == b"\x89PNG"
