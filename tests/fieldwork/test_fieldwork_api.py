"""GET /api/v1/projects/{slug}/fieldwork: aggregates, the role rule, the map and its audit."""

from __future__ import annotations

from typing import Any

import h3
import pytest
from django.test import Client

from incity.accounts.models import AuditEvent, User
from incity.fieldwork.services import record_device_report
from tests.fieldwork.fixtures import THRESHOLD, A, B, C, Field
from tests.personas import SYSTEM, bearer

URL = "/api/v1/projects/riverton-survey/fieldwork"


def _get(user: User, url: str = URL) -> Any:
    return Client().get(url, headers=bearer(user))


def _cell(point: tuple[float, float]) -> str:
    return str(h3.latlng_to_cell(point[0], point[1], 8))


def _points_reads() -> int:
    return AuditEvent.objects.filter(kind="raw_read", action="fieldwork.points").count()


# --- refusals -----------------------------------------------------------------------------


def test_anonymous_callers_get_401(field: Field) -> None:
    response = Client().get(URL)

    assert response.status_code == 401
    assert response.json()["message"]


def test_an_outsider_gets_404_for_another_citys_project(field: Field) -> None:
    response = _get(field.cast.outsider)

    assert response.status_code == 404
    assert "riverton-survey" in response.json()["message"]
    assert _points_reads() == 0


def test_a_network_admin_without_a_membership_there_gets_404(field: Field) -> None:
    assert _get(field.cast.admin).status_code == 404


def test_an_unknown_project_answers_404(field: Field) -> None:
    assert _get(field.cast.lead, URL.replace("riverton", "nowhere")).status_code == 404


def test_an_unknown_form_answers_404_naming_it(field: Field) -> None:
    response = _get(field.cast.lead, URL + "?form=nope")

    assert response.status_code == 404
    assert "nope" in response.json()["message"]
    assert _points_reads() == 0


@pytest.mark.parametrize("role", ["partner", "viewer"])
def test_partners_and_viewers_never_get_points_collectors_arrivals_or_devices(
    field: Field, role: str
) -> None:
    body = _get(field.cast.by_role(role)).json()

    assert body["scope"] == "summary"
    assert body["map"]["exact"] is False
    assert body["map"]["points"] is None
    assert body["by_collector"] is None
    assert body["arrivals"] is None
    assert body["devices"] is None
    assert _points_reads() == 0


def test_a_citizen_researcher_sees_only_the_submissions_she_collected(field: Field) -> None:
    body = _get(field.cast.fieldworker).json()

    assert body["scope"] == "own"
    assert body["total"] == 2
    assert body["by_collector"] == [
        {"collector": "fatima", "count": 2, "last_received": "2026-03-03T10:00:00Z"}
    ]
    assert {arrival["collector"] for arrival in body["arrivals"]} == {"fatima"}
    assert body["map"]["points"] is None
    # Her two submissions lie in two cells, each under the threshold.
    assert body["map"]["cells"] == []
    assert body["map"]["suppressed_cells"] == 2


def test_a_citizen_researcher_sees_only_her_own_devices(field: Field) -> None:
    for user, device in ((field.cast.fieldworker, "phone-f"), (field.cast.researcher, "tab-r")):
        record_device_report(acting_user=user, origin=SYSTEM, project=field.project,
                             device_id=device, app="web", pending=1, sent_total=1)  # fmt: skip

    devices = _get(field.cast.fieldworker).json()["devices"]

    assert [device["device_id"] for device in devices] == ["phone-f"]


def test_no_role_ever_sees_a_residents_map_marks(field: Field) -> None:
    lead = _get(field.cast.lead).json()["map"]
    viewer = _get(field.cast.viewer).json()["map"]

    assert all((round(p["lat"], 1), round(p["lon"], 1)) != C for p in lead["points"])
    assert _cell(C) not in {cell["index"] for cell in viewer["cells"]}


def test_the_fieldwork_json_never_carries_answers(field: Field) -> None:
    text = _get(field.cast.lead).content.decode()

    assert "private_rent" not in text
    assert "no street lights" not in text
    assert "synthetic" not in text.replace('"is_synthetic"', "")


# --- aggregates ---------------------------------------------------------------------------


def test_the_lead_gets_counts_per_day_with_empty_days_filled(field: Field) -> None:
    body = _get(field.cast.lead).json()

    assert body["scope"] == "team"
    assert body["total"] == 5
    assert body["by_day"] == [
        {"label": "2026-03-02", "count": 1},
        {"label": "2026-03-03", "count": 3},
        {"label": "2026-03-04", "count": 0},
        {"label": "2026-03-05", "count": 1},
    ]


def test_counts_by_collector_channel_and_status(field: Field) -> None:
    body = _get(field.cast.researcher).json()

    collectors = {row["collector"]: row["count"] for row in body["by_collector"]}
    assert collectors == {"fatima": 2, "rami": 2, "public link": 1}
    assert {row["label"]: row["count"] for row in body["by_channel"]} == {
        "web": 3, "api": 1, "openrosa": 1,
    }  # fmt: skip
    assert {row["label"]: row["count"] for row in body["by_status"]} == {
        "received": 4, "flagged": 1,
    }  # fmt: skip


