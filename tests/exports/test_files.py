"""Every format opened with the library its users open it with: labels, repeats, sensitivity."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pyreadstat
import pytest

from incity.accounts.audit import Origin
from incity.exports.engine import ExportOptions, parse_since
from incity.exports.services import export_to_file
from incity.surveys.models import Submission
from tests.exports.helpers import Exportable, exportable
from tests.personas import Cast
from tests.surveys.forms import DE

pytestmark = pytest.mark.django_db
CLI = Origin.cli()


def _export(
    item: Exportable, tmp_path: Path, name: str, user: object = None, **options: object
) -> Path:
    out = tmp_path / name
    export_to_file(
        acting_user=user,  # type: ignore[arg-type]
        origin=CLI,
        form_pk=item.form.pk,
        options=ExportOptions(**options),  # type: ignore[arg-type]
        out=out,
    )
    return out


def _csv_tables(path: Path) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))
            for name in archive.namelist()
        }


def test_csv_has_one_row_per_submission_and_repeats_in_linked_files(
    cast: Cast, tmp_path: Path
) -> None:
    item = exportable(cast)
    tables = _csv_tables(_export(item, tmp_path, "out.zip", format="csv"))
    assert sorted(tables) == ["household.csv", "household_household.csv", "household_places.csv"]
    main = tables["household.csv"]
    assert [int(row["submission_id"]) for row in main] == item.submission_ids
    first = main[0]
    assert first["age"] == "34"
    assert first["tenure"] == "private_rent"
    assert first["rent"] == "640.5"
    assert first["barriers"] == "no_time childcare"
    assert (first["barriers_no_time"], first["barriers_language"]) == ("1", "0")
    members = tables["household_household.csv"]
    assert [(int(r["submission_id"]), r["entry"], r["member_age"]) for r in members] == [
        (item.submission_ids[0], "1", "7"),
        (item.submission_ids[0], "2", "41"),
        (item.submission_ids[2], "1", "7"),
        (item.submission_ids[2], "2", "41"),
    ]
    marks = tables["household_places.csv"]
    assert marks[0]["category"] == "unsafe"
    assert json.loads(marks[0]["geometry"]) == {"type": "Point", "coordinates": [-1.89, 52.48]}
    assert marks[1]["geometry"] == ""
    assert marks[1]["description"] == "the underpass by the station"


def test_sensitive_answers_are_left_out_unless_asked_for(cast: Cast, tmp_path: Path) -> None:
    item = exportable(cast)
    without = _csv_tables(_export(item, tmp_path, "a.zip", format="csv"))["household.csv"]
    assert "born_here" not in without[0]
    with_them = _csv_tables(_export(item, tmp_path, "b.zip", format="csv", include_sensitive=True))[
        "household.csv"
    ]
    assert [row["born_here"] for row in with_them] == ["no", "yes", "no"]


def test_a_researcher_may_include_sensitive_answers_and_the_read_is_audited(
    cast: Cast, tmp_path: Path
) -> None:
    from incity.accounts.models import AuditEvent

    item = exportable(cast)
    path = _export(item, tmp_path, "r.zip", cast.researcher, format="csv", include_sensitive=True)
    assert _csv_tables(path)["household.csv"][0]["born_here"] == "no"
    event = AuditEvent.objects.get(action="export.write")
    assert (event.kind, event.actor, event.channel) == ("raw_read", cast.researcher, "cli")
    assert event.detail["sensitive_included"] is True
    assert event.detail["submissions"] == 3


def test_labels_mode_writes_choice_labels_in_the_chosen_language(
    cast: Cast, tmp_path: Path
) -> None:
    item = exportable(cast)
    main = _csv_tables(
        _export(item, tmp_path, "de.zip", format="csv", labels="labels", language=DE)
    )["household.csv"]
    assert main[0]["tenure"] == "Privat gemietet"
    assert main[0]["barriers"] == "Keine Zeit; Kinderbetreuung"


def test_since_keeps_only_later_submissions(cast: Cast, tmp_path: Path) -> None:
    item = exportable(cast)
    Submission.objects.filter(pk=item.submission_ids[0]).update(
        received_at=parse_since("2020-01-01")
    )
    main = _csv_tables(
        _export(item, tmp_path, "since.zip", format="csv", since=parse_since("2021-06-01"))
    )["household.csv"]
    assert [int(row["submission_id"]) for row in main] == item.submission_ids[1:]


@pytest.mark.parametrize(
    ("fmt", "reader"), [("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)]
)
def test_spss_and_stata_files_carry_value_and_variable_labels(
    cast: Cast, tmp_path: Path, fmt: str, reader: object
) -> None:
    item = exportable(cast)
    with zipfile.ZipFile(_export(item, tmp_path, "out.zip", format=fmt)) as archive:
        assert sorted(archive.namelist()) == [
            f"household.{fmt}",
            f"household_household.{fmt}",
            f"household_places.{fmt}",
        ]
        archive.extractall(tmp_path)
    frame, meta = reader(str(tmp_path / f"household.{fmt}"))  # type: ignore[operator]
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["age"] == "How old are you?"
    assert labels["tenure"] == "Do you own or rent your home?"
    assert meta.variable_value_labels["tenure"] == {1: "Owner", 2: "Private rent", 3: "Social rent"}
    assert list(frame["tenure"]) == [2, 1, 3]
    assert list(frame["age"]) == [34, 70, 22]
    assert "born_here" not in frame.columns
    members, _ = reader(str(tmp_path / f"household_household.{fmt}"))  # type: ignore[operator]
    assert list(members["member_age"]) == [7, 41, 7, 41]


@pytest.mark.parametrize(
    ("fmt", "reader"), [("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)]
)
def test_a_table_longer_than_a_part_is_written_in_parts_that_append_to_the_whole(
    cast: Cast, tmp_path: Path, fmt: str, reader: object, settings: object
) -> None:
    item = exportable(cast)
    settings.EXPORT_STATS_PART_ROWS = 2  # type: ignore[attr-defined]
    with zipfile.ZipFile(_export(item, tmp_path, "parts.zip", format=fmt)) as archive:
        names = sorted(archive.namelist())
        readme = archive.read("README.txt").decode("utf-8")
        archive.extractall(tmp_path)
    # 3 submissions: two parts of the main table; 4 household members: two parts; the
    # places table (3 marks) two parts.
    assert names == [
        "README.txt",
        f"household_household_part1.{fmt}",
        f"household_household_part2.{fmt}",
        f"household_part1.{fmt}",
        f"household_part2.{fmt}",
        f"household_places_part1.{fmt}",
        f"household_places_part2.{fmt}",
    ]
    assert "append" in readme.lower()
    assert f"household_part2.{fmt}" in readme
    parts = [reader(str(tmp_path / f"household_part{n}.{fmt}")) for n in (1, 2)]  # type: ignore[operator]
    assert [len(frame) for frame, _ in parts] == [2, 1]
    assert [age for frame, _ in parts for age in frame["age"]] == [34, 70, 22]
    assert [t for frame, _ in parts for t in frame["tenure"]] == [2, 1, 3]
    for _, meta in parts:
        assert meta.variable_value_labels["tenure"] == {
            1: "Owner",
            2: "Private rent",
            3: "Social rent",
        }


def test_a_form_within_one_part_gets_one_plain_file(
    cast: Cast, tmp_path: Path, settings: object
) -> None:
    item = exportable(cast)
    settings.EXPORT_STATS_PART_ROWS = 4  # type: ignore[attr-defined]
    with zipfile.ZipFile(_export(item, tmp_path, "whole.zip", format="sav")) as archive:
        assert sorted(archive.namelist()) == [
            "household.sav",
            "household_household.sav",
            "household_places.sav",
        ]


def test_variable_labels_follow_the_chosen_language(cast: Cast, tmp_path: Path) -> None:
    item = exportable(cast)
    with zipfile.ZipFile(_export(item, tmp_path, "de.zip", format="sav", language=DE)) as archive:
        archive.extractall(tmp_path)
    _, meta = pyreadstat.read_sav(str(tmp_path / "household.sav"))
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["age"] == "Wie alt sind Sie?"
    assert meta.variable_value_labels["tenure"][3] == "Sozialwohnung"


def test_parquet_keeps_types_and_labels(cast: Cast, tmp_path: Path) -> None:
    item = exportable(cast)
    with zipfile.ZipFile(_export(item, tmp_path, "p.zip", format="parquet")) as archive:
        archive.extractall(tmp_path)
    table = pq.read_table(tmp_path / "household.parquet")
    assert table.column("submission_id").to_pylist() == item.submission_ids
    assert table.column("age").to_pylist() == [34.0, 70.0, 22.0]
    assert table.column("rent").to_pylist() == [640.5, None, 300.0]
    field = table.schema.field("tenure")
    assert field.metadata[b"label"].decode() == "Do you own or rent your home?"
    assert json.loads(field.metadata[b"value_labels"])["owner"] == "Owner"
    assert pq.read_table(tmp_path / "household_household.parquet").num_rows == 4


def test_xlsx_has_a_sheet_per_table_and_never_turns_answers_into_formulas(
    cast: Cast, tmp_path: Path
) -> None:
    item = exportable(cast)
    book = openpyxl.load_workbook(_export(item, tmp_path, "x.xlsx", format="xlsx"))
    assert book.sheetnames == ["household", "household_household", "household_places", "variables"]
    rows = list(book["household"].iter_rows(values_only=True))
    header = rows[0]
    assert len(rows) == 4
    comment = rows[2][header.index("comment")]
    assert comment == "=1+1 is text, not a formula"
    assert book["household"].cell(row=3, column=header.index("comment") + 1).data_type == "s"
    variables = {
        (r[0], r[1]): r[2] for r in book["variables"].iter_rows(min_row=2, values_only=True)
    }
    assert variables[("household", "age")] == "How old are you?"


def test_geojson_has_a_feature_per_geometry_without_sensitive_answers(
    cast: Cast, tmp_path: Path
) -> None:
    item = exportable(cast)
    path = _export(item, tmp_path, "g.geojson", format="geojson", include_sensitive=True)
    collection = json.loads(path.read_text())
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert len(features) == 2
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [-1.89, 52.48]}
    properties = features[0]["properties"]
    assert properties["submission_id"] == item.submission_ids[0]
    assert properties["mark_category"] == "unsafe"
    assert properties["age"] == 34
    assert "born_here" not in properties
