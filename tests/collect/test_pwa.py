"""The app page, its manifest and the service worker, with the headers installing needs."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from incity.collect import services
from incity.surveys.services import forms as form_services
from tests.collect.helpers import app_url, link_for, published_form
from tests.personas import SYSTEM, Cast, signed_in

pytestmark = pytest.mark.django_db


def test_the_app_sends_anonymous_visitors_to_sign_in(cast: Cast) -> None:
    form = published_form(cast)
    response = Client().get(app_url(form))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_app_refuses_other_tenants_viewers_and_unknown_links(cast: Cast) -> None:
    form = published_form(cast)
    assert signed_in(cast.outsider).get(app_url(form)).status_code == 404
    assert signed_in(cast.viewer).get(app_url(form)).status_code == 403
    assert Client().get(app_url(form) + "?link=guess").status_code == 404


def test_a_switched_off_link_shows_why(cast: Cast) -> None:
    form = published_form(cast)
    link = link_for(cast, form)
    services.disable_public_link(acting_user=cast.lead, origin=SYSTEM, form=form)
    response = Client().get(app_url(form) + f"?link={link.token}")
    assert response.status_code == 403
    assert "switched off" in response.content.decode()


def test_a_closed_form_says_it_takes_no_answers(cast: Cast) -> None:
    form = published_form(cast)
    form_services.set_form_status(
        acting_user=cast.lead, origin=SYSTEM, form_pk=form.pk, status="closed"
    )
    response = signed_in(cast.fieldworker).get(app_url(form))
    assert response.status_code == 409
    assert "closed" in response.content.decode()


def test_the_app_page_links_its_manifest_and_configuration(cast: Cast) -> None:
    form = published_form(cast)
    response = signed_in(cast.fieldworker).get(app_url(form))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'rel="manifest" href="{app_url(form, "manifest.webmanifest")}"' in page
    assert 'type="module" src="/static/collect/app.js"' in page
    assert "csrftoken" in response.cookies
    config = json.loads(page.split('id="collect-config" type="application/json">')[1].split("<")[0])
    assert config["runtime"] == app_url(form, "runtime.json?v=1")
    assert config["public"] is False
    assert config["link"] == ""


def test_a_resident_opens_the_public_link_without_signing_in(cast: Cast) -> None:
    form = published_form(cast)
    link = link_for(cast, form)
    response = Client().get(app_url(form) + f"?link={link.token}")
    assert response.status_code == 200
    assert f"link={link.token}" in response.content.decode()


def test_the_service_worker_has_scope_and_no_cache_headers(cast: Cast) -> None:
    response = Client().get("/collect/sw.js")
    assert response.status_code == 200
    assert response["Service-Worker-Allowed"] == "/collect/"
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    for asset in (
        "/static/collect/app.js",
        "/static/collect/expr.js",
        "/static/leaflet/leaflet.js",
    ):
        assert f'"{asset}"' in body
    assert 'const SHELL = "incity-collect-shell-' in body


def test_the_service_worker_only_answers_get(cast: Cast) -> None:
    assert Client().post("/collect/sw.js").status_code == 405


def test_the_manifest_describes_an_installable_app(cast: Cast) -> None:
    form = published_form(cast)
    link = link_for(cast, form)
    response = Client().get(app_url(form, f"manifest.webmanifest?link={link.token}"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == app_url(form) + f"?link={link.token}"
    assert manifest["scope"] == app_url(form)
    assert manifest["icons"][0]["src"] == "/static/collect/icon.svg"
    assert (manifest["lang"], manifest["dir"]) == ("en", "ltr")
