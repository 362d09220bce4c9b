"""Forms over the API: create, edit, consent, publish, versions, XLSForm in and out, media."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.test import Client

from incity.accounts.models import AuditEvent
from incity.surveys.models import Form, FormMedia, FormVersion, Submission
from incity.surveys.xlsform import read_xlsform
from tests.personas import Cast, bearer
from tests.surveys.forms import (
    CONSENT_SHEET,
    DE,
    EN,
    household_definition,
    payload,
    published_form,
)

pytestmark = pytest.mark.django_db


def _api(user: Any) -> Client:
    return Client(headers=bearer(user))


def _create(user: Any, body: dict[str, Any], project: str = "riverton-survey") -> Any:
    return _api(user).post(
        f"/api/v1/projects/{project}/forms", body, content_type="application/json"
    )


def _xlsx(
    rows: list[list[str]],
    choices: list[list[str]] | None = None,
    settings: list[list[str]] | None = None,
) -> bytes:
    book = openpyxl.Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    for row in rows:
        survey.append(row)
    if choices:
        sheet = book.create_sheet("choices")
        for row in choices:
            sheet.append(row)
    if settings:
        sheet = book.create_sheet("settings")
        for row in settings:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SMALL_XLSFORM = _xlsx(
    [
        ["type", "name", "label::English (en)", "label::Deutsch (de)", "required"],
        ["integer", "age", "Age", "Alter", "yes"],
        ["select_one yn", "works", "Do you work?", "Arbeiten Sie?", ""],
    ],
    [
        ["list_name", "name", "label::English (en)", "label::Deutsch (de)"],
        ["yn", "yes", "Yes", "Ja"],
        ["yn", "no", "No", "Nein"],
    ],
    [["form_id", "form_title"], ["small_test", "Small synthetic test form"]],
)


def _import(
    user: Any, data: bytes, name: str = "small.xlsx", project: str = "riverton-survey"
) -> Any:
    upload = io.BytesIO(data)
    upload.name = name
    return _api(user).post(f"/api/v1/projects/{project}/forms/import", {"file": upload})


# --- creating ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["fieldworker", "partner", "viewer"])
def test_roles_that_do_not_edit_the_project_cannot_create_forms(cast: Cast, persona: str) -> None:
    response = _create(getattr(cast, persona), {"definition": household_definition()})
    assert response.status_code == 403
    assert Form.objects.count() == 0


def test_another_city_cannot_create_a_form_in_the_project(cast: Cast) -> None:
    assert _create(cast.outsider, {"definition": household_definition()}).status_code == 404


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "Send a form definition"),
        ({"definition": {"title": "x"}}, "has no 'form_id'"),
        ({"definition": household_definition(languages=[])}, "at least one language"),
        ({"definition": household_definition(), "modules": ["housing"]}, "not both"),
        ({"modules": ["housing"]}, "form_id and a title"),
        ({"modules": ["no-such-module"], "form_id": "x", "title": "X"}, "no-such-module"),
    ],
)
def test_a_bad_form_is_refused_with_a_message(cast: Cast, body: dict[str, Any], words: str) -> None:
    response = _create(cast.researcher, body)
    assert response.status_code in (404, 422), response.content
    assert words in response.json()["message"]
    assert Form.objects.count() == 0


def test_a_definition_with_problems_is_refused_naming_the_question(cast: Cast) -> None:
    definition = household_definition()
    definition["children"][1]["list_name"] = "no_such_list"
    response = _create(cast.researcher, {"definition": definition})
    assert response.status_code == 422
    assert response.json()["message"].startswith("tenure")
    assert response.json()["extra"]["problems"]


def test_a_form_id_is_unique_in_the_project(cast: Cast) -> None:
    assert _create(cast.researcher, {"definition": household_definition()}).status_code == 201
    again = _create(cast.researcher, {"definition": household_definition()})
    assert again.status_code == 409
    assert "household" in again.json()["message"]


def test_a_researcher_builds_a_form_from_modules(cast: Cast) -> None:
    response = _create(
        cast.researcher,
        {"modules": ["housing", "safety"], "form_id": "dips", "title": "DiPS (synthetic test)"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["consent_required"] is True
    assert set(body["consent_sheet"]) == set(body["languages"])
    assert body["questions"] > 5
    form = Form.objects.get()
    assert [child["name"] for child in form.draft["children"]] == ["housing", "safety"]


# --- drafts, consent and publishing --------------------------------------------------


def test_publishing_makes_versions_and_submissions_keep_theirs(cast: Cast) -> None:
    form = published_form(cast)
    api = _api(cast.researcher)
    unchanged = api.post(f"/api/v1/forms/{form.pk}/publish")
    assert unchanged.status_code == 409
    assert "Nothing has changed" in unchanged.json()["message"]
    assert (
        _api(cast.fieldworker)
        .post(f"/api/v1/forms/{form.pk}/submissions", payload(), content_type="application/json")
        .status_code
        == 201
    )

    edited = household_definition()
    edited["children"][-1]["label"] = {EN: "Anything else to tell us?", DE: "Noch etwas?"}
    assert (
        api.put(
            f"/api/v1/forms/{form.pk}/draft",
            {"definition": edited},
            content_type="application/json",
        ).status_code
        == 200
    )
    second = api.post(f"/api/v1/forms/{form.pk}/publish")
    assert second.status_code == 201
    assert second.json()["number"] == 2
    versions = api.get(f"/api/v1/forms/{form.pk}/versions").json()
    assert [v["number"] for v in versions] == [1, 2]
    assert Submission.objects.get().version.number == 1
    v1 = api.get(f"/api/v1/forms/{form.pk}/versions/1").json()
    assert v1["definition"]["children"][-1]["label"][EN] == "Anything else?"
    assert api.get(f"/api/v1/forms/{form.pk}/versions/9").status_code == 404
    old = _api(cast.fieldworker).post(
        f"/api/v1/forms/{form.pk}/submissions", payload(version=1), content_type="application/json"
    )
    assert old.status_code == 201
    assert old.json()["version"] == 1


@pytest.mark.parametrize("persona", ["fieldworker", "viewer"])
def test_only_editors_change_drafts_and_publish(cast: Cast, persona: str) -> None:
    form = published_form(cast)
    api = _api(getattr(cast, persona))
    assert (
        api.put(
            f"/api/v1/forms/{form.pk}/draft",
            {"definition": household_definition()},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert api.post(f"/api/v1/forms/{form.pk}/publish").status_code == 403
    assert FormVersion.objects.count() == 1


def test_the_form_id_cannot_change_in_a_draft(cast: Cast) -> None:
    form = published_form(cast)
    response = _api(cast.researcher).put(
        f"/api/v1/forms/{form.pk}/draft",
        {"definition": household_definition(form_id="renamed")},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "cannot change" in response.json()["message"]


def test_consent_needs_an_information_sheet_in_every_language(cast: Cast) -> None:
    response = _create(
        cast.researcher,
        {"definition": household_definition(), "consent_sheet": {EN: "Only English"}},
    )
    form_pk = response.json()["id"]
    api = _api(cast.researcher)
    refused = api.post(f"/api/v1/forms/{form_pk}/publish")
    assert refused.status_code == 409
    assert DE in refused.json()["message"]
    wrong = api.put(
        f"/api/v1/forms/{form_pk}/consent",
        {"required": True, "sheet": {"Klingon (tlh)": "..."}},
        content_type="application/json",
    )
    assert wrong.status_code == 422
    assert "Klingon" in wrong.json()["message"]
    assert (
        api.put(
            f"/api/v1/forms/{form_pk}/consent",
            {"required": True, "sheet": CONSENT_SHEET},
            content_type="application/json",
        ).status_code
        == 200
    )
    assert api.post(f"/api/v1/forms/{form_pk}/publish").status_code == 201


def test_closing_and_reopening_a_form(cast: Cast) -> None:
    form = published_form(cast)
    api = _api(cast.researcher)
    assert (
        api.post(
            f"/api/v1/forms/{form.pk}/status", {"status": "closed"}, content_type="application/json"
        ).json()["status"]
        == "closed"
    )
    assert (
        api.post(
            f"/api/v1/forms/{form.pk}/status", {"status": "closed"}, content_type="application/json"
        ).status_code
        == 409
    )
    assert (
        api.post(
            f"/api/v1/forms/{form.pk}/status", {"status": "lost"}, content_type="application/json"
        ).status_code
        == 422
    )
    assert (
        api.post(
            f"/api/v1/forms/{form.pk}/status", {"status": "open"}, content_type="application/json"
        ).status_code
        == 200
    )


# --- XLSForm -------------------------------------------------------------------------


def test_import_refuses_non_editors_and_other_cities(cast: Cast) -> None:
    assert _import(cast.fieldworker, SMALL_XLSFORM).status_code == 403
    assert _import(cast.outsider, SMALL_XLSFORM).status_code == 404
    assert Form.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"%PDF-1.4 not a spreadsheet", "form.xlsx", ""),
        (b"", "form.xlsx", ""),
        (_xlsx([["type", "name", "label"], ["selct_one yn", "q", "Q"]]), "bad.xlsx", "row 2"),
        (_xlsx([["type", "name", "label"], ["calculate", "c", ""]]), "calc.xlsx", "calculat"),
        (
            _xlsx([["type", "name", "label"], ["select_one nolist", "q", "Q"]]),
            "list.xlsx",
            "nolist",
        ),
    ],
)
def test_a_broken_xlsform_is_refused_and_nothing_is_imported(
    cast: Cast, data: bytes, name: str, words: str
) -> None:
    response = _import(cast.researcher, data, name)
    assert response.status_code == 422, response.content
    message = response.json()["message"]
    assert "\n" not in message
    assert words in message
    assert Form.objects.count() == 0
    assert not AuditEvent.objects.filter(action="form.import_xlsform").exists()


def test_an_oversized_upload_is_refused_naming_the_limit(cast: Cast, settings: Any) -> None:
    settings.FORM_UPLOAD_MAX_BYTES = 1024 * 1024
    response = _import(cast.researcher, SMALL_XLSFORM + b"\0" * (1024 * 1024))
    assert response.status_code == 422
    assert "1 MB" in response.json()["message"]


def test_an_xlsform_imports_publishes_and_exports_back(cast: Cast) -> None:
    response = _import(cast.researcher, SMALL_XLSFORM)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == 1
    assert body["questions"] == 2
    assert body["status"] == "open"
    assert body["languages"] == ["English (en)", "Deutsch (de)"]
    exported = _api(cast.viewer).get(f"/api/v1/forms/{body['form']}/xlsform?version=1")
    assert exported.status_code == 200
    assert exported["Content-Disposition"].endswith('small_test-v1.xlsx"')
    again = read_xlsform(exported.content, "again.xlsx").definition
    assert again == FormVersion.objects.get().definition

    reimported = _import(cast.researcher, SMALL_XLSFORM)
    assert reimported.status_code == 200
    assert reimported.json()["version"] == 1
    assert any("same as version 1" in w for w in reimported.json()["warnings"])


def test_a_form_that_names_media_waits_for_the_files(cast: Cast) -> None:
    data = _xlsx(
        [
            ["type", "name", "label", "image"],
            ["note", "map_note", "Look at the map", "estate-plan.png"],
            ["text", "where", "Where?", ""],
        ],
        settings=[["form_id"], ["with_media"]],
    )
    body = _import(cast.researcher, data, "media.xlsx").json()
    assert body["status"] == "draft"
    assert body["version"] is None
    assert body["missing_files"] == ["estate-plan.png"]
    api = _api(cast.researcher)
    stray = io.BytesIO(b"\x89PNG...")
    stray.name = "other.png"
    refused = api.post(f"/api/v1/forms/{body['form']}/media", {"file": stray})
    assert refused.status_code == 422
    assert "estate-plan.png" in refused.json()["message"]
    assert api.post(f"/api/v1/forms/{body['form']}/publish").status_code == 409
    image = io.BytesIO(b"\x89PNG synthetic image")
    image.name = "estate-plan.png"
    uploaded = api.post(f"/api/v1/forms/{body['form']}/media", {"file": image})
    assert uploaded.status_code == 201
    assert uploaded.json()["missing_files"] == []
    assert FormMedia.objects.get().size == len(b"\x89PNG synthetic image")
    assert api.post(f"/api/v1/forms/{body['form']}/publish").status_code == 201


def test_the_module_library_is_public(cast: Cast) -> None:
    modules = Client().get("/api/v1/modules").json()
    assert len([m for m in modules if m["slug"] != "background"]) >= 9
    assert all(m["domains"] for m in modules)
    assert Client().get("/api/v1/modules/no-such").status_code == 404
