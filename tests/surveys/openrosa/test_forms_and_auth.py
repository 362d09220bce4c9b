"""The form list, XForm download, manifest and media as ODK Collect meets them, and who may
sign in: refusals first (OpenRosa Form List API and Authentication)."""

from __future__ import annotations

import hashlib
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from incity.accounts.models import AuditEvent
from incity.accounts.services import change_project_state
from incity.surveys.models import Form
from incity.surveys.services.forms import set_form_status, upload_media
from tests.personas import PASSWORD, SYSTEM, Cast, bearer
from tests.surveys.openrosa.helpers import PNG, as_user, basic, response_message

pytestmark = pytest.mark.django_db

LIST_NS = "{http://openrosa.org/xforms/xformsList}"
MANIFEST_NS = "{http://openrosa.org/xforms/xformsManifest}"
FORM_LIST = "/openrosa/riverton-survey/formList"


def _get(path: str, headers: dict[str, str]) -> object:
    return Client().get(path, headers={**headers, "X-OpenRosa-Version": "1.0"})


def _xforms(response: object) -> list[dict[str, str]]:
    root = ET.fromstring(response.content)  # type: ignore[attr-defined]
    assert root.tag == f"{LIST_NS}xforms"
    return [
        {child.tag.removeprefix(LIST_NS): child.text or "" for child in xform}
        for xform in root.findall(f"{LIST_NS}xform")
    ]


# --- who may sign in -------------------------------------------------------------------


def test_no_credentials_get_401_with_a_basic_challenge(household: Form) -> None:
    response = _get(FORM_LIST, {})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="incity"'
    assert response["X-OpenRosa-Version"] == "1.0"
    assert "username and password" in response_message(response)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
    cast: Cast, household: Form
) -> None:
    wrong = _get(FORM_LIST, basic("fatima", "not her password"))
    unknown = _get(FORM_LIST, basic("nobody-here", "not her password"))
    assert wrong.status_code == unknown.status_code == 401
    assert (
        response_message(wrong)
        == response_message(unknown)
        == ("The username or password is wrong.")
    )
    assert wrong["WWW-Authenticate"] == 'Basic realm="incity"'
    failed = AuditEvent.objects.filter(action="auth.sign_in_failed")
    assert sorted(failed.values_list("detail__username", flat=True)) == ["fatima", "nobody-here"]


def test_garbage_in_the_authorization_header_is_refused(household: Form) -> None:
    assert _get(FORM_LIST, {"Authorization": "Basic %%%not-base64"}).status_code == 401
    assert _get(FORM_LIST, {"Authorization": "Digest username=fatima"}).status_code == 401
    assert _get(FORM_LIST, {"Authorization": "Bearer not-a-token"}).status_code == 401


def test_repeated_wrong_passwords_pause_sign_in_for_that_username(
    cast: Cast, household: Form
) -> None:
    for _ in range(5):
        assert _get(FORM_LIST, basic("fatima", "guess")).status_code == 401
    locked = _get(FORM_LIST, as_user(cast.fieldworker))
    assert locked.status_code == 429
    assert "paused" in response_message(locked)
    assert int(locked["Retry-After"]) > 0


def test_failures_here_pause_the_web_sign_in_too(cast: Cast, household: Form) -> None:
    for _ in range(5):
        _get(FORM_LIST, basic("fatima", "guess"))
    page = Client().post("/accounts/login/", {"login": "fatima", "password": PASSWORD})
    assert page.status_code == 429


def test_a_deactivated_account_cannot_sign_in(cast: Cast, household: Form) -> None:
    assert _get(FORM_LIST, as_user(cast.fieldworker)).status_code == 200
    cast.fieldworker.is_active = False
    cast.fieldworker.save(update_fields=["is_active"])
    # Even a sign-in remembered a moment ago stops working at once.
    assert _get(FORM_LIST, as_user(cast.fieldworker)).status_code == 401


