"""Export jobs over HTTP: start one, poll its progress, download its file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Router, Schema, Status

from incity.api_context import api_origin, signed_in_user
from incity.exports import services
from incity.exports.engine import ExportOptions, parse_since
from incity.exports.models import ExportJob, ExportStatus
from incity.exports.queries import get_job

router = Router(tags=["exports"])


class ExportIn(Schema):
    format: str
    labels: str = "codes"
    language: str | None = None
    since: str | None = None
    include_sensitive: bool = False


class ExportOut(Schema):
    id: int
    form: int
    format: str
    labels: str
    language: str
    since: datetime | None
    include_sensitive: bool
    status: str
    rows_done: int
    rows_total: int
    percent: int
    error: str
    size: int
    file_name: str
    synthetic: bool
    created_at: datetime
    finished_at: datetime | None
    status_url: str
    download_url: str | None


def job_out(job: ExportJob) -> dict[str, Any]:
    done = job.status == ExportStatus.DONE
    return {
        "id": job.pk,
        "form": job.form_id,
        "format": job.format,
        "labels": job.labels,
        "language": job.language,
        "since": job.since,
        "include_sensitive": job.include_sensitive,
        "status": job.status,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": job.percent,
        "error": job.error,
        "size": job.size,
        "file_name": job.download_name,
        "synthetic": job.is_synthetic,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "status_url": reverse("api:export_status", args=[job.pk]),
        "download_url": reverse("api:export_download", args=[job.pk]) if done else None,
    }


@router.post("/forms/{form}/exports", response={202: ExportOut})
def start_export(request: HttpRequest, form: int, payload: ExportIn) -> Any:
    """Queue an export of the form's submissions (needs export_raw_data; audited)."""
    options = ExportOptions(
        format=payload.format,
        labels=payload.labels,
        language=payload.language,
        since=parse_since(payload.since) if payload.since else None,
        include_sensitive=payload.include_sensitive,
    )
    job = services.start_export(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        form_pk=form,
        options=options,
    )
    job.refresh_from_db()
    return Status(202, job_out(job))


@router.get("/exports/{export}", response=ExportOut, url_name="export_status")
def export_status(request: HttpRequest, export: int) -> Any:
    """The job's progress: rows written of the total, and the download link once done."""
    return job_out(get_job(signed_in_user(request), export))


@router.get("/exports/{export}/download", url_name="export_download")
def download(request: HttpRequest, export: int) -> FileResponse:
    """The finished file (the download is an audited raw read)."""
    path, job = services.open_download(
        acting_user=signed_in_user(request), origin=api_origin(request), job_pk=export
    )
    return FileResponse(path.open("rb"), as_attachment=True, filename=job.download_name)
