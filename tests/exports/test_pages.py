"""The export page of a form, as a signed-in person meets it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from incity.accounts.models import AuditEvent
from incity.exports.models import ExportJob, ExportStatus
from tests.exports.helpers import exportable
from tests.personas import Cast, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_jobs")]
Capture = Callable[..., AbstractContextManager[Any]]


@pytest.mark.parametrize(("role", "status"), [("partner", 403), ("viewer", 403)])
def test_roles_without_export_rights_are_refused_the_page_and_the_start(
    cast: Cast, role: str, status: int
) -> None:
    item = exportable(cast)
    client = signed_in(cast.by_role(role))
    assert client.get(f"/exports/forms/{item.form.pk}/").status_code == status
    response = client.post(f"/exports/forms/{item.form.pk}/start", {"format": "csv"})
    assert response.status_code == status
    assert not ExportJob.objects.exists()


def test_another_citys_lead_gets_not_found(cast: Cast) -> None:
    item = exportable(cast)
    client = signed_in(cast.outsider)
    assert client.get(f"/exports/forms/{item.form.pk}/").status_code == 404
    assert client.post(f"/exports/forms/{item.form.pk}/start", {"format": "csv"}).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(cast: Cast) -> None:
    item = exportable(cast)
    from django.test import Client

    response = Client().get(f"/exports/forms/{item.form.pk}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_bad_choice_redisplays_the_form_with_422_and_starts_nothing(cast: Cast) -> None:
    item = exportable(cast)
    client = signed_in(cast.researcher)
    response = client.post(
        f"/exports/forms/{item.form.pk}/start",
        {"format": "pdf", "labels": "codes", "language": "English (en)"},
    )
    assert response.status_code == 422
    assert "pdf is not one of the available choices" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_start_without_csrf_token_is_refused(cast: Cast) -> None:
    from django.test import Client

    item = exportable(cast)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.researcher)
    response = client.post(f"/exports/forms/{item.form.pk}/start", {"format": "csv"})
    assert response.status_code == 403
    assert not ExportJob.objects.exists()


def test_a_researcher_starts_an_export_and_downloads_it(
    cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    item = exportable(cast)
    client = signed_in(cast.researcher)
    page = client.get(f"/exports/forms/{item.form.pk}/").content.decode()
    assert "Include sensitive answers" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/exports/forms/{item.form.pk}/start",
            {"format": "xlsx", "labels": "labels", "language": "Deutsch (de)"},
        )
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.DONE
    assert job.language == "Deutsch (de)"
    status = client.get(f"/exports/{job.pk}/status").json()
    assert status["percent"] == 100
    assert status["download_url"] == f"/exports/{job.pk}/download"
    page = client.get(f"/exports/forms/{item.form.pk}/").content.decode()
    assert f'data-testid="download-{job.pk}"' in page
    assert "<progress" in page
    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(action="export.download", channel="web").count() == 1
    # Someone else in the same city may not fetch it.
    assert signed_in(cast.lead).get(status["download_url"]).status_code == 404
    assert signed_in(cast.lead).get(f"/exports/{job.pk}/status").status_code == 404
