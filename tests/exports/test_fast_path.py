"""Exports written from the column store (exports/store/) hold the same values as the
row-by-row path's (CSV read back cell by cell, Parquet the same table), including the
segments whose answers do not fit the store's schema (written by the row path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from incity.accounts.audit import Origin
from incity.exports import columnar
from incity.exports.engine import ExportOptions, parse_since
from incity.exports.services import export_to_file
from incity.exports.store import export as store_export
from incity.exports.store import files as store_files
from incity.surveys.models import Form, Submission
from tests.exports.helpers import csv_values, flat_form, submit_flat
from tests.personas import Cast
from tests.surveys.forms import DE

pytestmark = pytest.mark.django_db
SYSTEM = Origin.cli()


@pytest.fixture
def flat(cast: Cast, settings: Any, monkeypatch: Any) -> Form:
    # Small segments and chunks, so that fit segments and unfit ones (row path) all meet.
    monkeypatch.setattr(store_files, "SEGMENT_SIZE", 4)
    settings.EXPORT_CHUNK_SIZE = 3
    form = flat_form(cast)
    submit_flat(form, cast)
    submit_flat(form, cast, comment='quote " comma, new\nline and ünïcödé 🚲', rent=None)
    submit_flat(form, cast, age=70, tenure="owner", rent=None, barriers=[], born_here="yes")
    integral = submit_flat(form, cast, rent=640.0, comment=" leading space\rreturn")
    submit_flat(form, cast, tenure="social_rent", rent=0.3, comment="")
    submit_flat(form, cast, age=22, rent=12345678.25, comment="last of a columnar chunk")
    # The last segment: answers of types the schema does not expect, so the row path.
    odd_types = submit_flat(form, cast)
    doubled = submit_flat(form, cast)
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
def test_csv_reads_back_to_the_same_values(
    flat: Form, tmp_path: Path, monkeypatch: Any, options: Any
) -> None:
    fast = _export(flat, tmp_path / "fast.csv", True, monkeypatch, format="csv", **options)
    rows = _export(flat, tmp_path / "rows.csv", False, monkeypatch, format="csv", **options)
    assert csv_values(fast) == csv_values(rows)
    assert len(csv_values(fast)) >= 2
    assert fast.read_bytes().count(b"\r\n") == len(csv_values(fast))


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


def test_the_store_is_taken_for_a_flat_form_and_holds_fit_and_unfit_segments(
    flat: Form, tmp_path: Path, monkeypatch: Any
) -> None:
    taken: list[object] = []
    original = store_export.write

    def spy(*args: Any, **kwargs: Any) -> int | None:
        taken.append(result := original(*args, **kwargs))
        return result

    monkeypatch.setattr(store_export, "write", spy)
    _export(flat, tmp_path / "spy.csv", True, monkeypatch, format="csv")
    assert taken == [Submission.objects.filter(form=flat).count()]
    manifest = store_files.read_manifest(flat.pk)
    assert manifest is not None
    states = {entry.state for entry in manifest.segments.values()}
    assert states == {"fit", "unfit"}


def test_forms_with_repeats_or_sensitive_answers_take_the_row_path(cast: Cast) -> None:
    from incity.exports.engine import plan_export

    form = flat_form(cast)
    flat_plan = plan_export(form, ExportOptions(format="csv"))
    assert columnar.supported(flat_plan.layout, "csv", "codes", False)
    assert not columnar.supported(flat_plan.layout, "csv", "codes", True)
    assert not columnar.supported(flat_plan.layout, "xlsx", "codes", False)
    assert not columnar.supported(flat_plan.layout, "sav", "numbered", False)


@pytest.mark.parametrize("code", ["no_time", "a b", "x.y*", "ü#&~-", "q(1)", "[^$]", "x\ny"])
def test_choice_codes_with_any_characters_are_found_literally(code: str) -> None:
    import pyarrow as pa

    lists = pa.array([["z", code, "q"], [f"{code}x"], [], None], pa.list_(pa.string()))
    assert columnar.dummy(lists, code).to_pylist() == [1, 0, 0, None]
    assert columnar.dummy(lists.slice(1), code).to_pylist() == [0, 0, None]
