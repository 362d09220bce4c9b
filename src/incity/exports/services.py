"""Every export: a file written now (command line), or a job the worker writes (web, API).

Exports are raw reads: each needs EXPORT_RAW_DATA in the form's project and
leaves an audit row of kind `raw_read` when the file is written and whenever
it is downloaded. Sensitive answers go into a file only when asked for and only
when the role may read raw data (the machine operator always may).

Jobs are idempotent and resumable: running a finished job again does nothing;
a job whose worker died (its heartbeat stopped) is queued again by
`resume_interrupted_jobs` and writes its file from the start, because a
half-written XLSX, Parquet or zip cannot be continued safely.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from incity.accounts import access
from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User
from incity.accounts.permissions import ProjectAction
from incity.errors import Conflict, Forbidden, IncityError
from incity.exports import engine
from incity.exports.engine import ExportOptions, Plan
from incity.exports.models import ExportJob, ExportStatus
from incity.exports.queries import get_job
from incity.exports.writers import ExportRefused
from incity.surveys.models import Form
from incity.surveys.queries import get_form

logger = logging.getLogger(__name__)
# A running job whose heartbeat is older than this has lost its worker.
STALE_AFTER = timedelta(minutes=5)


def may_see_sensitive(user: User | None, form: Form) -> bool:
    return user is None or access.can_project(user, ProjectAction.VIEW_RAW_DATA, form.project)


def _checked_plan(user: User | None, form_pk: int, options: ExportOptions) -> Plan:
    form = get_form(user, form_pk, ProjectAction.EXPORT_RAW_DATA)
    if options.include_sensitive and not may_see_sensitive(user, form):
        raise Forbidden(
            "Your role may not read sensitive answers in this project; export without them.",
            form=form.pk,
        )
    return engine.plan_export(form, options)


def _audit_detail(plan: Plan, rows: int) -> dict[str, object]:
    options = plan.options
    return {
        "format": options.format,
        "labels": options.labels,
        "language": plan.language,
        "since": options.since.isoformat() if options.since else None,
        "sensitive_included": options.include_sensitive,
        "submissions": rows,
    }


@dataclass(frozen=True)
class ExportResult:
    path: Path
    submissions: int
    plan: Plan


def export_to_file(
    *,
    acting_user: User | None,
    origin: Origin,
    form_pk: int,
    options: ExportOptions,
    out: Path,
    force: bool = False,
) -> ExportResult:
    """Write the export to `out` now (the command line). Nothing is written on refusal."""
    plan = _checked_plan(acting_user, form_pk, options)
    engine.check_output_path(out, force=force, plan=plan)
    rows = engine.write(plan, out)
    with transaction.atomic():
        record(
            actor=acting_user,
            origin=origin,
            kind=AuditKind.RAW_READ,
            action="export.write",
            project=plan.form.project,
            target=plan.form,
            detail={**_audit_detail(plan, rows), "path": str(out)},
        )
    return ExportResult(path=out, submissions=rows, plan=plan)


def start_export(
    *, acting_user: User, origin: Origin, form_pk: int, options: ExportOptions
) -> ExportJob:
    """Queue an export job; the worker writes the file and the page polls its progress."""
    with transaction.atomic():
        plan = _checked_plan(acting_user, form_pk, options)
        job = ExportJob.objects.create(
            project=plan.form.project,
            form=plan.form,
            requested_by=acting_user,
            format=options.format,
            labels=options.labels,
            language=plan.language,
            since=options.since,
            include_sensitive=options.include_sensitive,
            rows_total=plan.rows_total,
            download_name=plan.download_name(),
            channel=origin.channel,
            ip_address=origin.ip_address,
            is_synthetic=plan.form.is_synthetic,
        )
        record(
            actor=acting_user,
            origin=origin,
            kind=AuditKind.WRITE,
            action="export.request",
            project=plan.form.project,
            target=job,
            detail=_audit_detail(plan, plan.rows_total),
        )
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def enqueue(job_pk: int) -> None:
    from incity.exports.tasks import run_export

    result = run_export.enqueue(job_pk)
    # The immediate backend has already run the job, which may have saved the row since.
    ExportJob.objects.filter(pk=job_pk).update(task_id=str(result.id)[:64])


def job_file(job: ExportJob) -> Path:
    return Path(settings.EXPORTS_DIR) / job.file_name


def run_export_job(*, job_pk: int) -> None:
    """Write a job's file; safe to call again for the same job (a finished one is left alone)."""
    job = ExportJob.objects.select_related("form", "project", "requested_by").filter(pk=job_pk)
    found = job.first()
    if found is None:
        logger.warning("export job %s no longer exists; nothing to do", job_pk)
        return
    if found.status == ExportStatus.DONE and found.file_name and job_file(found).exists():
        return
    _claim(found)
    if found.requested_by is None:
        # Never run with the operator's rights a job whose requester's account was removed.
        _fail(found, "The person who asked for this export no longer has an account.")
        return
    try:
        plan = _checked_plan(found.requested_by, found.form_id, _options_of(found))
        Path(settings.EXPORTS_DIR).mkdir(parents=True, exist_ok=True)
        name = found.file_name or f"{found.pk}-{secrets.token_hex(8)}.{plan.extension}"
        ExportJob.objects.filter(pk=found.pk).update(rows_total=plan.rows_total, file_name=name)
        found.file_name = name
        rows = engine.write(plan, job_file(found), progress=lambda done: _beat(found.pk, done))
    except (IncityError, ExportRefused) as error:
        _fail(found, str(getattr(error, "message", error)))
        return
    except Exception as error:
        _fail(found, f"The export stopped on an unexpected error ({type(error).__name__}).")
        raise
    with transaction.atomic():
        ExportJob.objects.filter(pk=found.pk).update(
            status=ExportStatus.DONE,
            rows_done=rows,
            rows_total=rows,
            size=job_file(found).stat().st_size,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            error="",
        )
        record(
            actor=found.requested_by,
            origin=Origin(channel=found.channel, ip_address=found.ip_address),
            kind=AuditKind.RAW_READ,
            action="export.write",
            project=found.project,
            target=found,
            detail=_audit_detail(plan, rows),
        )


