"""`incity maps layer` as an operator meets it: one line and no file for every mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from incity.cli import main
from incity.surveys.models import Form
from tests.maps.fixtures import riverton_form
from tests.personas import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(cast: Cast) -> Form:
    return riverton_form(cast)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["maps", "layer", *args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--kind", "points"], "--kind: 'points' is not one of"),
        (["--format", "pdf"], "--format: 'pdf' is not one of"),
        (["--measure", "mean"], "--measure: 'mean' is not one of"),
        (["--since", "31/01/2026"], "is not a date"),
        (["--time", "midnight"], "midnight"),
        (["--category", "scary"], "scary"),
        (["--resolution", "3"], "resolution"),
        (["--group", "tenure"], "tenure"),
        (["--as", "nobody"], "no active user named 'nobody'"),
        (["--as", "otto"], "No form"),
    ],
)
def test_bad_input_is_refused_with_one_line_and_no_file(
    form: Form, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: str
) -> None:
    out = tmp_path / "layer.geojson"
    status, stdout, err = _run([str(form.pk), "--out", str(out), *extra], capsys)
    lines = err.strip().splitlines()
    assert status != 0, stdout
    assert len(lines) == 1, err
    assert words in lines[0], lines[0]
    assert "Traceback" not in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_form_and_an_existing_file_are_refused(
    form: Form, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "layer.geojson"
    status, _, err = _run(["riverton-survey/nope", "--out", str(out)], capsys)
    assert status != 0
    assert "no form 'nope'" in err
    out.write_text("keep me")
    status, _, err = _run([str(form.pk), "--out", str(out)], capsys)
    assert status == 2
    assert "--force" in err
    assert out.read_text() == "keep me"


def test_the_published_hexagons_never_show_the_stray_marks(
    form: Form, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "layer.geojson"
    status, stdout, err = _run([str(form.pk), "--out", str(out)], capsys)
    assert status == 0, err
    layer = json.loads(out.read_text())
    assert layer["type"] == "FeatureCollection"
    counts = [feature["properties"].get("total") for feature in layer["features"]]
    assert counts
    assert all(count is None or count == 0 or count >= 10 for count in counts), counts
    assert 12 in counts  # the cluster is published; the three stray marks are not
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["features"] == len(layer["features"])


@pytest.mark.parametrize("image_format", ["png", "svg"])
def test_a_static_map_is_a_real_image(
    form: Form, tmp_path: Path, capsys: pytest.CaptureFixture[str], image_format: str
) -> None:
    out = tmp_path / f"map.{image_format}"
    status, _, err = _run([str(form.pk), "--format", image_format, "--out", str(out)], capsys)
    assert status == 0, err
    if image_format == "png":
        with Image.open(out) as image:
            assert image.format == "PNG"
    else:
        assert out.read_text().lstrip().startswith(("<?xml", "<svg"))
