"""`incity export` as an operator meets it: one line and nothing written for every mistake."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from incity.accounts.models import AuditEvent
from incity.cli import main
from tests.exports.helpers import exportable, files_in
from tests.personas import Cast

pytestmark = pytest.mark.django_db


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def _refused(args: list[str], capsys: pytest.CaptureFixture[str], words: str) -> None:
    status, out, err = _run(args, capsys)
    lines = err.strip().splitlines()
    assert status != 0, out
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert words in lines[0], lines[0]
    assert not AuditEvent.objects.filter(action="export.write").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["999999", "--format", "csv"], "No form 999999"),
        (["riverton-survey/nope", "--format", "csv"], "no form 'nope'"),
        (["not a form", "--format", "csv"], "FORM must be"),
        (["{form}", "--format", "pdf"], "'pdf' is not an export format"),
        (["{form}", "--format", "csv", "--since", "31/01/2026"], "is not a date"),
        (["{form}", "--format", "csv", "--language", "Klingon (tlh)"], "not one of the form's"),
        (["{form}", "--format", "csv", "--labels", "names"], "must be 'codes' or 'labels'"),
        (["{form}", "--format", "csv", "--as", "nobody"], "no active user named 'nobody'"),
        (["{form}", "--format", "csv", "--as", "paul"], "does not allow export_raw_data"),
        (["{form}", "--format", "csv", "--as", "otto"], "No form"),
    ],
)
def test_bad_input_is_refused_with_one_line_and_nothing_written(
    cast: Cast,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    words: str,
) -> None:
    item = exportable(cast)
    out = tmp_path / "out.zip"
    filled = [arg.replace("{form}", str(item.form.pk)) for arg in args]
    _refused(["export", *filled, "--out", str(out)], capsys, words)
    assert files_in(tmp_path) == []


def test_an_existing_file_is_kept_without_force(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item = exportable(cast)
    out = tmp_path / "out.zip"
    out.write_text("precious")
    _refused(["export", str(item.form.pk), "--format", "csv", "--out", str(out)], capsys, "--force")
    assert out.read_text() == "precious"
    status, _, err = _run(
        ["export", str(item.form.pk), "--format", "csv", "--out", str(out), "--force"], capsys
    )
    assert status == 0, err
    assert zipfile.is_zipfile(out)
    assert files_in(tmp_path) == ["out.zip"]


@pytest.mark.parametrize(
    ("where", "words"),
    [("missing/out.zip", "does not exist"), ("", "is a folder"), ("out.csv", "ending in .zip")],
)
def test_a_path_the_export_cannot_use_is_refused(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, words: str
) -> None:
    item = exportable(cast)
    target = tmp_path / where if where else tmp_path
    _refused(["export", str(item.form.pk), "--format", "csv", "--out", str(target)], capsys, words)
    assert files_in(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_folder_is_refused(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item = exportable(cast)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    _refused(
        ["export", str(item.form.pk), "--format", "csv", "--out", str(locked / "o.zip")],
        capsys,
        "cannot be written",
    )


def test_an_unpublished_form_has_nothing_to_export(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from incity.surveys.services.forms import create_form
    from tests.personas import SYSTEM
    from tests.surveys.forms import household_definition

    draft = create_form(
        acting_user=cast.researcher,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        definition=household_definition(form_id="draft_only"),
    )
    _refused(
        ["export", str(draft.pk), "--format", "csv", "--out", str(tmp_path / "o.zip")],
        capsys,
        "never been published",
    )


def test_export_by_project_and_form_id_writes_the_file_and_audits_the_read(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exportable(cast)
    out = tmp_path / "household.xlsx"
    status, stdout, err = _run(
        ["export", "riverton-survey/household", "--format", "xlsx", "--out", str(out)], capsys
    )
    assert status == 0, err
    assert stdout.startswith(f"wrote {out}: 3 submissions, 2 linked tables")
    event = AuditEvent.objects.get(action="export.write")
    assert (event.kind, event.actor, event.channel) == ("raw_read", None, "cli")
    assert event.project == cast.survey
    assert files_in(tmp_path) == ["household.xlsx"]


def test_a_long_spss_table_needs_a_zip_name_and_then_comes_in_parts(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: object
) -> None:
    from tests.exports.helpers import flat_form, submit_flat

    form = flat_form(cast)
    for age in (20, 30, 40):
        submit_flat(form, cast, age=age)
    settings.EXPORT_STATS_PART_ROWS = 2  # type: ignore[attr-defined]
    sav = tmp_path / "flat.sav"
    _refused(
        ["export", str(form.pk), "--format", "sav", "--out", str(sav)],
        capsys,
        "3 submissions are more than one sav file holds (2), so the export is a zip of parts",
    )
    assert files_in(tmp_path) == []
    out = tmp_path / "flat.zip"
    status, _, err = _run(["export", str(form.pk), "--format", "sav", "--out", str(out)], capsys)
    assert status == 0, err
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == [
            "README.txt",
            f"{form.form_id}_part1.sav",
            f"{form.form_id}_part2.sav",
        ]