def _options_of(job: ExportJob) -> ExportOptions:
    return ExportOptions(
        format=job.format,
        labels=job.labels,
        language=job.language,
        since=job.since,
        include_sensitive=job.include_sensitive,
    )


def _claim(job: ExportJob) -> None:
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        rows_done=0,
        attempts=job.attempts + 1,
        error="",
    )


def _beat(job_pk: int, done: int) -> None:
    ExportJob.objects.filter(pk=job_pk).update(rows_done=done, heartbeat_at=timezone.now())


def _fail(job: ExportJob, message: str) -> None:
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.FAILED, error=message, finished_at=timezone.now()
    )


def open_download(*, acting_user: User, origin: Origin, job_pk: int) -> tuple[Path, ExportJob]:
    """The finished file of the user's own export; each download is an audited raw read."""
    job = get_job(acting_user, job_pk)
    if job.status != ExportStatus.DONE:
        raise Conflict(
            f"Export {job.pk} is not ready yet ({job.get_status_display().lower()}); "
            "download it when it is done.",
            export=job.pk,
            state=job.status,
        )
    path = job_file(job)
    if not path.is_file():
        raise Conflict(f"The file of export {job.pk} is gone; start a new export.", export=job.pk)
    with transaction.atomic():
        record(
            actor=acting_user,
            origin=origin,
            kind=AuditKind.RAW_READ,
            action="export.download",
            project=job.project,
            target=job,
            detail={"format": job.format, "submissions": job.rows_total},
        )
    return path, job


def resume_interrupted_jobs(*, stale_after: timedelta = STALE_AFTER) -> int:
    """Queue again the jobs whose worker stopped mid-way, and those never queued."""
    cutoff = timezone.now() - stale_after
    stalled = list(
        ExportJob.objects.filter(status=ExportStatus.RUNNING, heartbeat_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    lost = list(
        ExportJob.objects.filter(
            status=ExportStatus.QUEUED, task_id="", created_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    for pk in [*stalled, *lost]:
        ExportJob.objects.filter(pk=pk).update(status=ExportStatus.QUEUED, rows_done=0)
        enqueue(pk)
    return len(stalled) + len(lost)
