"""Background tasks: thin, they unpack ids and call a service (which is idempotent)."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="exports")
def run_export(job_pk: int) -> None:
    from incity.exports.services import run_export_job

    run_export_job(job_pk=job_pk)


@task(queue_name="default")
def sync_store(form_id: int) -> None:
    """Bring the form's column store up to date (queued by store.schedule_sync)."""
    from incity.exports.store.schedule import run_sync

    run_sync(form_id)
