"""The survey engine's pages: forms, builder, preview, translation, submissions, withdrawal.

Refusals first (visitors, the outsider, roles without the right), then what each
role may do, through the Django test client as the personas.
"""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incity.accounts.models import AuditEvent, AuditKind, Project
from incity.accounts.roles import ProjectState
from incity.surveys.models import Form, FormMedia, Respondent, Submission, Tombstone
from incity.surveys.services import forms as form_services
from incity.surveys.views import submissions as submission_views
from tests.personas import SYSTEM, Cast, signed_in
from tests.surveys.forms import published_form, stored
from tests.web.pages import html
from tests.web.test_accessibility import _check

AR = "العربية (ar)"
EN = "English (en)"
FORMS = reverse("surveys:forms", args=["riverton-survey"])
NEW = reverse("surveys:form_new", args=["riverton-survey"])
IMPORT = reverse("surveys:form_import", args=["riverton-survey"])
WITHDRAW = reverse("surveys:withdraw")


def _draft(cast: Cast, form_id: str = "dips") -> Form:
    return form_services.create_form_from_modules(
        acting_user=cast.researcher,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        form_id=form_id,
        title="Neighbourhood survey",
        module_slugs=["housing", "safety"],
        languages=[EN, "Deutsch (de)"],
    )


def _url(name: str, form: Form, *args: str) -> str:
    return reverse(f"surveys:{name}", args=[form.pk, *args])


def _names(form: Form) -> list[str]:
    form.refresh_from_db()
    return [element["name"] for element in form.draft["children"]]


