"""The export API: who may start, see and download an export, and what it answers."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.test import Client

from incity.accounts.models import AuditEvent
from incity.exports.models import ExportJob
from tests.exports.helpers import Exportable, exportable
from tests.personas import Cast, bearer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_jobs")]
Capture = Callable[..., AbstractContextManager[Any]]


def _start(client: Client, user: Any, form: int, capture: Capture, **body: Any) -> Any:
    with capture(execute=True):
        return client.post(
            f"/api/v1/forms/{form}/exports",
            {"format": "csv", **body},
            content_type="application/json",
            headers=bearer(user),
        )


@pytest.mark.parametrize(
    ("role", "status"),
    [("partner", 403), ("viewer", 403), ("citizen_researcher", 403)],
)
def test_roles_that_may_not_export_raw_data_are_refused(
    cast: Cast, django_capture_on_commit_callbacks: Capture, role: str, status: int
) -> None:
    item = exportable(cast)
    response = _start(
        Client(), cast.by_role(role), item.form.pk, django_capture_on_commit_callbacks
    )
    assert response.status_code == status
    assert "export_raw_data" in response.json()["message"]
    assert not ExportJob.objects.exists()


def test_another_citys_lead_finds_no_such_form(
    cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    item = exportable(cast)
    response = _start(Client(), cast.outsider, item.form.pk, django_capture_on_commit_callbacks)
    assert response.status_code == 404
    assert response.json()["message"] == f"No form {item.form.pk} among yours."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"labels": "names"}, "labels"),
        ({"language": "Klingon (tlh)"}, "language"),
        ({"since": "yesterday"}, "since"),
    ],
)
def test_bad_options_answer_422_naming_the_field_and_queue_nothing(
    cast: Cast, django_capture_on_commit_callbacks: Capture, body: dict[str, Any], field: str
) -> None:
    item = exportable(cast)
    response = _start(
        Client(), cast.researcher, item.form.pk, django_capture_on_commit_callbacks, **body
    )
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == field
    assert not ExportJob.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


def _finished(cast: Cast, capture: Capture, **body: Any) -> tuple[Exportable, dict[str, Any]]:
    item = exportable(cast)
    response = _start(Client(), cast.researcher, item.form.pk, capture, **body)
    assert response.status_code == 202, response.content
    return item, response.json()


def test_a_researcher_starts_an_export_sees_it_done_and_downloads_it(
    cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    _item, started = _finished(cast, django_capture_on_commit_callbacks)
    client = Client()
    status = client.get(started["status_url"], headers=bearer(cast.researcher)).json()
    assert status["status"] == "done", status
    assert (status["rows_done"], status["rows_total"], status["percent"]) == (3, 3, 100)
    assert status["file_name"].endswith(".zip")
    download = client.get(status["download_url"], headers=bearer(cast.researcher))
    assert download.status_code == 200
    content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert "household.csv" in archive.namelist()
    kinds = list(
        AuditEvent.objects.filter(action__startswith="export.")
        .order_by("pk")
        .values_list("action", "kind", "actor__username")
    )
    assert kinds == [
        ("export.request", "write", "rami"),
        ("export.write", "raw_read", "rami"),
        ("export.download", "raw_read", "rami"),
    ]


def test_nobody_else_sees_or_downloads_someone_elses_export(
    cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    _, started = _finished(cast, django_capture_on_commit_callbacks)
    client = Client()
    for user in (cast.lead, cast.outsider, cast.partner):
        for url in (started["status_url"], f"/api/v1/exports/{started['id']}/download"):
            response = client.get(url, headers=bearer(user))
            assert response.status_code == 404, (user, url)
    assert not AuditEvent.objects.filter(action="export.download").exists()


def test_a_download_before_the_file_is_ready_answers_409(cast: Cast) -> None:
    item = exportable(cast)
    client = Client()
    # Without running the commit callbacks the job stays queued.
    response = client.post(
        f"/api/v1/forms/{item.form.pk}/exports",
        {"format": "parquet"},
        content_type="application/json",
        headers=bearer(cast.researcher),
    )
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert response.json()["download_url"] is None
    download = client.get(
        f"/api/v1/exports/{response.json()['id']}/download", headers=bearer(cast.researcher)
    )
    assert download.status_code == 409
    assert "not ready" in download.json()["message"]


def test_sensitive_answers_are_in_the_file_only_when_asked_for(
    cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    item = exportable(cast)
    client = Client()
    for include in (False, True):
        started = _start(
            client,
            cast.researcher,
            item.form.pk,
            django_capture_on_commit_callbacks,
            include_sensitive=include,
        ).json()
        assert started["include_sensitive"] is include
        done = client.get(started["status_url"], headers=bearer(cast.researcher)).json()
        download = client.get(done["download_url"], headers=bearer(cast.researcher))
        content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            header = archive.read("household.csv").decode().splitlines()[0].split(",")
        assert ("born_here" in header) is include
