"""The columnar path (exports/columnar.py) writes the same CSV bytes and the same Parquet
table as the row-by-row path, including the rows and chunks it hands back to that path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from incity.accounts.audit import Origin
from incity.exports import columnar
from incity.exports.engine import ExportOptions, parse_since
from incity.exports.services import export_to_file
from incity.surveys.models import Form, Submission
from incity.surveys.services import forms as form_services
from incity.surveys.services.submissions import SubmissionInput, submit
from tests.personas import Cast
from tests.surveys.forms import CONSENT_SHEET, DE, EN, HOUSEHOLD_FORM, household_definition

pytestmark = pytest.mark.django_db
SYSTEM = Origin.cli()


def _flat_form(cast: Cast) -> Form:
    """The household form without its repeat and map marks: one table, the columnar path."""
    children = [
        child
        for child in HOUSEHOLD_FORM["children"]
        if child["type"] not in ("repeat", "map_marks")
    ]
    form = form_services.create_form(
        acting_user=cast.researcher,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        definition=household_definition(form_id="flat", children=children),
        consent_required=True,
        consent_sheet=CONSENT_SHEET,
    )
    form_services.publish_form(acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk)
    form.refresh_from_db()
    return form


def _submit(form: Form, cast: Cast, **answers: Any) -> int:
    base: dict[str, Any] = {
        "age": 34,
        "tenure": "private_rent",
        "rent": 640.5,
        "barriers": ["no_time", "childcare"],
        "born_here": "no",
        "comment": "synthetic",
    }
    base.update(answers)
    result = submit(
        acting_user=cast.fieldworker,
        origin=SYSTEM,
        form_pk=form.pk,
        item=SubmissionInput(
            instance_id=f"uuid:flat-{len(base)}-{Submission.objects.count()}",
            answers={key: value for key, value in base.items() if value is not None},
            language=EN,
            consent_accepted=True,
        ),
    )
    assert result.submission is not None
    return int(result.submission.pk)


@pytest.fixture
def flat(cast: Cast, settings: Any) -> Form:
    # Small chunks, so that fast chunks, fallback chunks and fallback rows all meet.
    settings.EXPORT_CHUNK_SIZE = 3
    form = _flat_form(cast)
    _submit(form, cast)
    _submit(form, cast, comment='quote " comma, new\nline and ünïcödé 🚲', rent=None)
    _submit(form, cast, age=70, tenure="owner", rent=None, barriers=[], born_here="yes")
    integral = _submit(form, cast, rent=640.0, comment=" leading space\rreturn")
    _submit(form, cast, tenure="social_rent", rent=0.3, comment="")
    _submit(form, cast, age=22, rent=12345678.25, comment="last of a columnar chunk")
    # The third chunk: answers of types the schema does not expect, so the row path.
    odd_types = _submit(form, cast)
    doubled = _submit(form, cast)
    # Stored values the submission service would not write, to reach the fallbacks.
    Submission.objects.filter(pk=integral).update(received_at=parse_since("2026-12-02"))
    Submission.objects.filter(pk=odd_types).update(
        answers={"age": "34", "rent": 1e15, "tenure": "owner", "comment": 5}
    )
    Submission.objects.filter(pk=doubled).update(
        answers={"age": -0, "rent": 1e-05, "barriers": " no_time  childcare ", "comment": "x"}
    )
    return form


def _export(form: Form, out: Path, columnar_path: bool, monkeypatch: Any, **options: Any) -> Path:
    with monkeypatch.context() as patch:
        if not columnar_path:
            patch.setattr(columnar, "supported", lambda *args: False)
        export_to_file(
            acting_user=None,
            origin=SYSTEM,
            form_pk=form.pk,
            options=ExportOptions(**options),
            out=out,
        )
    return out


CASES = [
    {},
    {"labels": "labels"},
    {"labels": "labels", "language": DE},
    {"since": parse_since("2026-12-01")},
]


@pytest.mark.parametrize("options", CASES)
def test_csv_is_byte_identical(flat: Form, tmp_path: Path, monkeypatch: Any, options: Any) -> None:
    fast = _export(flat, tmp_path / "fast.csv", True, monkeypatch, format="csv", **options)
    rows = _export(flat, tmp_path / "rows.csv", False, monkeypatch, format="csv", **options)
    assert fast.read_text().splitlines() == rows.read_text().splitlines()
    assert fast.read_bytes() == rows.read_bytes()
    assert fast.read_bytes().count(b"\r\n") > 1


@pytest.mark.parametrize("options", CASES)
def test_parquet_tables_are_equal(
    flat: Form, tmp_path: Path, monkeypatch: Any, options: Any
) -> None:
    fast = _export(flat, tmp_path / "f.parquet", True, monkeypatch, format="parquet", **options)
    rows = _export(flat, tmp_path / "r.parquet", False, monkeypatch, format="parquet", **options)
    mine, theirs = pq.read_table(fast), pq.read_table(rows)
    assert mine.schema.equals(theirs.schema, check_metadata=True)
    assert mine.equals(theirs)
    assert mine.num_rows >= 1


def test_columnar_path_is_taken_for_a_flat_form(
    flat: Form, tmp_path: Path, monkeypatch: Any
) -> None:
    taken: list[int] = []
    original = columnar.write_csv

    def spy(*args: Any, **kwargs: Any) -> int:
        taken.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(columnar, "write_csv", spy)
    _export(flat, tmp_path / "spy.csv", True, monkeypatch, format="csv")
    assert taken == [1]


def test_forms_with_repeats_or_sensitive_answers_take_the_row_path(cast: Cast) -> None:
    from incity.exports.engine import plan_export

    form = _flat_form(cast)
    flat_plan = plan_export(form, ExportOptions(format="csv"))
    assert columnar.supported(flat_plan.layout, "csv", "codes", False)
    assert not columnar.supported(flat_plan.layout, "csv", "codes", True)
    assert not columnar.supported(flat_plan.layout, "xlsx", "codes", False)
    assert not columnar.supported(flat_plan.layout, "sav", "numbered", False)


@pytest.mark.parametrize("code", ["no_time", "a b", "x.y*", "ü#&~-", "q(1)", "[^$]"])
def test_choice_codes_with_any_characters_are_found_literally(code: str) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    lines = pa.array([f"z\n{code}\nq", f"{code}x", "zz", None])
    pattern = f"(^|\n){columnar._literal(code)}(\n|$)"
    assert pc.match_substring_regex(lines, pattern).to_pylist() == [True, False, False, None]
