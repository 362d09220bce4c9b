"""Devices reporting their sync status: the service and POST /api/v1/projects/{slug}/devices/report."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from incity.accounts.models import AuditEvent
from incity.accounts.roles import ProjectState
from incity.accounts.services import change_project_state
from incity.errors import Conflict, Forbidden, InvalidInput, NotFound
from incity.fieldwork.models import DeviceSync
from incity.fieldwork.services import record_device_report
from tests.personas import SYSTEM, Cast, bearer, signed_in

URL = "/api/v1/projects/riverton-survey/devices/report"


def _report(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"device_id": "collect:abc123", "app": "odk", "pending": 2,
                            "sent_total": 10, "last_error": ""}  # fmt: skip
    body.update(changes)
    return body


def _post(client: Client, body: dict[str, Any], url: str = URL, **headers: str) -> Any:
    return client.post(url, body, content_type="application/json", headers=headers)


def _device_audit_rows() -> int:
    return AuditEvent.objects.filter(action__startswith="device.").count()


# --- refusals -----------------------------------------------------------------------------


def test_an_anonymous_report_through_the_api_is_refused_with_401(cast: Cast) -> None:
    response = _post(Client(), _report())

    assert response.status_code == 401
    assert "message" in response.json()
    assert not DeviceSync.objects.exists()


def test_a_report_for_an_unknown_project_answers_404(cast: Cast) -> None:
    response = _post(signed_in(cast.fieldworker), _report(), url=URL.replace("riverton", "nowhere"))

    assert response.status_code == 404
    assert "nowhere-survey" in response.json()["message"]


def test_an_outsider_cannot_report_a_device_in_another_city(cast: Cast) -> None:
    response = _post(signed_in(cast.outsider), _report())

    assert response.status_code == 404
    assert not DeviceSync.objects.exists()


@pytest.mark.parametrize("role", ["partner", "viewer", "network_admin"])
def test_roles_that_do_not_collect_cannot_report_a_device(cast: Cast, role: str) -> None:
    response = _post(Client(), _report(), **bearer(cast.by_role(role)))

    assert response.status_code in (403, 404)
    assert not DeviceSync.objects.exists()


def test_a_collector_cannot_report_while_the_project_is_closed(cast: Cast) -> None:
    change_project_state(
        acting_user=None, origin=SYSTEM, project=cast.survey, state=ProjectState.CLOSED
    )

    response = _post(signed_in(cast.fieldworker), _report())

    assert response.status_code == 403
    assert "collect" in response.json()["message"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pending": -1}, "pending"),
        ({"pending": 1.5}, "pending"),
        ({"pending": True}, "pending"),
        ({"sent_total": -3}, "sent_total"),
        ({"device_id": "x" * 101}, "device_id"),
        ({"device_id": ""}, "device_id"),
        ({"device_id": "phone one"}, "device_id"),
        ({"app": "telegram"}, "app"),
        ({"last_error": "e" * 1001}, "last_error"),
    ],
)
def test_a_bad_report_is_refused_naming_the_field_and_stores_nothing(
    cast: Cast, changes: dict[str, Any], field: str
) -> None:
    response = _post(signed_in(cast.fieldworker), _report(**changes))

    assert response.status_code == 422
    body = response.json()
    assert body["extra"]["field"] == field
    assert field in body["message"] or field.replace("_", " ") in body["message"]
    assert not DeviceSync.objects.exists()
    assert _device_audit_rows() == 0


@pytest.mark.parametrize("missing", ["device_id", "app", "pending", "sent_total"])
def test_a_report_missing_a_field_is_refused_naming_it(cast: Cast, missing: str) -> None:
    body = _report()
    del body[missing]

    response = _post(signed_in(cast.fieldworker), body)

    assert response.status_code == 422
    assert response.json()["extra"]["field"] == missing
    assert not DeviceSync.objects.exists()


def test_the_service_refuses_a_bad_report_with_every_problem_listed(cast: Cast) -> None:
    with pytest.raises(InvalidInput) as refused:
        record_device_report(acting_user=cast.fieldworker, origin=SYSTEM, project=cast.survey,
                             device_id="", app="web", pending=-1, sent_total=0)  # fmt: skip

    assert set(refused.value.extra["errors"]) == {"device_id", "pending"}


def test_the_service_refuses_other_tenants_as_not_found(cast: Cast) -> None:
    with pytest.raises(NotFound):
        record_device_report(acting_user=cast.outsider, origin=SYSTEM, project=cast.survey,
                             device_id="p1", app="web", pending=0, sent_total=0)  # fmt: skip


def test_the_service_refuses_a_viewer_as_forbidden(cast: Cast) -> None:
    with pytest.raises(Forbidden):
        record_device_report(acting_user=cast.viewer, origin=SYSTEM, project=cast.survey,
                             device_id="p1", app="web", pending=0, sent_total=0)  # fmt: skip


def test_a_public_link_device_may_not_report_to_a_project_that_is_not_active(cast: Cast) -> None:
    with pytest.raises(Conflict):
        record_device_report(acting_user=None, origin=SYSTEM, project=cast.hillside_project,
                             device_id="p1", app="web", pending=0, sent_total=0)  # fmt: skip


# --- acceptances --------------------------------------------------------------------------


def test_a_collector_reports_through_the_api_and_the_row_is_kept(cast: Cast) -> None:
    response = _post(signed_in(cast.fieldworker), _report(last_error="timeout"),
                     HTTP_USER_AGENT="ODKCollect/v2024.2")  # fmt: skip

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["device_id"] == "collect:abc123"
    assert body["pending"] == 2
    assert body["sent_total"] == 10
    assert body["last_error"] == "timeout"
    sync = DeviceSync.objects.get()
    assert sync.user == cast.fieldworker
    assert sync.project == cast.survey


def test_a_second_report_updates_the_same_row(cast: Cast) -> None:
    client = signed_in(cast.fieldworker)
    _post(client, _report(pending=5, sent_total=1))
    _post(client, _report(pending=0, sent_total=6))

    sync = DeviceSync.objects.get()
    assert (sync.pending, sync.sent_total) == (0, 6)


def test_the_same_device_in_two_apps_has_two_rows(cast: Cast) -> None:
    client = signed_in(cast.fieldworker)
    _post(client, _report(app="odk"))
    _post(client, _report(app="web"))

    assert DeviceSync.objects.count() == 2


def test_a_first_report_is_audited_but_a_routine_heartbeat_is_not(cast: Cast) -> None:
    for sent in (1, 2, 3):
        record_device_report(acting_user=cast.fieldworker, origin=SYSTEM, project=cast.survey,
                             device_id="p1", app="web", pending=0, sent_total=sent)  # fmt: skip

    rows = AuditEvent.objects.filter(action__startswith="device.")
    assert [row.action for row in rows] == ["device.first_report"]
    assert rows[0].kind == "write"
    assert rows[0].project == cast.survey
    assert rows[0].actor == cast.fieldworker


def test_an_error_appearing_and_clearing_and_a_new_user_are_audited(cast: Cast) -> None:
    def report(user: Any, error: str) -> None:
        record_device_report(acting_user=user, origin=SYSTEM, project=cast.survey,
                             device_id="p1", app="web", pending=1, sent_total=1,
                             last_error=error)  # fmt: skip

    report(cast.fieldworker, "")
    report(cast.fieldworker, "HTTP 500")
    report(cast.fieldworker, "HTTP 500")
    report(cast.fieldworker, "")
    report(cast.researcher, "")

    rows = list(AuditEvent.objects.filter(action="device.report").order_by("id"))
    assert [(row.detail["error_changed"], row.detail["user_changed"]) for row in rows] == [
        (True, False),
        (True, False),
        (False, True),
    ]


def test_a_public_link_device_reports_without_a_user(cast: Cast) -> None:
    sync = record_device_report(acting_user=None, origin=SYSTEM, project=cast.survey,
                                device_id="p1", app="web", pending=3, sent_total=0)  # fmt: skip

    assert sync.user is None
    assert sync.pending == 3