def test_a_changed_password_ends_the_remembered_sign_in(cast: Cast, household: Form) -> None:
    assert _get(FORM_LIST, as_user(cast.fieldworker)).status_code == 200
    cast.fieldworker.set_password("a brand new passphrase 77")
    cast.fieldworker.save(update_fields=["password"])
    assert _get(FORM_LIST, as_user(cast.fieldworker)).status_code == 401
    assert _get(FORM_LIST, basic("fatima", "a brand new passphrase 77")).status_code == 200


def test_a_two_factor_account_cannot_use_its_password_alone(cast: Cast, household: Form) -> None:
    response = _get(FORM_LIST, as_user(cast.lead))
    assert response.status_code == 401
    assert "API token" in response_message(response)


def test_a_token_typed_as_the_password_must_belong_to_that_username(
    cast: Cast, household: Form
) -> None:
    token = bearer(cast.lead)["Authorization"].removeprefix("Bearer ")
    assert _get(FORM_LIST, basic("fatima", token)).status_code == 401
    assert _get(FORM_LIST, basic("lena", token)).status_code == 200


def test_another_citys_lead_is_told_the_project_does_not_exist(cast: Cast, household: Form) -> None:
    token = bearer(cast.outsider)["Authorization"].removeprefix("Bearer ")
    response = _get(FORM_LIST, basic("otto", token))
    assert response.status_code == 404
    assert response_message(response) == "No project 'riverton-survey' among yours."
    missing = _get("/openrosa/no-such-project/formList", basic("otto", token))
    assert missing.status_code == 404
    assert response_message(missing) == "No project 'no-such-project' among yours."


@pytest.mark.parametrize("persona", ["viewer", "partner"])
def test_roles_that_do_not_collect_are_refused_with_403(
    cast: Cast, household: Form, persona: str
) -> None:
    response = _get(FORM_LIST, as_user(getattr(cast, persona)))
    assert response.status_code == 403
    assert "collect" in response_message(response)


def test_a_closed_project_lists_nothing_to_collect(cast: Cast, household: Form) -> None:
    change_project_state(acting_user=None, origin=SYSTEM, project=cast.survey, state="closed")
    assert _get(FORM_LIST, as_user(cast.fieldworker)).status_code == 403


def test_only_get_is_answered_on_the_form_list(cast: Cast, household: Form) -> None:
    response = Client().post(FORM_LIST, headers=as_user(cast.fieldworker))
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


# --- the form list and downloads ---------------------------------------------------------


def test_closed_forms_are_not_listed_or_downloadable(cast: Cast, household: Form) -> None:
    set_form_status(
        acting_user=cast.researcher, origin=SYSTEM, form_pk=household.pk, status="closed"
    )
    assert _xforms(_get(FORM_LIST, as_user(cast.fieldworker))) == []
    download = _get("/openrosa/riverton-survey/forms/household/form.xml", as_user(cast.fieldworker))
    assert download.status_code == 404
    assert "No open form 'household'" in response_message(download)


def test_an_unknown_media_file_is_not_found(cast: Cast, household: Form) -> None:
    response = _get(
        "/openrosa/riverton-survey/forms/household/media/../../secret.txt",
        as_user(cast.fieldworker),
    )
    assert response.status_code == 404


def test_the_form_list_names_each_open_form_with_the_hash_of_the_bytes_served(
    cast: Cast, household: Form, field_walk: Form
) -> None:
    listed = _get(FORM_LIST, as_user(cast.fieldworker))
    assert listed.status_code == 200
    assert listed["Content-Type"] == "text/xml; charset=utf-8"
    assert listed["X-OpenRosa-Version"] == "1.0"
    assert listed["Date"]
    forms = _xforms(listed)
    assert [form["formID"] for form in forms] == ["field_walk", "household"]
    for form in forms:
        assert set(form) == {"formID", "name", "version", "hash", "downloadUrl"}
        assert form["version"] == "1"
        download = _get(
            form["downloadUrl"].removeprefix("http://testserver"), as_user(cast.fieldworker)
        )
        assert download.status_code == 200
        assert form["hash"] == "md5:" + hashlib.md5(download.content).hexdigest()
        instance = ET.fromstring(download.content).find(
            ".//{http://www.w3.org/2002/xforms}instance"
        )
        assert instance is not None
        root = next(iter(instance))
        assert root.get("id") == form["formID"]
        assert root.get("version") == "1"
    only = _xforms(_get(FORM_LIST + "?formID=household", as_user(cast.fieldworker)))
    assert [form["formID"] for form in only] == ["household"]