def _xlsform(
    rows: list[tuple[str, ...]], choices: list[tuple[str, ...]], form_id: str = "mini"
) -> bytes:
    book = openpyxl.Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    for row in rows:
        survey.append(list(row))
    sheet = book.create_sheet("choices")
    for row in choices:
        sheet.append(list(row))
    settings_sheet = book.create_sheet("settings")
    settings_sheet.append(["form_id", "form_title"])
    settings_sheet.append([form_id, "Mini form (synthetic)"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD_ROWS = [
    ("type", "name", "label::English (en)", "label::العربية (ar)"),
    ("select_one yn", "likes", "Do you like the park?", "هل تحب الحديقة؟"),
    ("text", "why", "Why?", "لماذا؟"),
]
GOOD_CHOICES = [
    ("list_name", "name", "label::English (en)", "label::العربية (ar)"),
    ("yn", "yes", "Yes", "نعم"),
    ("yn", "no", "No", "لا"),
]


def _upload(data: bytes, name: str = "mini.xlsx") -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


# --- visitors and the outsider --------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["form", "preview", "translate", "submissions", "question_new", "xlsform"]
)
def test_a_visitor_is_sent_to_sign_in_from_every_form_page(cast: Cast, name: str) -> None:
    form = _draft(cast)
    response = Client().get(_url(name, form))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", [FORMS, NEW, IMPORT])
def test_a_visitor_is_sent_to_sign_in_from_the_project_form_pages(cast: Cast, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_visitor_cannot_open_a_submission(cast: Cast) -> None:
    submission = stored(published_form(cast), cast.fieldworker).submission
    assert submission is not None
    response = Client().get(reverse("surveys:submission", args=[submission.pk]))
    assert response.status_code == 302


@pytest.mark.parametrize(
    "name", ["form", "preview", "translate", "submissions", "question_new", "xlsform"]
)
def test_the_outsider_gets_not_found_for_a_riverton_form(cast: Cast, name: str) -> None:
    form = _draft(cast)
    response = signed_in(cast.outsider).get(_url(name, form))
    assert response.status_code == 404
    assert "Neighbourhood survey" not in html(response)


def test_the_outsider_gets_not_found_for_riverton_forms_and_their_writes(cast: Cast) -> None:
    form = _draft(cast)
    client = signed_in(cast.outsider)
    assert client.get(FORMS).status_code == 404
    assert client.post(NEW, {"modules": ["housing"]}).status_code == 404
    move = client.post(_url("element_move", form, "safety"), {"direction": "up"})
    assert move.status_code == 404
    assert client.post(_url("publish", form)).status_code == 404
    assert _names(form) == ["housing", "safety"]


def test_the_outsider_cannot_read_or_review_a_riverton_submission(cast: Cast) -> None:
    submission = stored(published_form(cast), cast.fieldworker).submission
    assert submission is not None
    client = signed_in(cast.outsider)
    assert client.get(reverse("surveys:submission", args=[submission.pk])).status_code == 404
    review = client.post(
        reverse("surveys:submission_review", args=[submission.pk]), {"action": "approve"}
    )
    assert review.status_code == 404


# --- roles without the right ----------------------------------------------------------


BUILDER_POSTS = [
    ("element_move", ("housing",), {"direction": "down"}),
    ("element_remove", ("housing",), {}),
    ("element_edit", ("housing",), {"type": "group", "name": "x"}),
    ("question_new", (), {"type": "text", "name": "x", "label_0": "X"}),
    ("module_add", (), {"module": "work"}),
    ("languages", (), {"action": "add", "common": "ar"}),
    ("consent", (), {"required": "on"}),
    ("publish", (), {}),
    ("status", (), {"status": "closed"}),
    ("translate", (), {"lang": "Deutsch (de)"}),
]


@pytest.mark.parametrize("role", ["partner", "viewer", "citizen_researcher"])
@pytest.mark.parametrize(("name", "args", "data"), BUILDER_POSTS)
def test_a_role_without_edit_rights_is_refused_every_builder_write(
    cast: Cast, role: str, name: str, args: tuple[str, ...], data: dict[str, str]
) -> None:
    form = _draft(cast)
    before = form.draft
    response = signed_in(cast.by_role(role)).post(_url(name, form, *args), data)
    assert response.status_code == 403
    assert "does not allow edit_project" in html(response)
    form.refresh_from_db()
    assert form.draft == before
    assert not form.versions.exists()


@pytest.mark.parametrize("role", ["partner", "viewer"])
def test_a_viewer_or_partner_cannot_start_or_import_a_form(cast: Cast, role: str) -> None:
    client = signed_in(cast.by_role(role))
    assert client.get(NEW).status_code == 403
    assert (
        client.post(NEW, {"modules": ["housing"], "form_id": "x", "title": "X"}).status_code == 403
    )
    upload = client.post(IMPORT, {"file": _upload(_xlsform(GOOD_ROWS, GOOD_CHOICES))})
    assert upload.status_code == 403
    assert not Form.objects.exists()


def test_a_viewer_cannot_upload_a_media_file(cast: Cast) -> None:
    form = _draft(cast)
    response = signed_in(cast.viewer).post(
        _url("media_upload", form), {"file": _upload(b"png", "house.png")}
    )
    assert response.status_code == 403
    assert not FormMedia.objects.exists()


def test_a_viewer_sees_the_form_read_only(cast: Cast) -> None:
    form = _draft(cast)
    page = html(signed_in(cast.viewer).get(_url("form", form)))
    assert "hou_tenure" in page
    for control in (
        _url("publish", form),
        _url("element_move", form, "housing"),
        _url("question_new", form),
        _url("consent", form),
        _url("translate", form),
    ):
        assert control not in page
    assert _url("preview", form) in page


def test_the_forms_list_offers_new_and_import_only_to_editors(cast: Cast) -> None:
    _draft(cast)
    viewer_page = html(signed_in(cast.viewer).get(FORMS))
    assert "Neighbourhood survey" in viewer_page
    assert NEW not in viewer_page
    assert IMPORT not in viewer_page
    researcher_page = html(signed_in(cast.researcher).get(FORMS))
    assert NEW in researcher_page
    assert IMPORT in researcher_page


@pytest.mark.parametrize("role", ["partner", "viewer", "citizen_researcher"])
def test_a_role_without_raw_data_rights_cannot_see_submissions(cast: Cast, role: str) -> None:
    form = published_form(cast)
    submission = stored(form, cast.fieldworker).submission
    assert submission is not None
    client = signed_in(cast.by_role(role))
    assert client.get(_url("submissions", form)).status_code == 403
    assert client.get(reverse("surveys:submission", args=[submission.pk])).status_code == 403
    assert not AuditEvent.objects.filter(kind=AuditKind.RAW_READ).exists()


@pytest.mark.parametrize("role", ["partner", "viewer", "citizen_researcher"])
def test_a_role_without_review_rights_cannot_review_or_edit(cast: Cast, role: str) -> None:
    submission = stored(published_form(cast), cast.fieldworker).submission
    assert submission is not None
    client = signed_in(cast.by_role(role))
    review = client.post(
        reverse("surveys:submission_review", args=[submission.pk]), {"action": "approve"}
    )
    assert review.status_code == 403
    edit = client.post(
        reverse("surveys:submission_edit", args=[submission.pk]),
        {"answers": "{}", "reason": "x"},
    )
    assert edit.status_code == 403
    submission.refresh_from_db()
    assert submission.status == "received"
    assert submission.revision == 1


def test_a_viewer_gets_not_found_for_a_form_in_a_draft_project(cast: Cast) -> None:
    Project.objects.filter(pk=cast.survey.pk).update(state=ProjectState.DRAFT)
    form = _draft(cast)
    assert signed_in(cast.viewer).get(_url("form", form)).status_code == 404


# --- builder refusals shown on the page ------------------------------------------------


def test_a_new_form_without_modules_is_refused_with_the_field_named(cast: Cast) -> None:
    response = signed_in(cast.researcher).post(
        NEW, {"form_id": "dips", "title": "Survey", "languages": [EN], "consent_required": "on"}
    )
    assert response.status_code == 422
    assert "Choose at least one module." in html(response)
    assert not Form.objects.exists()


def test_a_new_form_with_a_taken_form_id_is_refused(cast: Cast) -> None:
    _draft(cast)
    response = signed_in(cast.researcher).post(
        NEW, {"modules": ["housing"], "form_id": "dips", "title": "Again", "languages": [EN]}
    )
    assert response.status_code == 409
    assert "already has a form with form_id" in html(response)
    assert Form.objects.count() == 1


def test_a_new_form_with_a_malformed_extra_language_is_refused(cast: Cast) -> None:
    response = signed_in(cast.researcher).post(
        NEW,
        {
            "modules": ["housing"],
            "form_id": "dips",
            "title": "S",
            "languages": [EN],
            "more_languages": "Arabic",
        },
    )
    assert response.status_code == 422
    assert "is not a language key" in html(response)
    assert not Form.objects.exists()


def test_moving_the_first_element_up_is_refused_with_a_message(cast: Cast) -> None:
    form = _draft(cast)
    response = signed_in(cast.researcher).post(
        _url("element_move", form, "housing"), {"direction": "up"}, follow=True
    )
    assert "already first in its group" in html(response)
    assert _names(form) == ["housing", "safety"]


def test_a_question_with_a_taken_name_is_refused_and_the_form_kept(cast: Cast) -> None:
    form = _draft(cast)
    response = signed_in(cast.researcher).post(
        _url("question_new", form),
        {"type": "text", "name": "hou_tenure", "label_0": "Again?"},
    )
    assert response.status_code == 422
    page = html(response)
    assert "already has an element named" in page
    assert 'value="hou_tenure"' in page  # what was typed is kept
    assert _names(form) == ["housing", "safety"]


def test_a_question_referring_to_a_missing_question_is_refused(cast: Cast) -> None:
    form = _draft(cast)
    response = signed_in(cast.researcher).post(
        _url("question_new", form),
        {"type": "text", "name": "extra", "label_0": "Extra", "relevant": "${nothing} = 1"},
    )
    assert response.status_code == 422
    assert "which the form does not have" in html(response)


def test_publishing_an_unchanged_form_again_shows_the_conflict(cast: Cast) -> None:
    form = published_form(cast)
    response = signed_in(cast.researcher).post(_url("publish", form), follow=True)
    assert "Nothing has changed since version 1" in html(response)
    assert form.versions.count() == 1


def test_publishing_without_a_sheet_in_every_language_shows_the_conflict(cast: Cast) -> None:
    form = _draft(cast)
    client = signed_in(cast.researcher)
    client.post(_url("languages", form), {"action": "add", "common": "ar"})
    response = client.post(_url("publish", form), follow=True)
    assert "information sheet has no text in" in html(response)
    assert not form.versions.exists()


def test_removing_the_default_language_is_refused(cast: Cast) -> None:
    form = _draft(cast)
    response = signed_in(cast.researcher).post(
        _url("languages", form), {"action": "remove", "language": EN}, follow=True
    )
    assert "default language and cannot be removed" in html(response)
    form.refresh_from_db()
    assert EN in form.draft["languages"]


def test_a_broken_xlsform_is_refused_with_the_sheet_and_row(cast: Cast) -> None:
    data = _xlsform(
        [("type", "name", "label::English (en)"), ("select_one nope", "likes", "Like it?")],
        [("list_name", "name", "label::English (en)"), ("yn", "yes", "Yes")],
    )
    response = signed_in(cast.researcher).post(IMPORT, {"file": _upload(data)})
    assert response.status_code == 422
    page = html(response)
    assert "survey sheet, row 2, column type" in page
    assert "the choice list &#x27;nope&#x27; is not on the choices sheet" in page
    assert not Form.objects.exists()


def test_an_xlsform_over_the_size_limit_is_refused_naming_the_limit(
    cast: Cast, settings: object
) -> None:
    settings.FORM_UPLOAD_MAX_BYTES = 1024 * 1024  # type: ignore[attr-defined]
    data = b"x" * (1024 * 1024 + 1)
    response = signed_in(cast.researcher).post(IMPORT, {"file": _upload(data, "big.xlsx")})
    assert response.status_code == 422
    assert "larger than the 1 MB limit" in html(response)
    assert not Form.objects.exists()


def test_a_media_file_the_form_does_not_name_is_refused(cast: Cast) -> None:
    form = _draft(cast)
    response = signed_in(cast.researcher).post(
        _url("media_upload", form), {"file": _upload(b"png", "stray.png")}, follow=True
    )
    assert "does not name a file" in html(response)
    assert not FormMedia.objects.exists()


# --- building a form --------------------------------------------------------------------


def test_a_lead_builds_a_form_from_modules(cast: Cast) -> None:
    client = signed_in(cast.lead)
    page = html(client.get(NEW))
    assert 'value="housing"' in page
    response = client.post(
        NEW,
        {
            "modules": ["housing", "safety"],
            "form_id": "dips_2026",
            "title": "Riverton neighbourhood survey",
            "languages": [EN, "Svenska (sv)"],
            "more_languages": AR,
            "consent_required": "on",
        },
    )
    form = Form.objects.get(form_id="dips_2026")
    assert response.status_code == 302
    assert response["Location"] == _url("form", form)
    assert form.draft["languages"] == [EN, "Svenska (sv)", AR]
    assert form.consent_required
    page = html(client.get(_url("form", form)))
    assert "Riverton neighbourhood survey" in page
    assert "hou_tenure" in page
    assert "ioi-2019:housing" in page
    assert f"Information sheet in {AR}" in page
    assert "Who sees your answers: only the research team" in page  # the default sheet
    assert 'name="language" value="Svenska (sv)"' in page  # it can be removed


def test_a_researcher_adds_moves_edits_and_removes_a_question(cast: Cast) -> None:
    form = _draft(cast)
    client = signed_in(cast.researcher)
    added = client.post(
        _url("question_new", form),
        {
            "type": "select_one",
            "name": "bus",
            "label_0": "Do you take the bus?",
            "label_1": "Fahren Sie Bus?",
            "required": "on",
            "new_choices": "often | Often\nnever | Never",
            "domains": "ioi-2019:social_bridges",
        },
    )
    assert added.status_code == 302
    assert _names(form) == ["housing", "safety", "bus"]
    form.refresh_from_db()
    assert [c["name"] for c in form.draft["choices"]["bus"]] == ["often", "never"]

    moved = client.post(_url("element_move", form, "bus"), {"direction": "up"})
    assert moved.status_code == 302
    assert _names(form) == ["housing", "bus", "safety"]

    edited = client.post(
        _url("element_edit", form, "bus"),
        {
            "type": "select_one",
            "name": "bus",
            "label_0": "Do you ride the bus?",
            "list_name": "bus",
        },
    )
    assert edited.status_code == 302
    form.refresh_from_db()
    bus = next(e for e in form.draft["children"] if e["name"] == "bus")
    assert bus["label"] == {EN: "Do you ride the bus?"}
    assert not bus.get("required")

    removed = client.post(_url("element_remove", form, "bus"))
    assert removed.status_code == 302
    assert _names(form) == ["housing", "safety"]
    assert AuditEvent.objects.filter(action="form.edit_draft", channel="web").count() == 4


def test_the_edit_page_shows_the_element_as_it_is(cast: Cast) -> None:
    form = _draft(cast)
    page = html(signed_in(cast.researcher).get(_url("element_edit", form, "hou_tenure")))
    assert "Who owns the home you live in?" in page
    assert '<option value="hou_tenure" selected>' in page


def test_a_question_is_added_inside_a_module_group(cast: Cast) -> None:
    form = _draft(cast)
    signed_in(cast.researcher).post(
        _url("question_new", form),
        {"type": "note", "name": "thanks", "label_0": "Thank you", "parent": "safety"},
    )
    form.refresh_from_db()
    safety = next(e for e in form.draft["children"] if e["name"] == "safety")
    assert safety["children"][-1]["name"] == "thanks"


def test_a_module_is_added_to_a_form(cast: Cast) -> None:
    form = _draft(cast)
    client = signed_in(cast.researcher)
    client.post(_url("module_add", form), {"module": "work"})
    assert _names(form) == ["housing", "safety", "work"]
    again = client.post(_url("module_add", form), {"module": "work"}, follow=True)
    assert "already in the form" in html(again)
    assert _names(form) == ["housing", "safety", "work"]


def test_a_researcher_translates_into_arabic_sets_consent_publishes_and_previews(
    cast: Cast,
) -> None:
    form = _draft(cast)
    client = signed_in(cast.researcher)
    added = client.post(_url("languages", form), {"action": "add", "common": "ar"})
    assert added.status_code == 302
    assert added["Location"].startswith(_url("translate", form))
    form.refresh_from_db()
    assert AR in form.draft["languages"]

    page = html(client.get(_url("translate", form), {"lang": AR}))
    assert "Who owns the home you live in?" in page
    assert 'name="label:hou_tenure"' in page
    assert 'lang="ar" dir="rtl"' in page
    saved = client.post(
        _url("translate", form),
        {"lang": AR, "label:hou_tenure": "من يملك المنزل الذي تعيش فيه؟", "label:housing": "السكن"},
    )
    assert saved.status_code == 302
    form.refresh_from_db()
    housing = form.draft["children"][0]
    assert housing["label"][AR] == "السكن"
    assert housing["children"][0]["label"][AR] == "من يملك المنزل الذي تعيش فيه؟"

    sheets = {f"sheet_{i}": f"Information sheet {i}" for i in range(3)}
    consent = client.post(_url("consent", form), {"required": "on", **sheets})
    assert consent.status_code == 302
    form.refresh_from_db()
    assert set(form.consent_sheet) == {EN, "Deutsch (de)", AR}

    published = client.post(_url("publish", form), follow=True)
    assert "Version 1 is published" in html(published)
    assert form.versions.get().number == 1

    preview = html(client.get(_url("preview", form), {"lang": AR, "version": "1"}))
    assert 'lang="ar" dir="rtl"' in preview
    assert "من يملك المنزل الذي تعيش فيه؟" in preview
    assert "Information sheet 2" in preview


def test_the_preview_shows_types_choices_repeats_and_maps(cast: Cast) -> None:
    form = published_form(cast)
    page = html(signed_in(cast.viewer).get(_url("preview", form)))
    assert 'dir="ltr"' in page
    assert 'type="radio"' in page
    assert 'type="checkbox"' in page
    assert 'type="number"' in page
    assert "Private rent" in page
    assert 'data-testid="repeat-note"' in page
    assert 'data-testid="map-note"' in page
    assert "describe each place in words" in page
    german = html(signed_in(cast.viewer).get(_url("preview", form), {"lang": "Deutsch (de)"}))
    assert "Wie alt sind Sie?" in german
    assert 'lang="de"' in german


def test_a_preview_of_a_version_that_does_not_exist_is_not_found(cast: Cast) -> None:
    form = published_form(cast)
    client = signed_in(cast.researcher)
    assert client.get(_url("preview", form), {"version": "7"}).status_code == 404
    assert client.get(_url("preview", form), {"version": "x"}).status_code == 404
    assert client.get(_url("xlsform", form), {"version": "7"}).status_code == 404


def test_the_forms_list_reads_a_fixed_number_of_queries(cast: Cast) -> None:
    client = signed_in(cast.viewer)
    published_form(cast)
    with CaptureQueriesContext(connection) as one:
        assert client.get(FORMS).status_code == 200
    published_form(cast, form_id="second")
    _draft(cast)
    with CaptureQueriesContext(connection) as three:
        page = html(client.get(FORMS))
    assert page.count('<th scope="row">') == 3
    assert len(three) == len(one)


def test_a_form_is_closed_and_reopened(cast: Cast) -> None:
    form = published_form(cast)
    client = signed_in(cast.lead)
    client.post(_url("status", form), {"status": "closed"})
    form.refresh_from_db()
    assert form.status == "closed"
    client.post(_url("status", form), {"status": "open"})
    form.refresh_from_db()
    assert form.status == "open"


def test_a_version_downloads_as_an_xlsform(cast: Cast) -> None:
    form = published_form(cast)
    page = html(signed_in(cast.viewer).get(_url("form", form)))
    assert f"{_url('xlsform', form)}?version=1" in page
    response = signed_in(cast.viewer).get(_url("xlsform", form), {"version": "1"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="household-v1.xlsx"'
    assert response.content[:2] == b"PK"


# --- import and media -------------------------------------------------------------------


def test_a_researcher_imports_an_xlsform_and_sees_the_result(cast: Cast) -> None:
    response = signed_in(cast.researcher).post(
        IMPORT, {"file": _upload(_xlsform(GOOD_ROWS, GOOD_CHOICES))}
    )
    assert response.status_code == 200
    page = html(response)
    form = Form.objects.get(form_id="mini")
    assert 'data-testid="import-version">1<' in page
    assert AR in page
    assert form.status == "open"
    assert AuditEvent.objects.filter(action="form.import_xlsform", channel="web").exists()


def test_an_imported_form_naming_a_file_waits_for_the_upload(cast: Cast) -> None:
    rows = [
        (*GOOD_ROWS[0], "image::English (en)"),
        (*GOOD_ROWS[1], "park.png"),
        (*GOOD_ROWS[2], ""),
    ]
    client = signed_in(cast.researcher)
    page = html(client.post(IMPORT, {"file": _upload(_xlsform(rows, GOOD_CHOICES))}))
    form = Form.objects.get(form_id="mini")
    assert "not published yet" in page
    assert "park.png" in page
    assert _url("media_upload", form) in page

    uploaded = client.post(
        _url("media_upload", form),
        {"file": _upload(b"\x89PNG synthetic", "IMG_0001.png"), "filename": "park.png"},
        follow=True,
    )
    assert "park.png is uploaded" in html(uploaded)
    assert FormMedia.objects.get(form=form).filename == "park.png"
    assert form_services.missing_files(form) == []
    client.post(_url("publish", form))
    assert form.versions.count() == 1


# --- submissions ------------------------------------------------------------------------


def test_a_researcher_lists_filters_and_pages_submissions(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = published_form(cast)
    first = stored(form, cast.fieldworker).submission
    second = stored(form, cast.researcher).submission
    assert first is not None
    assert second is not None
    monkeypatch.setattr(submission_views, "PAGE_SIZE", 1)
    client = signed_in(cast.researcher)
    page = html(client.get(_url("submissions", form)))
    assert reverse("surveys:submission", args=[second.pk]) in page
    assert reverse("surveys:submission", args=[first.pk]) not in page
    assert 'data-testid="next-page"' in page
    next_href = page.split('data-testid="next-page"')[0].rsplit('href="', 1)[1].split('"')[0]
    older = html(client.get(_url("submissions", form) + next_href.replace("&amp;", "&")))
    assert reverse("surveys:submission", args=[first.pk]) in older
    mine = html(client.get(_url("submissions", form), {"collected_by": "fatima"}))
    assert reverse("surveys:submission", args=[first.pk]) in mine
    assert AuditEvent.objects.filter(action="submission.list", kind=AuditKind.RAW_READ).count() == 3


def test_the_submissions_list_reads_a_fixed_number_of_queries(cast: Cast) -> None:
    form = published_form(cast)
    stored(form, cast.fieldworker)
    client = signed_in(cast.researcher)
    with CaptureQueriesContext(connection) as one:
        assert client.get(_url("submissions", form)).status_code == 200
    for _ in range(3):
        stored(form, cast.fieldworker)
    with CaptureQueriesContext(connection) as four:
        page = html(client.get(_url("submissions", form)))
    assert page.count('<th scope="row">') == 4
    assert len(four) == len(one)


def test_a_bad_filter_or_cursor_answers_422_without_reading(cast: Cast) -> None:
    form = published_form(cast)
    client = signed_in(cast.researcher)
    assert client.get(_url("submissions", form), {"since": "soon"}).status_code == 422
    response = client.get(_url("submissions", form), {"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert "The cursor is not one this API gave out" in html(response)


def test_a_researcher_reads_a_submission_with_its_provenance(cast: Cast) -> None:
    submission = stored(published_form(cast), cast.fieldworker).submission
    assert submission is not None
    page = html(signed_in(cast.researcher).get(reverse("surveys:submission", args=[submission.pk])))
    assert "How old are you?" in page
    assert "fatima" in page
    assert "no street lights" in page
    assert "Private rent (private_rent)" in page
    assert page.index("People you live with") < page.index("Mark places")  # in form order
    assert "Approve" in page
    assert AuditEvent.objects.filter(action="submission.read", kind=AuditKind.RAW_READ).exists()


def test_a_flag_without_a_reason_is_refused(cast: Cast) -> None:
    submission = stored(published_form(cast), cast.fieldworker).submission
    assert submission is not None
    response = signed_in(cast.researcher).post(
        reverse("surveys:submission_review", args=[submission.pk]), {"action": "flag"}
    )
    assert response.status_code == 422
    assert "Say why you flag this submission." in html(response)
    submission.refresh_from_db()
    assert submission.status == "received"


def test_an_edit_with_wrong_answers_lists_each_problem(cast: Cast) -> None:
    submission = stored(published_form(cast), cast.fieldworker).submission
    assert submission is not None
    client = signed_in(cast.researcher)
    url = reverse("surveys:submission_edit", args=[submission.pk])
    not_json = client.post(url, {"answers": "{age: 3", "reason": "typo"})
    assert not_json.status_code == 422
    assert "not valid JSON" in html(not_json)
    wrong = client.post(
        url, {"answers": json.dumps({"age": 5, "tenure": "castle"}), "reason": "typo"}
    )
    assert wrong.status_code == 422
    page = html(wrong)
    assert "<code>age</code>" in page
    assert "<code>tenure</code>" in page
    submission.refresh_from_db()
    assert submission.revision == 1


def test_a_researcher_reviews_and_corrects_a_submission(cast: Cast) -> None:
    result = stored(published_form(cast), cast.fieldworker)
    submission = result.submission
    assert submission is not None
    client = signed_in(cast.researcher)
    url = reverse("surveys:submission", args=[submission.pk])
    flagged = client.post(
        reverse("surveys:submission_review", args=[submission.pk]),
        {"action": "flag", "reason": "age looks wrong"},
        follow=True,
    )
    assert "The submission is flagged." in html(flagged)
    submission.refresh_from_db()
    assert submission.status == "flagged"

    answers = json.loads(
        html(client.get(url))
        .split('id="edit-answers"')[1]
        .split(">", 1)[1]
        .split("</textarea>")[0]
        .replace("&quot;", '"')
        .replace("&#x27;", "'")
    )
    answers["age"] = 43
    edited = client.post(
        reverse("surveys:submission_edit", args=[submission.pk]),
        {"answers": json.dumps(answers), "reason": "the respondent corrected her age"},
        follow=True,
    )
    assert "The answers are corrected" in html(edited)
    submission.refresh_from_db()
    assert submission.revision == 2
    assert submission.answers["age"] == 43
    page = html(client.get(url))
    assert "the respondent corrected her age" in page
    assert "Revision 1" in page


# --- withdrawal -------------------------------------------------------------------------


def test_a_malformed_withdrawal_code_answers_422(db: None) -> None:
    response = Client().post(WITHDRAW, {"code": "abc"})
    assert response.status_code == 422
    assert "A withdrawal code has 10 letters and digits" in html(response)


def test_an_unknown_withdrawal_code_answers_404_and_reveals_nothing(cast: Cast) -> None:
    stored(published_form(cast), cast.fieldworker)
    response = Client().post(WITHDRAW, {"code": "ABCD-EFGH-JK"})
    assert response.status_code == 404
    page = html(response)
    assert "No answers are held under this code" in page
    assert "Riverton" not in page
    assert Submission.objects.count() == 1


def test_a_respondent_withdraws_without_signing_in(cast: Cast) -> None:
    form = published_form(cast)
    result = stored(form, cast.fieldworker)
    stored(form, cast.fieldworker)  # someone else's answers stay
    code = result.withdrawal_code
    visitor = Client()
    assert visitor.get(WITHDRAW).status_code == 200

    response = visitor.post(WITHDRAW, {"code": f" {code[:4].lower()}-{code[4:]} "})
    assert response.status_code == 200
    page = html(response)
    assert "Your answers have been deleted (1 submission)." in page
    assert "Riverton" not in page
    assert "household" not in page.lower().replace("withdraw", "")
    assert Submission.objects.count() == 1
    assert not Respondent.objects.filter(withdrawal_code=code).exists()
    assert Tombstone.objects.get().channel == "web"

    again = html(visitor.post(WITHDRAW, {"code": code}))
    assert "already withdrawn on" in again


# --- every page: structure and the synthetic label -------------------------------------


def _pages(cast: Cast) -> list[str]:
    form = published_form(cast)
    submission = stored(form, cast.fieldworker).submission
    assert submission is not None
    return [
        FORMS,
        NEW,
        IMPORT,
        _url("form", form),
        _url("question_new", form),
        _url("element_edit", form, "tenure"),
        _url("preview", form),
        _url("translate", form),
        _url("submissions", form),
        reverse("surveys:submission", args=[submission.pk]),
        WITHDRAW,
    ]


def test_every_survey_page_is_structured_for_assistive_technology(cast: Cast) -> None:
    client = signed_in(cast.lead)
    for path in _pages(cast):
        response = client.get(path)
        assert response.status_code == 200, path
        _check(html(response))


def test_every_survey_page_carries_the_synthetic_banner(cast: Cast) -> None:
    Project.objects.filter(pk=cast.survey.pk).update(is_synthetic=True)
    cast.riverton.is_synthetic = True
    cast.riverton.save(update_fields=["is_synthetic"])
    client = signed_in(cast.lead)
    for path in _pages(cast):
        assert 'data-testid="synthetic-banner"' in html(client.get(path)), path


def test_the_project_page_links_to_its_forms(cast: Cast) -> None:
    page = html(signed_in(cast.viewer).get(reverse("web:project", args=["riverton-survey"])))
    assert FORMS in page
