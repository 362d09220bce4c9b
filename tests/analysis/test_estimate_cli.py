"""`incity stats estimate` as an analyst meets it: JSON out, one line on stderr when refused."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from incity.cli import main

SMALL = "stratum,cluster,count,N,owner,w\n1,1,120,5,yes,2.5\n1,2,78,5,no,2.5\n2,1,185,5,yes,2.5\n2,2,228,5,yes,2.5\n3,1,670,5,no,2.5\n3,2,530,5,yes,2.5\n"


@pytest.fixture
def survey_csv(tmp_path: Path) -> Path:
    path = tmp_path / "survey.csv"
    path.write_text(SMALL)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["stats", "estimate", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_it_prints_the_estimate_se_interval_n_and_design_as_json(
    survey_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _run(
        capsys,
        str(survey_csv),
        "--total",
        "count",
        "--psu",
        "cluster",
        "--strata",
        "stratum",
        "--fpc",
        "N",
        "--weight",
        "w",
    )
    assert status == 0, err
    result = json.loads(out)
    assert set(result) == {"estimate", "se", "ci_low", "ci_high", "n", "design"}
    assert result["estimate"] == pytest.approx(4527.5)
    assert result["se"] == pytest.approx(2.5 * math.sqrt(0.6 * 23213))
    assert result["n"] == 6
    assert result["design"]["df"] == 3
    assert result["design"]["fpc_applied"] is True
    assert result["design"]["library"].startswith("svy ")


def test_it_estimates_a_post_stratified_proportion(
    survey_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _run(
        capsys,
        str(survey_csv),
        "--proportion",
        "owner=yes",
        "--poststratify",
        "stratum=1:100,2:100,3:200",
    )
    assert status == 0
    result = json.loads(out)
    # Cell shares 1/2, 1 and 1/2 weighted 1/4, 1/4, 1/2.
    assert result["estimate"] == pytest.approx(0.625)
    assert result["design"]["adjustment"] == "poststratify"
    assert result["design"]["se_reflects_calibration"] is True


def test_it_rakes_to_several_margins(survey_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(
        capsys,
        str(survey_csv),
        "--mean",
        "count",
        "--rake",
        "owner=yes:60,no:40",
        "--rake",
        "stratum=1:30,2:30,3:40",
    )
    assert status == 0
    assert json.loads(out)["design"]["margins"] == {
        "owner": {"yes": 60, "no": 40},
        "stratum": {"1": 30, "2": 30, "3": 40},
    }


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    status, out, err = _run(capsys, *argv)
    assert status != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_a_missing_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "There is no file" in _refused(capsys, str(tmp_path / "nope.csv"), "--mean", "x")


def test_an_empty_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert "is empty" in _refused(capsys, str(path), "--mean", "x")


def test_a_header_without_rows_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "header.csv"
    path.write_text("x,w\n")
    assert "no data rows" in _refused(capsys, str(path), "--mean", "x")


def test_a_missing_column_is_named(survey_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "no column 'income'" in _refused(capsys, str(survey_csv), "--mean", "income")


def test_a_non_number_is_named_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("x,w\n1,1\n2,1\nabc,1\n")
    line = _refused(capsys, str(path), "--mean", "x", "--weight", "w")
    assert "'x' needs numbers, but has 'abc' on line 4" in line


@pytest.mark.parametrize("weight", ["0", "-1"])
def test_zero_or_negative_weights_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], weight: str
) -> None:
    path = tmp_path / "w.csv"
    path.write_text(f"x,w\n1,1\n2,{weight}\n3,1\n")
    assert "must be positive" in _refused(capsys, str(path), "--mean", "x", "--weight", "w")


def test_a_level_not_present_is_refused(
    survey_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "Level 'maybe' does not occur" in _refused(
        capsys, str(survey_csv), "--proportion", "owner=maybe"
    )


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--rake", "owner", "expects COL=LEVEL:TOTAL"),
        ("--rake", "owner=yes-60", "is not LEVEL:TOTAL"),
        ("--rake", "owner=yes:sixty,no:40", "must be a number"),
        ("--rake", "owner=yes:0,no:40", "must be a positive number"),
        ("--rake", "owner=yes:1,yes:40", "given twice"),
        ("--poststratify", "=yes:1", "expects COL=LEVEL:TOTAL"),
    ],
)
def test_malformed_margins_are_refused(
    survey_csv: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, expected: str
) -> None:
    assert expected in _refused(capsys, str(survey_csv), "--mean", "count", option, value)


def test_a_malformed_proportion_is_refused(
    survey_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "expects COL=LEVEL" in _refused(capsys, str(survey_csv), "--proportion", "owner")


def test_margins_that_do_not_cover_the_sample_are_refused(
    survey_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "does not cover the sample" in _refused(
        capsys, str(survey_csv), "--mean", "count", "--poststratify", "owner=yes:10"
    )


def test_rake_margins_with_different_totals_are_refused(
    survey_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _refused(
        capsys,
        str(survey_csv),
        "--mean",
        "count",
        "--rake",
        "owner=yes:60,no:40",
        "--rake",
        "stratum=1:30,2:30,3:41",
    )
    assert "do not describe the same population" in line