def test_latest_arrivals_are_newest_first_with_metadata_only(field: Field) -> None:
    arrivals = _get(field.cast.lead).json()["arrivals"]

    assert [arrival["collector"] for arrival in arrivals] == [
        "rami", "public link", "rami", "fatima", "fatima",
    ]  # fmt: skip
    assert arrivals[0] == {
        "received_at": "2026-03-05T10:00:00Z",
        "collector": "rami",
        "device_id": "collect:r2",
        "form_id": "walk",
        "form_title": "Neighbourhood walk (walk)",
        "version": 1,
        "channel": "openrosa",
        "status": "flagged",
    }


def test_the_form_filter_narrows_everything_to_one_form(field: Field) -> None:
    from tests.fieldwork.fixtures import collect, day, published

    other = published(field.cast, form_id="other")
    collect(other, field.cast.researcher, at=day(6), where=B)

    everything = _get(field.cast.lead).json()
    one = _get(field.cast.lead, URL + "?form=other").json()

    assert everything["total"] == 6
    assert one["total"] == 1
    assert one["form"] == "other"
    assert [point["form_id"] for point in one["map"]["points"]] == ["other"]


def test_the_lead_gets_exact_points_of_geopoint_answers_and_the_read_is_audited(
    field: Field,
) -> None:
    body = _get(field.cast.lead).json()

    points = body["map"]["points"]
    assert body["map"]["exact"] is True
    assert body["map"]["cells"] is None
    assert len(points) == 4
    assert {(p["lat"], p["lon"]) for p in points} == {A, B, (52.4801, -1.8901)}
    audit = AuditEvent.objects.get(kind="raw_read", action="fieldwork.points")
    assert audit.actor == field.cast.lead
    assert audit.project == field.project
    assert audit.channel == "api"
    assert audit.detail["points"] == 4


def test_viewers_see_hexagons_with_small_cells_suppressed(field: Field) -> None:
    body = _get(field.cast.viewer).json()["map"]

    assert body["threshold"] == THRESHOLD
    # A holds three submissions (fatima, rami, the public link): shown; B holds one: hidden.
    assert [(cell["index"], cell["count"]) for cell in body["cells"]] == [(_cell(A), 3)]
    assert body["suppressed_cells"] == 1
    assert body["located"] == 3
    assert len(body["cells"][0]["boundary"]) == 6


def test_raising_the_threshold_hides_every_cell(field: Field) -> None:
    field.project.disclosure_threshold = 4
    field.project.save(update_fields=["disclosure_threshold"])

    body = _get(field.cast.partner).json()["map"]

    assert body["cells"] == []
    assert body["suppressed_cells"] == 2


def test_typed_answers_left_pending_by_a_batch_are_derived_before_the_map_is_read(
    field: Field,
) -> None:
    from incity.surveys.models import Answer, Submission

    Answer.objects.all().delete()
    Submission.objects.update(typed_pending=True)

    points = _get(field.cast.lead).json()["map"]["points"]

    assert len(points) == 4
    assert not Submission.objects.filter(typed_pending=True).exists()


def test_devices_merge_reports_and_devices_seen_only_on_submissions(field: Field) -> None:
    record_device_report(acting_user=field.cast.fieldworker, origin=SYSTEM, project=field.project,
                         device_id="phone-f", app="web", pending=2, sent_total=7,
                         last_error="offline")  # fmt: skip

    devices = {device["device_id"]: device for device in _get(field.cast.lead).json()["devices"]}

    assert set(devices) == {"phone-f", "laptop-r", "collect:r2"}
    assert devices["phone-f"]["pending"] == 2
    assert devices["phone-f"]["submissions"] == 2
    assert devices["phone-f"]["last_error"] == "offline"
    assert devices["phone-f"]["is_stale"] is False
    # Submissions from March 2026 are long past: a device only seen then is stale.
    assert devices["collect:r2"]["pending"] is None
    assert devices["collect:r2"]["is_stale"] is True


def test_a_device_silent_for_more_than_a_day_is_stale(field: Field) -> None:
    import datetime as dt

    from django.utils import timezone

    from incity.fieldwork.models import DeviceSync

    record_device_report(acting_user=field.cast.fieldworker, origin=SYSTEM, project=field.project,
                         device_id="old-phone", app="web", pending=4, sent_total=0)  # fmt: skip
    DeviceSync.objects.update(last_seen=timezone.now() - dt.timedelta(hours=25))

    devices = {device["device_id"]: device for device in _get(field.cast.lead).json()["devices"]}

    assert devices["old-phone"]["is_stale"] is True


def test_the_number_of_queries_does_not_grow_with_submissions_or_devices(field: Field) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.fieldwork.fixtures import A, collect, day

    client = Client()
    headers = bearer(field.cast.lead)
    client.get(URL, headers=headers)  # derives the pending typed answers once
    with CaptureQueriesContext(connection) as before:
        client.get(URL, headers=headers)
    for number in range(6, 10):
        collect(field.form, field.cast.fieldworker, at=day(number), where=A, device=f"p{number}")
        record_device_report(acting_user=field.cast.fieldworker, origin=SYSTEM,
                             project=field.project, device_id=f"p{number}", app="web",
                             pending=0, sent_total=1)  # fmt: skip
    with CaptureQueriesContext(connection) as after:
        client.get(URL, headers=headers)

    assert len(after.captured_queries) == len(before.captured_queries)
