"""Writes of the fieldwork app: devices reporting their sync status.

Audit policy. Devices report after every sync attempt, which can be once a
minute per phone; an audit row per report would bury the log's real events
under heartbeats. So, like a token's `last_used_at`, the routine refresh of a
device's counters is bookkeeping and is not audited. A report *is* audited when
it says something a person may need to trace later: the first report of a
device in a project, a different person signed in on it, or a change of its
error (an error appearing, changing or clearing).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from incity.accounts import access
from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, Project, User
from incity.accounts.permissions import ProjectAction
from incity.accounts.roles import ProjectState
from incity.errors import Conflict, InvalidInput
from incity.fieldwork.models import DeviceApp, DeviceSync

# The same alphabet and length as ODK's deviceID and incity's Submission.device_id.
DEVICE_ID = re.compile(r"^[A-Za-z0-9:._@-]{1,100}$")
DEVICE_ID_MAX = 100
PENDING_MAX = 1_000_000
SENT_TOTAL_MAX = 10**12
LAST_ERROR_MAX = 1000


def _is_count(value: object) -> bool:
    # bool is an int in Python; a device sending `true` for a count is a bug to report.
    return isinstance(value, int) and not isinstance(value, bool)


def report_errors(
    *, device_id: object, app: object, pending: object, sent_total: object, last_error: object
) -> dict[str, str]:
    """One message per bad field of a device report; empty when it is fine."""
    errors: dict[str, str] = {}
    if not isinstance(device_id, str) or not device_id:
        errors["device_id"] = "The device id is missing; send the id the app gave this device."
    elif len(device_id) > DEVICE_ID_MAX:
        errors["device_id"] = f"The device id is longer than {DEVICE_ID_MAX} characters."
    elif not DEVICE_ID.match(device_id):
        errors["device_id"] = "The device id may only hold letters, digits and ':._@-'."
    if app not in DeviceApp.values:
        errors["app"] = f"The app must be one of {', '.join(DeviceApp.values)}; got {app!r}."
    if not _is_count(pending) or not 0 <= pending <= PENDING_MAX:  # type: ignore[operator]
        errors["pending"] = (
            f"pending must be a whole number from 0 to {PENDING_MAX:,}: "
            "how many finished submissions wait on the device."
        )
    if not _is_count(sent_total) or not 0 <= sent_total <= SENT_TOTAL_MAX:  # type: ignore[operator]
        errors["sent_total"] = (
            "sent_total must be a whole number of 0 or more: how many the device has sent."
        )
    if not isinstance(last_error, str):
        errors["last_error"] = "last_error must be text (empty when the last sync worked)."
    elif len(last_error) > LAST_ERROR_MAX:
        errors["last_error"] = (
            f"last_error is longer than {LAST_ERROR_MAX} characters; send its first line."
        )
    return errors


def _check_reporter(acting_user: User | None, project: Project) -> None:
    if acting_user is not None:
        # Not found for other tenants, forbidden where the role may not collect.
        access.get_project(acting_user, project.slug, ProjectAction.COLLECT)
        return
    # No user: a resident's phone on the project's public link; the caller checked the link.
    if project.state != ProjectState.ACTIVE:
        raise Conflict(
            f"The project '{project.slug}' is {project.state}; it takes no device reports.",
            project=project.slug,
        )


def _locked_row(project: Project, device_id: str, app: str) -> tuple[DeviceSync, bool]:
    """The device's row, locked for this transaction, created if it is new."""
    rows = DeviceSync.objects.select_for_update().filter(
        project=project, device_id=device_id, app=app
    )
    found = rows.first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            return DeviceSync.objects.create(project=project, device_id=device_id, app=app), True
    except IntegrityError:
        # Another report of the same new device won the race: update its row instead.
        return rows.get(), False


@transaction.atomic
def record_device_report(
    *,
    acting_user: User | None,
    origin: Origin,
    project: Project,
    device_id: str,
    app: str,
    pending: int,
    sent_total: int,
    last_error: str = "",
) -> DeviceSync:
    """Keep a device's latest sync status; audited as described in the module docstring."""
    errors = report_errors(
        device_id=device_id,
        app=app,
        pending=pending,
        sent_total=sent_total,
        last_error=last_error,
    )
    if errors:
        field, message = next(iter(errors.items()))
        raise InvalidInput(field, message, errors=errors)
    _check_reporter(acting_user, project)
    last_error = last_error.strip()
    sync, created = _locked_row(project, device_id, app)
    user_changed = not created and sync.user_id != (acting_user.pk if acting_user else None)
    error_changed = not created and sync.last_error != last_error
    sync.user = acting_user
    sync.last_seen = timezone.now()
    sync.pending = pending
    sync.sent_total = sent_total
    sync.last_error = last_error
    sync.user_agent = origin.user_agent[:300]
    sync.save(
        update_fields=["user", "last_seen", "pending", "sent_total", "last_error", "user_agent"]
    )
    if created or user_changed or error_changed:
        record(
            actor=acting_user,
            origin=origin,
            kind=AuditKind.WRITE,
            action="device.first_report" if created else "device.report",
            project=project,
            target=sync,
            detail=_audit_detail(sync, user_changed=user_changed, error_changed=error_changed),
        )
    return sync


def _audit_detail(sync: DeviceSync, *, user_changed: bool, error_changed: bool) -> dict[str, Any]:
    return {
        "device_id": sync.device_id,
        "app": sync.app,
        "pending": sync.pending,
        "sent_total": sync.sent_total,
        "last_error": sync.last_error[:200],
        "user_changed": user_changed,
        "error_changed": error_changed,
    }
