"""The column store (exports/store/): built once, then only the segments a write touched
are rebuilt; a withdrawal deletes it; a background sync is queued once per burst."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from incity.accounts.audit import Origin
from incity.exports.engine import ExportOptions
from incity.exports.services import export_to_file
from incity.exports.store import build, schedule, sync
from incity.exports.store import files as store_files
from incity.exports.store.sync import purge_forms
from incity.surveys import derived
from incity.surveys.models import Form, Submission
from incity.surveys.services import data_state
from incity.surveys.services.review import edit_submission, review_submission
from incity.surveys.services.withdrawal import withdraw
from tests.exports.helpers import csv_values, exportable, flat_form, submit_flat, submitted_flat
from tests.personas import Cast

pytestmark = pytest.mark.django_db
SYSTEM = Origin.cli()
SEGMENT = 4


@pytest.fixture
def small_segments(monkeypatch: Any) -> None:
    monkeypatch.setattr(store_files, "SEGMENT_SIZE", SEGMENT)


@pytest.fixture
def form(cast: Cast, small_segments: None) -> Form:
    form = flat_form(cast)
    for age in range(20, 29):
        submit_flat(form, cast, age=age)
    return form


def _segment_of(pk: int) -> int:
    return pk // SEGMENT


def _export_rows(form: Form, tmp_path: Path, name: str = "out.csv", **options: Any) -> list[Any]:
    out = tmp_path / name
    export_to_file(
        acting_user=None,
        origin=SYSTEM,
        form_pk=form.pk,
        options=ExportOptions(format="csv", **options),
        out=out,
        force=True,
    )
    header, *rows = csv_values(out)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _segments(form: Form) -> dict[int, str]:
    manifest = store_files.read_manifest(form.pk)
    assert manifest is not None
    return {segment: entry.state for segment, entry in manifest.segments.items()}


def test_sync_builds_every_segment_then_finds_the_store_current(
    form: Form, monkeypatch: Any
) -> None:
    ids = sorted(Submission.objects.filter(form=form).values_list("pk", flat=True))
    first = sync(form)
    assert first.state == "synced"
    assert sorted(first.built) == sorted({_segment_of(pk) for pk in ids})
    assert first.rows_built == len(ids)
    assert set(_segments(form).values()) == {"fit"}
    for segment in first.built:
        assert store_files.segment_path(form.pk, segment).is_file()
    called: list[int] = []
    monkeypatch.setattr(build, "fingerprints", lambda form_id: called.append(form_id) or {})
    again = sync(form)
    assert again.state == "current"
    assert (again.built, called) == ([], [])


def test_a_new_submission_rebuilds_only_its_segment(form: Form, cast: Cast) -> None:
    sync(form)
    new = submit_flat(form, cast, age=99)
    report = sync(form)
    assert report.state == "synced"
    assert report.built == [_segment_of(new)]
    assert (
        report.rows_built
        == Submission.objects.filter(form=form, pk__gte=_segment_of(new) * SEGMENT).count()
    )


def test_an_edit_rebuilds_its_segment_and_the_export_shows_it(
    form: Form, cast: Cast, tmp_path: Path
) -> None:
    target = Submission.objects.filter(form=form).order_by("pk").first()
    assert target is not None
    _export_rows(form, tmp_path)
    edit_submission(
        acting_user=cast.researcher,
        origin=SYSTEM,
        submission_pk=target.pk,
        answers={**target.answers, "age": 77},
        reason="age misheard",
    )
    rows = _export_rows(form, tmp_path)
    assert [row["age"] for row in rows if row["submission_id"] == target.pk] == [77.0]
    assert sync(form).state == "current"


def test_a_review_rebuilds_its_segment_and_the_export_shows_the_status(
    form: Form, cast: Cast, tmp_path: Path
) -> None:
    target = Submission.objects.filter(form=form).order_by("pk").last()
    assert target is not None
    sync(form)
    review_submission(
        acting_user=cast.researcher, origin=SYSTEM, submission_pk=target.pk, action="approve"
    )
    report = sync(form)
    assert report.built == [_segment_of(target.pk)]
    statuses = {row["submission_id"]: row["status"] for row in _export_rows(form, tmp_path)}
    assert statuses[target.pk] == "approved"
    assert sorted(set(statuses.values())) == ["approved", "received"]


def test_a_withdrawal_deletes_the_store_and_its_rows_leave_the_export(
    cast: Cast, small_segments: None, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    form = flat_form(cast)
    kept = submit_flat(form, cast, age=30)
    leaving = submitted_flat(form, cast, age=31)
    assert leaving.submission is not None
    assert len(_export_rows(form, tmp_path)) == 2
    assert store_files.form_dir(form.pk).is_dir()
    with django_capture_on_commit_callbacks(execute=True):
        withdraw(origin=SYSTEM, code=leaving.withdrawal_code)
    assert not store_files.form_dir(form.pk).exists()
    rows = _export_rows(form, tmp_path)
    assert [row["submission_id"] for row in rows] == [kept]


def test_purge_deletes_only_the_named_forms_stores(cast: Cast, form: Form) -> None:
    other = exportable(cast).form
    sync(form)
    store_files.form_dir(other.pk).mkdir(parents=True)
    purge_forms({form.pk})
    assert not store_files.form_dir(form.pk).exists()
    assert store_files.form_dir(other.pk).is_dir()
    sync(form)
    derived.purge({form.pk})  # the purger registered by ExportsConfig.ready()
    assert not store_files.form_dir(form.pk).exists()


def test_segments_left_without_rows_are_deleted(form: Form) -> None:
    sync(form)
    last = Submission.objects.filter(form=form).order_by("-pk").first()
    assert last is not None
    segment = _segment_of(last.pk)
    Submission.objects.filter(form=form, pk__gte=segment * SEGMENT).delete()
    data_state.bump([form.pk])
    report = sync(form)
    assert report.removed == [segment]
    assert segment not in _segments(form)
    assert not store_files.segment_path(form.pk, segment).exists()


def test_an_unfit_segment_is_exported_by_the_row_path(
    form: Form, tmp_path: Path, monkeypatch: Any
) -> None:
    odd = Submission.objects.filter(form=form).order_by("pk").first()
    assert odd is not None
    Submission.objects.filter(pk=odd.pk).update(answers={"age": "thirty", "comment": 5})
    data_state.bump([form.pk])
    report = sync(form)
    assert report.unfit == [_segment_of(odd.pk)]
    assert _segments(form)[_segment_of(odd.pk)] == "unfit"
    assert not store_files.segment_path(form.pk, _segment_of(odd.pk)).exists()
    rows = {row["submission_id"]: row for row in _export_rows(form, tmp_path)}
    assert (rows[odd.pk]["age"], rows[odd.pk]["comment"]) == ("", 5.0)
    assert len(rows) == Submission.objects.filter(form=form).count()


def test_a_store_from_another_database_or_an_unreadable_manifest_is_rebuilt(
    form: Form,
) -> None:
    sync(form)
    manifest = store_files.read_manifest(form.pk)
    assert manifest is not None
    manifest.form_created = "2001-01-01T00:00:00+00:00"
    store_files.write_manifest(manifest)
    assert sync(form).state == "synced"
    assert sync(form).state == "current"
    (store_files.form_dir(form.pk) / "manifest.json").write_text("{not json")
    report = sync(form)
    assert report.state == "synced"
    assert len(report.built) == len(_segments(form))


def test_a_form_with_repeats_is_not_stored_and_exports_by_the_row_path(
    cast: Cast, tmp_path: Path
) -> None:
    item = exportable(cast)
    store_files.form_dir(item.form.pk).mkdir(parents=True)
    assert sync(item.form).state == "not stored"
    assert not store_files.form_dir(item.form.pk).exists()


def test_schedule_sync_queues_one_sync_per_burst(
    cast: Cast,
    form: Form,
    immediate_jobs: None,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    runs: list[int] = []
    original = schedule.run_sync
    monkeypatch.setattr(
        schedule, "run_sync", lambda form_id: runs.append(form_id) or original(form_id)
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(5):
            schedule.schedule_sync(form.pk)
    assert len(callbacks) == 5
    assert runs == [form.pk]
    assert sync(form).state == "current"
    # Within the window, another write queues nothing more: the store stays behind until
    # the next window's sync, or the next export's own.
    submit_flat(form, cast, age=50)
    with django_capture_on_commit_callbacks(execute=True):
        schedule.schedule_sync(form.pk)
    assert runs == [form.pk]
    assert sync(form).state == "synced"


def test_schedule_sync_never_fails_the_write(form: Form, monkeypatch: Any, caplog: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> bool:
        raise ConnectionError("cache down")

    monkeypatch.setattr(schedule.cache, "add", broken)
    schedule._enqueue(form.pk)
    assert "could not queue a column store sync" in caplog.text
    assert store_files.read_manifest(form.pk) is None


def test_the_sync_task_deletes_the_store_of_a_form_that_is_gone(small_segments: None) -> None:
    store_files.form_dir(987654).mkdir(parents=True)
    schedule.run_sync(987654)
    assert not store_files.form_dir(987654).exists()


def test_a_store_that_cannot_be_written_leaves_the_export_to_the_row_path(
    form: Form, tmp_path: Path, settings: Any, caplog: Any
) -> None:
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    (settings.DATA_DIR / "columns").write_text("a file where the store's folder should be")
    rows = _export_rows(form, tmp_path)
    assert len(rows) == Submission.objects.filter(form=form).count()
    assert "could not be synced" in caplog.text


def test_a_segment_file_that_went_missing_is_rebuilt(form: Form) -> None:
    sync(form)
    segment = min(_segments(form))
    store_files.segment_path(form.pk, segment).unlink()
    report = sync(form)
    assert report.built == [segment]
    assert store_files.segment_path(form.pk, segment).is_file()
