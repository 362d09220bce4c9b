"""Importing boundaries and setting a project's area over the API and the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from incity.accounts.models import AuditEvent
from incity.cli import main
from incity.places.models import Area
from tests.personas import Cast, bearer
from tests.places.geo import NORTH, RIVERTON, as_bytes, collection, feature, riverton_areas, square

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/projects/{slug}/areas/import"


def _import(user: Any, data: bytes, slug: str = "riverton-survey", **fields: Any) -> Any:
    upload = SimpleUploadedFile("areas.geojson", data, content_type="application/geo+json")
    return Client().post(IMPORT.format(slug=slug), {"file": upload, **fields}, headers=bearer(user))


# --- refusals -------------------------------------------------------------------------


def test_an_anonymous_import_is_refused(cast: Cast) -> None:
    upload = SimpleUploadedFile("a.geojson", as_bytes(RIVERTON))
    response = Client().post(IMPORT.format(slug="riverton-survey"), {"file": upload})
    assert response.status_code == 401
    assert Area.objects.count() == 0


@pytest.mark.parametrize("role", ["citizen_researcher", "partner", "viewer"])
def test_roles_that_may_not_edit_the_project_cannot_import(cast: Cast, role: str) -> None:
    response = _import(cast.by_role(role), as_bytes(RIVERTON))
    assert response.status_code == 403
    assert "edit_project" in response.json()["message"]
    assert Area.objects.count() == 0


def test_another_citys_lead_cannot_tell_the_project_exists(cast: Cast) -> None:
    response = _import(cast.outsider, as_bytes(RIVERTON))
    assert response.status_code == 404
    assert response.json()["message"] == "No project 'riverton-survey' among yours."
    assert Area.objects.count() == 0


def test_a_bad_file_is_refused_with_422_naming_the_feature_and_changes_nothing(
    cast: Cast,
) -> None:
    open_ring = feature("Open", [[*square(-1.92, 52.45, -1.88, 52.5)[0][:-1], [-1.9, 52.4]]])
    response = _import(cast.lead, as_bytes(collection(NORTH, open_ring)))
    assert response.status_code == 422
    body = response.json()
    assert body["extra"]["field"] == "file"
    assert "feature 2 ('Open'): ring 1 of polygon 1 is not closed" in body["message"]
    assert Area.objects.count() == 0
    assert not AuditEvent.objects.filter(action="places.import_boundaries").exists()


def test_an_unknown_kind_is_refused(cast: Cast) -> None:
    response = _import(cast.lead, as_bytes(RIVERTON), kind="galaxy")
    assert response.status_code == 422
    assert response.json()["message"].startswith("The kind 'galaxy' is not one of")


def test_a_file_over_the_limit_is_refused(cast: Cast, settings: Any) -> None:
    settings.BOUNDARY_UPLOAD_MAX_BYTES = 100
    response = _import(cast.lead, as_bytes(RIVERTON))
    assert response.status_code == 422
    assert "limit (INCITY_BOUNDARY_UPLOAD_MAX_MB)" in response.json()["message"]


def test_boundaries_far_away_that_fit_when_swapped_are_refused(cast: Cast) -> None:
    riverton_areas(cast)
    swapped = feature("Riverton East", [[[y, x] for x, y in square(-1.88, 52.45, -1.86, 52.5)[0]]])
    response = _import(cast.lead, as_bytes(collection(swapped)))
    assert response.status_code == 422
    assert "coordinates look swapped" in response.json()["message"]
    assert not Area.objects.filter(name="Riverton East").exists()


def test_setting_the_project_area_to_another_organisations_area_is_refused(cast: Cast) -> None:
    elsewhere = Area.objects.create(organisation=cast.hillside, name="Hillside Centre")
    response = Client().put(
        "/api/v1/projects/riverton-survey/areas",
        {"areas": [elsewhere.pk]},
        content_type="application/json",
        headers=bearer(cast.lead),
    )
    assert response.status_code == 422
    assert f"has no area with the id {elsewhere.pk}" in response.json()["message"]
    assert not cast.survey.areas.exists()


def test_the_areas_of_another_citys_project_answer_404(cast: Cast) -> None:
    response = Client().get("/api/v1/projects/riverton-survey/areas", headers=bearer(cast.outsider))
    assert response.status_code == 404


# --- acceptance -------------------------------------------------------------------------


def test_a_lead_imports_boundaries_into_the_project_area(cast: Cast) -> None:
    response = _import(cast.lead, as_bytes(RIVERTON), code_field="code", kind="ward")
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "organisation": "riverton",
        "project": "riverton-survey",
        "created": ["Riverton North", "Riverton South"],
        "updated": [],
        "repaired": [],
    }
    assert sorted(cast.survey.areas.values_list("code", "kind")) == [("RN", "ward"), ("RS", "ward")]
    event = AuditEvent.objects.get(action="places.import_boundaries")
    assert event.actor == cast.lead
    assert event.detail["created"] == 2

    listing = Client().get("/api/v1/projects/riverton-survey/areas", headers=bearer(cast.viewer))
    assert listing.status_code == 200
    names = [f["properties"]["name"] for f in listing.json()["features"]]
    assert names == ["Riverton North", "Riverton South"]


def test_importing_again_updates_the_boundaries_of_areas_with_the_same_name(cast: Cast) -> None:
    riverton_areas(cast)
    moved = feature("Riverton North", square(-1.93, 52.476, -1.87, 52.51))
    response = _import(cast.researcher, as_bytes(collection(moved)))
    assert response.status_code == 201
    assert response.json()["updated"] == ["Riverton North"]
    assert Area.objects.filter(organisation=cast.riverton).count() == 2
    area = Area.objects.get(name="Riverton North")
    assert area.boundary is not None
    assert area.boundary["coordinates"][0][0] == [-1.93, 52.476]
    assert area.code == "RN"  # a file without codes keeps the codes held


def test_a_repaired_geometry_is_reported(cast: Cast) -> None:
    bowtie = [[[-1.92, 52.45], [-1.88, 52.50], [-1.88, 52.45], [-1.92, 52.50], [-1.92, 52.45]]]
    response = _import(cast.lead, as_bytes(collection(feature("Bowtie", bowtie))))
    assert response.status_code == 201
    assert response.json()["repaired"][0].startswith("feature 1 ('Bowtie'): Self-intersection")


def test_setting_the_project_area_to_some_of_the_organisations_areas(cast: Cast) -> None:
    riverton_areas(cast)
    north = Area.objects.get(name="Riverton North")
    response = Client().put(
        "/api/v1/projects/riverton-survey/areas",
        {"areas": [north.pk]},
        content_type="application/json",
        headers=bearer(cast.researcher),
    )
    assert response.status_code == 200
    assert [row["name"] for row in response.json()] == ["Riverton North"]
    assert list(cast.survey.areas.all()) == [north]


# --- command line --------------------------------------------------------------------


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_the_cli_imports_for_an_organisation(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wards.geojson"
    path.write_bytes(as_bytes(RIVERTON))
    status, out, err = _run(
        ["places", "import", str(path), "--org", "riverton", "--code-field", "code"], capsys
    )
    assert status == 0, err
    assert json.loads(out.strip().splitlines()[-1])["created"] == [
        "Riverton North",
        "Riverton South",
    ]
    assert AuditEvent.objects.get(action="places.import_boundaries").channel == "cli"
    status, out, _ = _run(["places", "list", "--org", "riverton"], capsys)
    assert status == 0
    assert "Riverton North\tRN\tneighbourhood" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--org", "atlantis"], "No organisation 'atlantis'."),
        (["--org", "riverton", "--name-field", "NAME"], "has no 'NAME' property"),
        (["--org", "riverton", "--kind", "planet"], "The kind 'planet' is not one of"),
        (["--org", "hillside", "--project", "riverton-survey"], "belongs to 'riverton'"),
    ],
)
def test_the_cli_refuses_with_one_line(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    path = tmp_path / "wards.geojson"
    path.write_bytes(as_bytes(RIVERTON))
    status, _out, err = _run(["places", "import", str(path), *args], capsys)
    assert status != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert words in lines[0]
    assert "Traceback" not in err
    assert Area.objects.count() == 0


def test_the_cli_refuses_a_missing_file(cast: Cast, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _run(["places", "import", "/nowhere/x.geojson", "--org", "riverton"], capsys)
    assert status == 2
    assert err.strip() == "incity: no file at /nowhere/x.geojson."


def test_the_cli_refuses_an_invalid_file_with_one_line(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text("{not json")
    status, _, err = _run(["places", "import", str(path), "--org", "riverton"], capsys)
    assert status != 0
    assert len(err.strip().splitlines()) == 1
    assert "The file is not valid JSON" in err
