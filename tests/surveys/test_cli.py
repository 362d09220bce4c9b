"""`incity forms`, `incity consent` and `incity keys` as an operator meets them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from incity.cli import main
from incity.surveys.models import Form, FormVersion, Submission, Tombstone
from incity.surveys.xlsform import read_xlsform
from tests.personas import Cast
from tests.surveys.forms import published_form, stored
from tests.surveys.test_api_forms import SMALL_XLSFORM, _xlsx

pytestmark = pytest.mark.django_db


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_import_prints_json_last(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "small.xlsx"
    path.write_bytes(SMALL_XLSFORM)
    status, out, err = _run(["forms", "import", str(path), "--project", "riverton-survey"], capsys)
    assert status == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    form = Form.objects.get()
    assert result == {
        "form": form.pk,
        "form_id": "small_test",
        "status": "open",
        "version": 1,
        "questions": 2,
        "languages": ["English (en)", "Deutsch (de)"],
        "warnings": result["warnings"],
        "missing_files": [],
    }


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (b"just some words, not a spreadsheet", "notes.xlsx", ""),
        (
            _xlsx([["type", "name", "label"], ["begin_group", "g", "G"], ["text", "t", "T"]]),
            "open.xlsx",
            "",
        ),
        (_xlsx([["type", "name", "label", "label"], ["text", "t", "T", "U"]]), "dup.xlsx", "label"),
    ],
)
def test_a_broken_file_exits_1_with_one_line_and_imports_nothing(
    cast: Cast,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    name: str,
    words: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    status, _, err = _run(["forms", "import", str(path), "--project", "riverton-survey"], capsys)
    assert status == 1
    assert words in _one_line(err)
    assert Form.objects.count() == 0


def test_import_refuses_a_missing_file_and_an_unknown_project(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _run(
        ["forms", "import", str(tmp_path / "nope.xlsx"), "--project", "riverton-survey"], capsys
    )
    assert status == 2
    assert "no file at" in _one_line(err)
    path = tmp_path / "small.xlsx"
    path.write_bytes(SMALL_XLSFORM)
    status, _, err = _run(["forms", "import", str(path), "--project", "atlantis"], capsys)
    assert status == 1
    assert "atlantis" in _one_line(err)


def test_import_refuses_an_oversized_file(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: Any
) -> None:
    settings.FORM_UPLOAD_MAX_BYTES = 1024 * 1024
    path = tmp_path / "big.xlsx"
    path.write_bytes(b"\0" * (2 * 1024 * 1024))
    status, _, err = _run(["forms", "import", str(path), "--project", "riverton-survey"], capsys)
    assert status == 1
    assert "the limit is 1 MB" in _one_line(err)


def test_export_writes_an_xlsform_that_imports_back_to_the_same_form(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = published_form(cast)
    out = tmp_path / "household.xlsx"
    status, _stdout, err = _run(
        ["forms", "export-xlsform", str(form.pk), "--out", str(out), "--version", "1"], capsys
    )
    assert status == 0, err
    assert (
        read_xlsform(out.read_bytes(), out.name).definition == FormVersion.objects.get().definition
    )


@pytest.mark.parametrize(
    ("args", "status_code", "words"),
    [
        (["forms", "export-xlsform", "abc", "--out", "x.xlsx"], 2, "form's number"),
        (["forms", "export-xlsform", "99999", "--out", "x.xlsx"], 1, "No form 99999"),
        (["forms", "publish", "99999"], 1, "No form 99999"),
        (["consent", "withdraw", "nonsense"], 1, "ABCD-EFGH-JK"),
        (["consent", "withdraw", "ABCD-EFGH-JK"], 1, "No answers are held"),
    ],
)
def test_bad_arguments_get_one_line(
    cast: Cast, capsys: pytest.CaptureFixture[str], args: list[str], status_code: int, words: str
) -> None:
    status, _, err = _run(args, capsys)
    assert status == status_code
    assert words in _one_line(err)


def test_export_refuses_a_folder_and_a_missing_version(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = published_form(cast)
    status, _, err = _run(["forms", "export-xlsform", str(form.pk), "--out", str(tmp_path)], capsys)
    assert status == 2
    assert "is a folder" in _one_line(err)
    status, _, err = _run(
        [
            "forms",
            "export-xlsform",
            str(form.pk),
            "--out",
            str(tmp_path / "x.xlsx"),
            "--version",
            "4",
        ],
        capsys,
    )
    assert status == 1
    assert "no version 4" in _one_line(err)


def test_withdraw_from_the_command_line(cast: Cast, capsys: pytest.CaptureFixture[str]) -> None:
    form = published_form(cast)
    result = stored(form, cast.fieldworker)
    status, out, err = _run(["consent", "withdraw", result.withdrawal_code], capsys)
    assert status == 0, err
    assert "1 submissions removed" in out
    assert Submission.objects.count() == 0
    assert Tombstone.objects.get().channel == "cli"
    status, out, _ = _run(["consent", "withdraw", result.withdrawal_code], capsys)
    assert status == 0
    assert "already withdrawn" in out


def test_keys_generate_and_rotate(
    cast: Cast, capsys: pytest.CaptureFixture[str], settings: Any
) -> None:
    form = published_form(cast)
    stored(form, cast.fieldworker)
    status, out, _ = _run(["keys", "generate"], capsys)
    new_key = out.strip()
    Fernet(new_key.encode())  # a valid key
    old_keys = list(settings.ENCRYPTION_KEYS)
    settings.ENCRYPTION_KEYS = [new_key, *old_keys]
    status, out, err = _run(["keys", "rotate"], capsys)
    assert status == 0, err
    assert "re-encrypted 1 stored values" in out
    settings.ENCRYPTION_KEYS = [new_key]
    secret = bytes(Submission.objects.get().sensitive or b"")
    assert json.loads(Fernet(new_key.encode()).decrypt(secret)) == {"born_here": "no"}


def test_forms_list(cast: Cast, capsys: pytest.CaptureFixture[str]) -> None:
    form = published_form(cast)
    status, out, _ = _run(["forms", "list", "--project", "riverton-survey"], capsys)
    assert status == 0
    assert f"{form.pk}\triverton-survey\thousehold\topen\tv1" in out
    status, _, err = _run(["forms", "list", "--project", "atlantis"], capsys)
    assert status == 1
    assert "atlantis" in _one_line(err)


@pytest.mark.parametrize(
    ("keys", "status_code", "words"),
    [
        (None, 0, "INCITY_ENCRYPTION_KEYS is not set — answers to sensitive questions"),
        ("not-a-fernet-key", 1, "key 1 is not a Fernet key"),
    ],
)
def test_check_reports_missing_and_malformed_encryption_keys(
    tmp_path: Path, keys: str | None, status_code: int, words: str
) -> None:
    from tests.cli.test_cli import _run as run_process

    env = {"INCITY_DATA_DIR": str(tmp_path), "INCITY_SECRET_KEY": "k" * 40}
    if keys is not None:
        env["INCITY_ENCRYPTION_KEYS"] = keys
    assert run_process(["migrate", "--verbosity", "0"], env).returncode == 0
    result = run_process(["check"], env)
    assert result.returncode == status_code
    assert words in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_derive_writes_pending_typed_answers(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    from incity.surveys.models import Answer
    from incity.surveys.services.submissions import SubmissionInput, submit_batch
    from tests.personas import SYSTEM
    from tests.surveys.forms import good_answers, new_instance_id

    form = published_form(cast)
    submit_batch(
        acting_user=cast.fieldworker,
        origin=SYSTEM,
        form_pk=form.pk,
        items=[
            SubmissionInput(
                instance_id=new_instance_id(), answers=good_answers(), consent_accepted=True
            )
        ],
    )
    assert Answer.objects.count() == 0
    status, out, _ = _run(["forms", "derive", str(form.pk)], capsys)
    assert status == 0
    assert "of 1 submissions" in out
    assert Answer.objects.filter(name="age").count() == 1
    status, _, err = _run(["forms", "derive", "x"], capsys)
    assert status == 2
    assert "form's number" in _one_line(err)