def test_a_form_asking_for_consent_starts_with_the_sheet_and_an_agreement(
    cast: Cast, household: Form
) -> None:
    xml = _get(
        "/openrosa/riverton-survey/forms/household/form.xml", as_user(cast.fieldworker)
    ).content.decode()
    assert "Synthetic test information sheet" in xml
    assert '<bind nodeset="/data/incity_consent" type="string" required="true()"/>' in xml
    assert xml.index("<incity_consent/>") < xml.index("<age/>")


def test_a_new_version_changes_the_version_and_hash(cast: Cast, household: Form) -> None:
    from incity.surveys.services.forms import publish_form, update_draft
    from tests.surveys.forms import household_definition

    before = _xforms(_get(FORM_LIST, as_user(cast.fieldworker)))[0]
    update_draft(
        acting_user=cast.researcher,
        origin=SYSTEM,
        form_pk=household.pk,
        definition=household_definition(title="Household (second version, synthetic)"),
    )
    publish_form(acting_user=cast.researcher, origin=SYSTEM, form_pk=household.pk)
    after = _xforms(_get(FORM_LIST, as_user(cast.fieldworker)))[0]
    assert after["version"] == "2"
    assert after["hash"] != before["hash"]
    assert after["name"] == "Household (second version, synthetic)"


def test_the_manifest_lists_media_files_with_their_md5_and_they_download(cast: Cast) -> None:
    from incity.surveys.services.forms import create_form, publish_form
    from tests.surveys.forms import household_definition

    definition = household_definition(form_id="with_media")
    definition["children"][0]["media"] = {"image": {"English (en)": "age.png"}}
    form = create_form(
        acting_user=cast.researcher,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        definition=definition,
    )
    upload_media(
        acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk, filename="age.png", content=PNG
    )
    publish_form(acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk)
    forms = _xforms(_get(FORM_LIST, as_user(cast.fieldworker)))
    assert forms[0]["manifestUrl"] == (
        "http://testserver/openrosa/riverton-survey/forms/with_media/manifest"
    )
    manifest = _get(
        forms[0]["manifestUrl"].removeprefix("http://testserver"), as_user(cast.fieldworker)
    )
    root = ET.fromstring(manifest.content)
    assert root.tag == f"{MANIFEST_NS}manifest"
    files = root.findall(f"{MANIFEST_NS}mediaFile")
    assert len(files) == 1
    assert files[0].findtext(f"{MANIFEST_NS}filename") == "age.png"
    assert files[0].findtext(f"{MANIFEST_NS}hash") == "md5:" + hashlib.md5(PNG).hexdigest()
    url = files[0].findtext(f"{MANIFEST_NS}downloadUrl") or ""
    media = _get(url.removeprefix("http://testserver"), as_user(cast.fieldworker))
    assert media.status_code == 200
    assert b"".join(media.streaming_content) == PNG  # type: ignore[attr-defined]
    assert media["X-OpenRosa-Version"] == "1.0"
    assert _get(url.removeprefix("http://testserver"), {}).status_code == 401


def test_a_bearer_token_works_for_scripts(cast: Cast, household: Form) -> None:
    response = _get(FORM_LIST, bearer(cast.fieldworker))
    assert response.status_code == 200
    assert [form["formID"] for form in _xforms(response)] == ["household"]
