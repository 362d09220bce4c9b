"""POST /collect/<project>/<form>/sync: the device's queue state for the fieldwork view."""

from __future__ import annotations

import pytest
from django.test import Client

from incity.fieldwork.models import DeviceSync
from tests.collect.helpers import app_url, link_for, post_json, published_form
from tests.personas import Cast, signed_in

pytestmark = pytest.mark.django_db

REPORT = {"device_id": "web:phone-1", "pending": 3, "sent": 12, "last_error": ""}


def test_an_anonymous_report_without_a_link_is_refused(cast: Cast) -> None:
    form = published_form(cast)
    assert post_json(Client(), app_url(form, "sync"), REPORT).status_code == 401
    assert not DeviceSync.objects.exists()


def test_a_viewer_cannot_report(cast: Cast) -> None:
    form = published_form(cast)
    assert post_json(signed_in(cast.viewer), app_url(form, "sync"), REPORT).status_code == 403


def test_a_report_with_bad_counts_is_refused_naming_the_field(cast: Cast) -> None:
    form = published_form(cast)
    response = post_json(
        signed_in(cast.fieldworker), app_url(form, "sync"), {**REPORT, "pending": "many"}
    )
    assert response.status_code == 422
    assert "pending" in response.json()["extra"]["errors"]
    assert not DeviceSync.objects.exists()


def test_a_collector_device_report_is_kept(cast: Cast) -> None:
    form = published_form(cast)
    response = post_json(signed_in(cast.fieldworker), app_url(form, "sync"), REPORT)
    assert response.status_code == 200
    row = DeviceSync.objects.get(device_id="web:phone-1")
    assert (row.pending, row.sent_total, row.user, row.app) == (3, 12, cast.fieldworker, "web")


def test_a_public_link_device_report_is_kept_without_a_user(cast: Cast) -> None:
    form = published_form(cast)
    link = link_for(cast, form)
    response = post_json(Client(), app_url(form, "sync"), REPORT, token=link.token)
    assert response.status_code == 200
    assert DeviceSync.objects.get(device_id="web:phone-1").user is None
