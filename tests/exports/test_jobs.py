"""Export jobs on the database queue, run by `incity worker`: idempotent and resumable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from incity.accounts import services as account_services
from incity.accounts.models import AuditEvent
from incity.cli import main
from incity.exports.engine import ExportOptions
from incity.exports.models import ExportJob, ExportStatus
from incity.exports.services import job_file, resume_interrupted_jobs, run_export_job, start_export
from tests.exports.helpers import exportable
from tests.personas import SYSTEM, Cast

pytestmark = pytest.mark.django_db(transaction=True)


def _queued(cast: Cast, format: str = "parquet") -> ExportJob:
    item = exportable(cast)
    return start_export(
        acting_user=cast.researcher,
        origin=SYSTEM,
        form_pk=item.form.pk,
        options=ExportOptions(format=format),
    )


def _work(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker", "--batch", "--interval", "0"]) == 0, capsys.readouterr().err


def test_the_worker_writes_a_queued_job_and_records_its_progress(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    job = _queued(cast)
    job.refresh_from_db()
    assert job.status == ExportStatus.QUEUED
    assert job.task_id
    _work(capsys)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    assert (job.rows_done, job.rows_total, job.percent, job.attempts) == (3, 3, 100, 1)
    assert job_file(job).is_file()
    assert job.size == job_file(job).stat().st_size


def test_running_a_finished_job_again_changes_nothing(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    job = _queued(cast)
    _work(capsys)
    job.refresh_from_db()
    written = job_file(job).stat().st_mtime_ns
    reads = AuditEvent.objects.filter(action="export.write").count()
    run_export_job(job_pk=job.pk)
    job.refresh_from_db()
    assert job.attempts == 1
    assert job_file(job).stat().st_mtime_ns == written
    assert AuditEvent.objects.filter(action="export.write").count() == reads == 1


def test_a_job_whose_worker_died_is_queued_again_and_finished(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    job = _queued(cast)
    long_ago = timezone.now() - timedelta(hours=1)
    # The worker took the task and stopped mid-way: its heartbeat is an hour old.
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING, heartbeat_at=long_ago, rows_done=1, attempts=1
    )
    assert resume_interrupted_jobs() == 1
    _work(capsys)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE
    assert job.attempts == 2
    assert job.rows_done == 3


def test_a_job_fails_with_a_reason_when_its_requester_lost_the_right_to_export(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    job = _queued(cast)
    account_services.set_membership(
        acting_user=None,
        origin=SYSTEM,
        user=cast.researcher,
        organisation=cast.riverton,
        role="viewer",
    )
    _work(capsys)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert "No form" in job.error or "does not allow" in job.error
    assert job.file_name == ""
    assert not AuditEvent.objects.filter(action="export.write").exists()


def test_the_worker_refuses_to_start_when_jobs_run_immediately(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.TASKS_BACKEND = "immediate"
    assert main(["worker", "--batch"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "nothing for a worker to do" in err[0]


def test_no_partial_file_is_left_in_the_exports_folder(
    cast: Cast, capsys: pytest.CaptureFixture[str], exports_dir: Path
) -> None:
    _queued(cast, format="csv")
    _work(capsys)
    names = [path.name for path in exports_dir.iterdir()]
    assert len(names) == 1
    assert names[0].endswith(".zip")
