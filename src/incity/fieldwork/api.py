"""API of the fieldwork view: devices report their sync status; the team reads the aggregates."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from incity.accounts import access
from incity.accounts.audit import Origin
from incity.accounts.models import User
from incity.accounts.permissions import ProjectAction
from incity.fieldwork import queries, services
from incity.fieldwork.models import DeviceSync

router = Router(tags=["fieldwork"])


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class DeviceReportIn(Schema):
    """What a collection app knows about its own queue. Checked by the service, not here,
    so the API, the web app and any other caller give the same messages."""

    device_id: Any
    app: Any
    pending: Any
    sent_total: Any
    last_error: Any = ""


class DeviceSyncOut(Schema):
    device_id: str
    app: str
    user: str | None
    first_seen: datetime
    last_seen: datetime
    pending: int
    sent_total: int
    last_error: str


def device_out(sync: DeviceSync) -> dict[str, Any]:
    return {
        "device_id": sync.device_id,
        "app": sync.app,
        "user": sync.user.username if sync.user else None,
        "first_seen": sync.first_seen,
        "last_seen": sync.last_seen,
        "pending": sync.pending,
        "sent_total": sync.sent_total,
        "last_error": sync.last_error,
    }


@router.post("/projects/{slug}/devices/report", response=DeviceSyncOut)
def report_device(request: HttpRequest, slug: str, payload: DeviceReportIn) -> dict[str, Any]:
    """A device's sync status: how many submissions wait on it, how many it sent, its last error.

    Needs the `collect` permission in the project. Send it after each sync attempt.
    """
    user = _user(request)
    project = access.get_project(user, slug, ProjectAction.COLLECT)
    sync = services.record_device_report(
        acting_user=user,
        origin=Origin.from_request(request, channel="api"),
        project=project,
        device_id=payload.device_id,
        app=payload.app,
        pending=payload.pending,
        sent_total=payload.sent_total,
        last_error=payload.last_error,
    )
    return device_out(sync)


# --- the fieldwork aggregates -----------------------------------------------------------


class LabelCountOut(Schema):
    label: str
    count: int


class CollectorOut(Schema):
    collector: str
    count: int
    last_received: datetime


class ArrivalOut(Schema):
    received_at: datetime
    collector: str
    device_id: str
    form_id: str
    form_title: str
    version: int
    channel: str
    status: str


class DeviceOut(Schema):
    device_id: str
    app: str
    user: str
    last_seen: datetime | None
    last_submission: datetime | None
    submissions: int
    pending: int | None
    sent_total: int | None
    last_error: str
    is_stale: bool


class PointOut(Schema):
    lat: float
    lon: float
    received_at: datetime
    form_id: str
    collector: str


class CellOut(Schema):
    index: str
    count: int
    centre: tuple[float, float]
    boundary: list[tuple[float, float]]


class MapOut(Schema):
    exact: bool
    located: int
    points: list[PointOut] | None
    cells: list[CellOut] | None
    suppressed_cells: int
    threshold: int
    resolution: int


class FieldworkOut(Schema):
    project: str
    form: str | None
    scope: str
    is_synthetic: bool
    total: int
    by_day: list[LabelCountOut]
    by_channel: list[LabelCountOut]
    by_status: list[LabelCountOut]
    by_collector: list[CollectorOut] | None
    arrivals: list[ArrivalOut] | None
    devices: list[DeviceOut] | None
    map: MapOut
    stale_after_hours: int


class FieldworkFilter(Schema):
    form: str | None = None


def fieldwork_out(found: queries.Fieldwork) -> dict[str, Any]:
    def rows(items: list[Any] | None) -> list[dict[str, Any]] | None:
        return None if items is None else [asdict(item) for item in items]

    return {
        "project": found.project.slug,
        "form": found.form.form_id if found.form else None,
        "scope": found.scope.value,
        "is_synthetic": found.project.is_synthetic,
        "total": found.total,
        "by_day": rows(found.by_day),
        "by_channel": rows(found.by_channel),
        "by_status": rows(found.by_status),
        "by_collector": rows(found.by_collector),
        "arrivals": rows(found.arrivals),
        "devices": rows(found.devices),
        "map": asdict(found.map),
        "stale_after_hours": found.stale_after_hours,
    }


@router.get("/projects/{slug}/fieldwork", response=FieldworkOut)
def get_fieldwork(
    request: HttpRequest, slug: str, filters: Query[FieldworkFilter]
) -> dict[str, Any]:
    """Submissions per day, channel, status and collector, the latest arrivals (no answers),
    device sync status and a map of where collection happened.

    `scope` says what the role sees: `team` every row; `own` (citizen researchers) only the
    submissions they collected; `summary` (partners, viewers) counts only. `map.points`
    (exact locations, audited as a raw read) is given to roles that may read raw data;
    everyone else gets `map.cells`, H3 hexagons with those under the project's disclosure
    threshold suppressed. `?form=<form_id>` narrows everything to one form.
    """
    found = queries.fieldwork(
        _user(request), Origin.from_request(request, channel="api"), slug, filters.form
    )
    return fieldwork_out(found)
