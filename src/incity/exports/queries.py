"""Guarded reads of export jobs: a job is seen only by whoever asked for it, and only while
their role still allows exporting in its project; anything else answers *not found*."""

from __future__ import annotations

from incity.accounts import access
from incity.accounts.access import AnyUser
from incity.accounts.permissions import ProjectAction
from incity.errors import NotFound
from incity.exports.models import ExportJob


def get_job(user: AnyUser, job_pk: int) -> ExportJob:
    job = (
        ExportJob.objects.select_related("form", "project", "project__organisation")
        .filter(pk=job_pk)
        .first()
    )
    if job is None or not user.is_authenticated or job.requested_by_id != user.pk:
        raise NotFound(f"No export {job_pk} among yours.", export=job_pk)
    try:
        access.get_project(user, job.project.slug, ProjectAction.EXPORT_RAW_DATA)
    except NotFound:
        raise NotFound(f"No export {job_pk} among yours.", export=job_pk) from None
    return job


def recent_jobs(user: AnyUser, form_pk: int, limit: int = 10) -> list[ExportJob]:
    """The user's latest exports of a form (the caller has checked the form itself)."""
    if not user.is_authenticated:
        return []
    return list(ExportJob.objects.filter(form_id=form_pk, requested_by_id=user.pk)[:limit])
