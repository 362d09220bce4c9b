"""Guarded reads of the fieldwork view: what arrived, from whom and when, and device sync status.

Who sees what (docs/fieldwork.md):

- the team (roles that may read raw data or review submissions) sees every row;
- collectors (roles that collect but do not review: citizen researchers) see only
  the submissions they collected themselves and their own devices;
- everyone else who may see the project (partners, viewers) sees counts by day,
  channel and status and the suppressed hexagon map, never a per-submission or
  per-person row.

Nothing here reads answers: per-submission rows are metadata (who, when, device,
form, version). The map of collection points is the one raw read (see `geo.py`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Count, Max, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from incity.accounts import access
from incity.accounts.access import AnyUser
from incity.accounts.audit import Origin
from incity.accounts.models import Project, User
from incity.accounts.permissions import PROJECT_MATRIX, ProjectAction
from incity.errors import NotFound
from incity.fieldwork import geo
from incity.fieldwork.models import PUBLIC_LINK, DeviceSync
from incity.surveys.models import Form, Submission

# A device not heard from for this long is highlighted: its queue may be stuck.
STALE_AFTER = dt.timedelta(hours=24)
LATEST_ARRIVALS = 25
# Days shown in the per-day chart and table, counting back from the latest arrival.
DAYS_SHOWN = 120


class Scope(StrEnum):
    TEAM = "team"
    OWN = "own"
    SUMMARY = "summary"


@dataclass(frozen=True)
class LabelCount:
    label: str
    count: int


@dataclass(frozen=True)
class CollectorCount:
    collector: str
    count: int
    last_received: dt.datetime


@dataclass(frozen=True)
class Arrival:
    received_at: dt.datetime
    collector: str
    device_id: str
    form_id: str
    form_title: str
    version: int
    channel: str
    status: str


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    app: str
    user: str
    last_seen: dt.datetime | None
    last_submission: dt.datetime | None
    submissions: int
    pending: int | None
    sent_total: int | None
    last_error: str
    is_stale: bool


@dataclass(frozen=True)
class Fieldwork:
    project: Project
    form: Form | None
    forms: list[Form]
    scope: Scope
    total: int
    by_day: list[LabelCount]
    by_channel: list[LabelCount]
    by_status: list[LabelCount]
    by_collector: list[CollectorCount] | None
    arrivals: list[Arrival] | None
    devices: list[DeviceRow] | None
    map: geo.CollectionMap
    stale_after_hours: int


def scope_for(user: AnyUser, project: Project) -> Scope:
    if access.can_project(user, ProjectAction.VIEW_RAW_DATA, project):
        return Scope.TEAM
    if access.can_project(user, ProjectAction.REVIEW_SUBMISSIONS, project):
        return Scope.TEAM
    role = access.role_in(user, project.organisation)
    # A role that collects in some state keeps its own view after the project closes.
    if role is not None and PROJECT_MATRIX[role][ProjectAction.COLLECT]:
        return Scope.OWN
    return Scope.SUMMARY


def fieldwork_form(project: Project, form_id: str | None) -> Form | None:
    if not form_id:
        return None
    form = Form.objects.filter(project=project, form_id=form_id).first()
    if form is None:
        raise NotFound(f"The project has no form '{form_id}'.", form=form_id)
    return form


def visible_submissions(
    user: User, project: Project, scope: Scope, form: Form | None
) -> QuerySet[Submission]:
    rows = Submission.objects.filter(project=project)
    if form is not None:
        rows = rows.filter(form=form)
    if scope == Scope.OWN:
        rows = rows.filter(collected_by_id=user.pk)
    return rows


def _counts(rows: QuerySet[Submission], column: str) -> list[LabelCount]:
    found = rows.order_by().values(column).annotate(n=Count("id")).order_by("-n", column)
    return [LabelCount(str(row[column] or ""), row["n"]) for row in found]


def counts_by_day(rows: QuerySet[Submission]) -> list[LabelCount]:
    """One entry per day from the first to the latest arrival (at most DAYS_SHOWN), gaps as 0."""
    found = (
        rows.order_by()
        .annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"))
    )
    per_day: dict[dt.date, int] = {row["day"]: row["n"] for row in found}
    if not per_day:
        return []
    last = max(per_day)
    first = max(min(per_day), last - dt.timedelta(days=DAYS_SHOWN - 1))
    days = [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]
    return [LabelCount(day.isoformat(), per_day.get(day, 0)) for day in days]


def counts_by_collector(rows: QuerySet[Submission]) -> list[CollectorCount]:
    found = (
        rows.order_by()
        .values("collected_by__username")
        .annotate(n=Count("id"), last=Max("received_at"))
        .order_by("-n", "collected_by__username")
    )
    return [
        CollectorCount(row["collected_by__username"] or PUBLIC_LINK, row["n"], row["last"])
        for row in found
    ]


def latest_arrivals(rows: QuerySet[Submission], limit: int = LATEST_ARRIVALS) -> list[Arrival]:
    # values(), not model instances: the answers are never loaded, let alone shown.
    found = rows.order_by("-received_at", "-id").values(
        "received_at",
        "collected_by__username",
        "device_id",
        "form__form_id",
        "form__title",
        "version__number",
        "channel",
        "status",
    )[:limit]
    return [
        Arrival(
            received_at=row["received_at"],
            collector=row["collected_by__username"] or PUBLIC_LINK,
            device_id=row["device_id"],
            form_id=row["form__form_id"],
            form_title=row["form__title"],
            version=row["version__number"],
            channel=row["channel"],
            status=row["status"],
        )
        for row in found
    ]


def devices(
    user: User, project: Project, scope: Scope, rows: QuerySet[Submission]
) -> list[DeviceRow]:
    """Devices that reported their sync status, and devices only seen on submissions.

    ODK Collect does not report its queue, so its phones appear through the
    device ids on their submissions, with the queue columns left empty.
    """
    now = timezone.now()
    reports = DeviceSync.objects.filter(project=project).select_related("user")
    if scope == Scope.OWN:
        reports = reports.filter(user_id=user.pk)
    seen = {
        row["device_id"]: (row["n"], row["last"])
        for row in rows.exclude(device_id="")
        .order_by()
        .values("device_id")
        .annotate(n=Count("id"), last=Max("received_at"))
    }
    result: list[DeviceRow] = []
    for sync in reports:
        submitted, last_submission = seen.pop(sync.device_id, (0, None))
        result.append(
            DeviceRow(
                device_id=sync.device_id,
                app=sync.app,
                user=sync.user.username if sync.user else PUBLIC_LINK,
                last_seen=sync.last_seen,
                last_submission=last_submission,
                submissions=submitted,
                pending=sync.pending,
                sent_total=sync.sent_total,
                last_error=sync.last_error,
                is_stale=now - sync.last_seen > STALE_AFTER,
            )
        )
    for device_id, (submitted, last_submission) in seen.items():
        result.append(
            DeviceRow(
                device_id=device_id,
                app="",
                user="",
                last_seen=None,
                last_submission=last_submission,
                submissions=submitted,
                pending=None,
                sent_total=None,
                last_error="",
                is_stale=now - last_submission > STALE_AFTER,
            )
        )
    result.sort(key=lambda row: (not row.is_stale, row.device_id))
    return result


def fieldwork(user: User, origin: Origin, slug: str, form_id: str | None = None) -> Fieldwork:
    """Everything the fieldwork page and API show, as the user's role may see it."""
    project = access.get_project(user, slug, ProjectAction.VIEW_PROJECT)
    form = fieldwork_form(project, form_id)
    scope = scope_for(user, project)
    rows = visible_submissions(user, project, scope, form)
    forms = list(Form.objects.filter(project=project).order_by("title"))
    detailed = scope in (Scope.TEAM, Scope.OWN)
    return Fieldwork(
        project=project,
        form=form,
        forms=forms,
        scope=scope,
        total=rows.count(),
        by_day=counts_by_day(rows),
        by_channel=_counts(rows, "channel"),
        by_status=_counts(rows, "status"),
        by_collector=counts_by_collector(rows) if detailed else None,
        arrivals=latest_arrivals(rows) if detailed else None,
        devices=devices(user, project, scope, rows) if detailed else None,
        map=geo.collection_map(
            user=user,
            origin=origin,
            project=project,
            forms=[form] if form is not None else forms,
            rows=rows,
            exact=access.can_project(user, ProjectAction.VIEW_RAW_DATA, project),
        ),
        stale_after_hours=int(STALE_AFTER.total_seconds() // 3600),
    )
