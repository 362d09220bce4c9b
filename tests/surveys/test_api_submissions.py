"""The submissions API as a collector, a researcher and a reviewer meet it: refusals first."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from incity.accounts.models import AuditEvent, AuditKind
from incity.accounts.services import change_project_state
from incity.surveys.models import (
    Answer,
    Form,
    Respondent,
    Submission,
    SubmissionRevision,
    Tombstone,
)
from incity.surveys.services.bulk import COPY_MIN_ROWS
from incity.surveys.services.forms import set_form_status
from incity.surveys.services.typed import derive_typed_answers
from tests.personas import SYSTEM, Cast, bearer
from tests.surveys.forms import EN, good_answers, new_instance_id, payload, published_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(cast: Cast) -> Form:
    return published_form(cast)


def _post(cast_user: Any, form: Form, body: dict[str, Any]) -> Any:
    return Client().post(
        f"/api/v1/forms/{form.pk}/submissions",
        body,
        content_type="application/json",
        headers=bearer(cast_user),
    )


# --- who may submit -------------------------------------------------------------------


def test_an_anonymous_submission_is_refused_with_401(form: Form) -> None:
    response = Client().post(
        f"/api/v1/forms/{form.pk}/submissions", payload(), content_type="application/json"
    )
    assert response.status_code == 401
    assert Submission.objects.count() == 0


def test_another_citys_lead_cannot_tell_the_form_exists(cast: Cast, form: Form) -> None:
    response = _post(cast.outsider, form, payload())
    assert response.status_code == 404
    assert response.json()["message"] == f"No form {form.pk} among yours."
    assert Submission.objects.count() == 0


@pytest.mark.parametrize("persona", ["viewer", "partner"])
def test_roles_that_do_not_collect_are_refused_with_403(
    cast: Cast, form: Form, persona: str
) -> None:
    response = _post(getattr(cast, persona), form, payload())
    assert response.status_code == 403
    assert "collect" in response.json()["message"]
    assert Submission.objects.count() == 0


def test_a_closed_form_takes_no_answers(cast: Cast, form: Form) -> None:
    set_form_status(acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk, status="closed")
    response = _post(cast.fieldworker, form, payload())
    assert response.status_code == 409
    assert "is closed" in response.json()["message"]


def test_a_closed_project_takes_no_answers(cast: Cast, form: Form) -> None:
    change_project_state(acting_user=None, origin=SYSTEM, project=cast.survey, state="closed")
    response = _post(cast.fieldworker, form, payload())
    assert response.status_code == 403
    assert Submission.objects.count() == 0


# --- what is refused, field by field -------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "field", "words"),
    [
        (good_answers(favourite_colour="blue"), "favourite_colour", ""),
        (good_answers(age="thirty"), "age", ""),
        (good_answers(age=12), "age", "16 or over"),
        (good_answers(tenure="castle"), "tenure", ""),
        (good_answers(barriers=["no_time", "dragons"]), "barriers", ""),
        (good_answers(tenure="owner", rent=500), "rent", "does not apply"),
        (good_answers(age=None), "age", "needs an answer"),
        (good_answers(household=[{"member_age": "x"}]), "household[1].member_age", ""),
        (
            good_answers(
                places=[
                    {"category": "unsafe", "geometry": {"type": "Point", "coordinates": [500, 52]}}
                ]
            ),
            "places[1]",
            "",
        ),
        (good_answers(places=[{"category": "haunted", "description": "x"}]), "places[1]", ""),
    ],
)
def test_a_wrong_answer_gets_422_naming_the_field_and_nothing_is_stored(
    cast: Cast, form: Form, answers: dict[str, Any], field: str, words: str
) -> None:
    body = payload(answers={k: v for k, v in answers.items() if v is not None})
    response = _post(cast.fieldworker, form, body)
    assert response.status_code == 422, response.content
    errors = response.json()["extra"]["errors"]
    assert any(path.startswith(field) for path in errors), errors
    if words:
        assert any(words in message for message in errors.values()), errors
    assert Submission.objects.count() == 0
    assert Respondent.objects.count() == 0
    assert Answer.objects.count() == 0


def test_every_wrong_field_is_named_at_once(cast: Cast, form: Form) -> None:
    body = payload(answers=good_answers(age="old", tenure="castle", unknown=1))
    errors = _post(cast.fieldworker, form, body).json()["extra"]["errors"]
    assert {"age", "tenure", "unknown"} <= set(errors)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"consent": None}, "consent"),
        ({"consent": {"accepted": False}}, "consent"),
        ({"instance_id": "has spaces and / slashes"}, "instance_id"),
        ({"instance_id": ""}, "instance_id"),
        ({"version": 7}, "version"),
        ({"language": "Klingon (tlh)"}, "language"),
        ({"started_at": "2026-11-01T10:00:00Z", "ended_at": "2026-11-01T09:00:00Z"}, "ended_at"),
        ({"started_at": "2099-01-01T00:00:00Z"}, "started_at"),
        ({"respondent": "ABCD-EFGH-JK"}, "respondent"),
    ],
)
def test_a_wrong_envelope_gets_422_naming_it(
    cast: Cast, form: Form, changes: dict[str, Any], field: str
) -> None:
    response = _post(cast.fieldworker, form, payload(**changes))
    assert response.status_code == 422, response.content
    assert field in response.json()["extra"]["errors"]
    assert Submission.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": {}}, "instance_id"),
        ({"instance_id": "uuid:x"}, "answers"),
        ({"instance_id": "uuid:x", "answers": [1, 2]}, "answers"),
        ({"instance_id": "uuid:x", "answers": {}, "started_at": "yesterday"}, "started_at"),
    ],
)
def test_a_malformed_body_gets_422_naming_the_field(
    cast: Cast, form: Form, body: dict[str, Any], field: str
) -> None:
    response = _post(cast.fieldworker, form, body)
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == field


# --- what is stored ------------------------------------------------------------------


def test_a_valid_submission_is_stored_once_with_its_provenance(cast: Cast, form: Form) -> None:
    body = payload()
    first = _post(cast.fieldworker, form, body)
    assert first.status_code == 201, first.content
    stored = first.json()
    assert stored["outcome"] == "created"
    assert stored["version"] == 1
    assert len(stored["withdrawal_code"]) == 10
    submission = Submission.objects.get()
    assert submission.collected_by == cast.fieldworker
    assert submission.device_id == "test-phone-1"
    assert submission.language == EN
    assert submission.channel == "api"
    assert submission.started_at is not None
    assert submission.ended_at is not None
    respondent = submission.respondent
    assert respondent is not None
    assert respondent.consent_given_at is not None
    assert respondent.consent_language == EN
    assert len(respondent.consent_sheet_hash) == 64

    again = _post(cast.fieldworker, form, body)
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert again.json()["id"] == stored["id"]
    assert again.json()["withdrawal_code"] == stored["withdrawal_code"]
    assert Submission.objects.count() == 1
    assert AuditEvent.objects.filter(action="submission.create").count() == 1


def test_a_retry_by_someone_else_does_not_reveal_the_withdrawal_code(
    cast: Cast, form: Form
) -> None:
    body = payload()
    _post(cast.fieldworker, form, body)
    again = _post(cast.researcher, form, body)
    assert again.status_code == 200
    assert again.json()["withdrawal_code"] == ""


def test_sensitive_answers_are_encrypted_at_rest_and_kept_out_of_typed_answers(
    cast: Cast, form: Form
) -> None:
    _post(cast.fieldworker, form, payload(answers=good_answers(born_here="no")))
    submission = Submission.objects.get()
    assert "born_here" not in submission.answers
    assert submission.sensitive is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers, sensitive FROM surveys_submission")
        plain, secret = cursor.fetchone()
    assert "born_here" not in str(plain)
    assert b"born_here" not in bytes(secret)
    assert not Answer.objects.filter(name="born_here").exists()
    assert Answer.objects.filter(submission=submission, name="age", number=34).exists()
    assert set(
        Answer.objects.filter(submission=submission, name="barriers").values_list("text", flat=True)
    ) == {"no_time", "childcare"}


def test_a_researcher_reads_the_full_answers_and_the_read_is_audited(
    cast: Cast, form: Form
) -> None:
    created = _post(cast.fieldworker, form, payload()).json()
    response = Client().get(f"/api/v1/submissions/{created['id']}", headers=bearer(cast.researcher))
    assert response.status_code == 200
    assert response.json()["answers"]["born_here"] == "no"
    assert response.json()["collected_by"] == "fatima"
    event = AuditEvent.objects.get(action="submission.read")
    assert event.kind == AuditKind.RAW_READ
    assert event.actor == cast.researcher


@pytest.mark.parametrize("persona", ["fieldworker", "partner", "viewer"])
def test_roles_without_raw_access_cannot_read_submissions(
    cast: Cast, form: Form, persona: str
) -> None:
    created = _post(cast.fieldworker, form, payload()).json()
    user = getattr(cast, persona)
    assert (
        Client().get(f"/api/v1/submissions/{created['id']}", headers=bearer(user)).status_code
        == 403
    )
    listing = Client().get(f"/api/v1/forms/{form.pk}/submissions", headers=bearer(user))
    assert listing.status_code == 403
    assert not AuditEvent.objects.filter(kind=AuditKind.RAW_READ).exists()


def test_another_city_cannot_read_a_submission(cast: Cast, form: Form) -> None:
    created = _post(cast.fieldworker, form, payload()).json()
    response = Client().get(f"/api/v1/submissions/{created['id']}", headers=bearer(cast.outsider))
    assert response.status_code == 404


# --- batches -------------------------------------------------------------------------


def _batch(user: Any, form: Form, items: list[dict[str, Any]]) -> Any:
    return Client().post(
        f"/api/v1/forms/{form.pk}/submissions/batch",
        {"submissions": items},
        content_type="application/json",
        headers=bearer(user),
    )


def test_an_empty_batch_is_refused(cast: Cast, form: Form) -> None:
    response = _batch(cast.fieldworker, form, [])
    assert response.status_code == 422
    assert "empty" in response.json()["message"]


def test_a_batch_over_the_limit_is_refused_whole(cast: Cast, form: Form, settings: Any) -> None:
    settings.SUBMISSION_BATCH_MAX = 3
    response = _batch(cast.fieldworker, form, [payload() for _ in range(4)])
    assert response.status_code == 422
    assert "the limit is 3" in response.json()["message"]
    assert Submission.objects.count() == 0


def test_a_batch_gives_a_result_per_item(cast: Cast, form: Form) -> None:
    earlier = payload()
    _post(cast.fieldworker, form, earlier)
    twice = payload()
    items = [payload(), earlier, payload(answers=good_answers(age=3)), twice, twice]
    response = _batch(cast.fieldworker, form, items)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["outcome"] for r in body["results"]] == [
        "created",
        "duplicate",
        "invalid",
        "created",
        "invalid",
    ]
    assert body["results"][2]["errors"]["age"]
    assert "twice" in body["results"][4]["errors"]["instance_id"]
    assert (body["created"], body["duplicates"], body["invalid"]) == (2, 1, 2)
    assert Submission.objects.count() == 3
    assert AuditEvent.objects.filter(action="submission.create").count() == 1
    batch_event = AuditEvent.objects.get(action="submission.create_batch")
    assert batch_event.detail["count"] == 2
    assert sorted(batch_event.detail["submissions"]) == sorted(
        r["id"] for r in body["results"] if r["outcome"] == "created"
    )


def test_a_batch_stores_raw_submissions_first_and_typed_answers_are_derived_later(
    cast: Cast, form: Form
) -> None:
    response = _batch(cast.fieldworker, form, [payload(), payload()])
    assert response.json()["created"] == 2
    assert set(Submission.objects.values_list("typed_pending", flat=True)) == {True}
    assert Answer.objects.count() == 0
    assert derive_typed_answers(form=form) == 2
    assert set(Submission.objects.values_list("typed_pending", flat=True)) == {False}
    assert Answer.objects.filter(name="age").count() == 2
    assert not Answer.objects.filter(name="born_here").exists()
    assert derive_typed_answers(form=form) == 0
    assert Answer.objects.filter(name="age").count() == 2


def test_a_large_batch_stores_every_item_with_its_own_id_and_reads_back_equal(
    cast: Cast, form: Form
) -> None:
    # Above COPY_MIN_ROWS, so PostgreSQL takes the COPY path with ids from the sequence.
    items = [payload(answers=good_answers(age=20 + index)) for index in range(COPY_MIN_ROWS + 5)]
    body = _batch(cast.fieldworker, form, items).json()
    assert body["created"] == len(items)
    ids = [result["id"] for result in body["results"]]
    assert len(set(ids)) == len(items)
    stored = {s.pk: s for s in Submission.objects.filter(pk__in=ids)}
    for result, item in zip(body["results"], items, strict=True):
        submission = stored[result["id"]]
        assert submission.instance_id == item["instance_id"]
        assert submission.answers["age"] == item["answers"]["age"]
        assert submission.collected_by == cast.fieldworker
        assert submission.typed_pending
    # The sequence moved past the copied ids: the next single insert gets a fresh one.
    single = _post(cast.fieldworker, form, payload())
    assert single.status_code == 201
    assert single.json()["id"] > max(ids)


# --- listing -------------------------------------------------------------------------


def test_the_list_filters_and_pages_with_a_cursor(cast: Cast, form: Form) -> None:
    for _ in range(5):
        _post(cast.fieldworker, form, payload())
    _post(cast.researcher, form, payload())
    client = Client(headers=bearer(cast.researcher))
    first = client.get(f"/api/v1/forms/{form.pk}/submissions", {"limit": 4}).json()
    assert len(first["items"]) == 4
    assert first["next_cursor"]
    second = client.get(
        f"/api/v1/forms/{form.pk}/submissions", {"limit": 4, "cursor": first["next_cursor"]}
    ).json()
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert len(set(ids)) == 6
    by_fatima = client.get(
        f"/api/v1/forms/{form.pk}/submissions", {"collected_by": "FATIMA"}
    ).json()
    assert len(by_fatima["items"]) == 5
    assert (
        client.get(f"/api/v1/forms/{form.pk}/submissions", {"status": "approved"}).json()["items"]
        == []
    )
    assert (
        len(client.get(f"/api/v1/forms/{form.pk}/submissions", {"version": 1}).json()["items"]) == 6
    )
    assert client.get(f"/api/v1/forms/{form.pk}/submissions", {"version": 2}).json()["items"] == []
    assert AuditEvent.objects.filter(action="submission.list", kind=AuditKind.RAW_READ).count() == 6


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"status": "lost"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 5000}, "limit"),
        ({"since": "last tuesday"}, "since"),
    ],
)
def test_a_bad_list_query_is_refused_naming_the_parameter(
    cast: Cast, form: Form, query: dict[str, Any], field: str
) -> None:
    response = Client().get(
        f"/api/v1/forms/{form.pk}/submissions", query, headers=bearer(cast.researcher)
    )
    assert response.status_code == 422
    assert field in response.json()["message"]


# --- review and edits ----------------------------------------------------------------


def _review(user: Any, submission_id: int, body: dict[str, Any]) -> Any:
    return Client().post(
        f"/api/v1/submissions/{submission_id}/review",
        body,
        content_type="application/json",
        headers=bearer(user),
    )


def test_review_needs_a_reviewer_and_a_reason_to_flag_or_reject(cast: Cast, form: Form) -> None:
    created = _post(cast.fieldworker, form, payload()).json()
    assert _review(cast.fieldworker, created["id"], {"action": "approve"}).status_code == 403
    assert _review(cast.viewer, created["id"], {"action": "approve"}).status_code == 403
    assert _review(cast.outsider, created["id"], {"action": "approve"}).status_code == 404
    no_reason = _review(cast.researcher, created["id"], {"action": "flag"})
    assert no_reason.status_code == 422
    assert "why" in no_reason.json()["message"]
    assert _review(cast.researcher, created["id"], {"action": "burn"}).status_code == 422
    assert Submission.objects.get().status == "received"

    flagged = _review(
        cast.researcher, created["id"], {"action": "flag", "reason": "same address twice"}
    )
    assert flagged.status_code == 200
    assert flagged.json()["status"] == "flagged"
    approved = _review(cast.lead, created["id"], {"action": "approve"})
    assert approved.json()["status"] == "approved"
    assert _review(cast.lead, created["id"], {"action": "approve"}).status_code == 409
    assert (
        list(
            AuditEvent.objects.filter(action__startswith="submission.").values_list(
                "action", flat=True
            )
        ).count("submission.flag")
        == 1
    )


def test_an_edit_keeps_the_previous_answers_and_who_changed_them(cast: Cast, form: Form) -> None:
    created = _post(cast.fieldworker, form, payload()).json()
    url = f"/api/v1/submissions/{created['id']}"
    client = Client(headers=bearer(cast.researcher))
    refused = client.patch(
        url, {"answers": good_answers(age=5), "reason": "typo"}, content_type="application/json"
    )
    assert refused.status_code == 422
    assert "age" in refused.json()["extra"]["errors"]
    no_reason = client.patch(
        url, {"answers": good_answers(age=35)}, content_type="application/json"
    )
    assert no_reason.status_code == 422
    same = client.patch(
        url, {"answers": good_answers(), "reason": "nothing"}, content_type="application/json"
    )
    assert same.status_code == 409
    by_fieldworker = Client(headers=bearer(cast.fieldworker)).patch(
        url, {"answers": good_answers(age=35), "reason": "x"}, content_type="application/json"
    )
    assert by_fieldworker.status_code == 403

    edited = client.patch(
        url,
        {"answers": good_answers(age=35, born_here="yes"), "reason": "age misheard"},
        content_type="application/json",
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["revision"] == 2
    assert edited.json()["answers"]["age"] == 35
    revision = SubmissionRevision.objects.get()
    assert revision.answers["age"] == 34
    assert revision.made_by == cast.fieldworker
    assert revision.replaced_by == cast.researcher
    assert revision.reason == "age misheard"
    history = client.get(f"{url}/revisions").json()
    assert history[0]["answers"]["born_here"] == "no"
    assert Answer.objects.get(submission_id=created["id"], name="age").number == 35
    event = AuditEvent.objects.get(action="submission.edit")
    assert event.detail["changed"] == ["age"]
    assert "35" not in str(event.detail)


# --- withdrawal ----------------------------------------------------------------------


def _withdraw(code: str) -> Any:
    return Client().post(
        "/api/v1/consent/withdraw", {"code": code}, content_type="application/json"
    )


@pytest.mark.parametrize("code", ["", "1234", "ABCD-EFGH-J0", "x" * 30])
def test_a_malformed_withdrawal_code_is_refused(code: str, form: Form) -> None:
    response = _withdraw(code)
    assert response.status_code == 422
    assert "ABCD-EFGH-JK" in response.json()["message"]


def test_an_unknown_withdrawal_code_is_404(form: Form) -> None:
    response = _withdraw("ABCD-EFGH-JK")
    assert response.status_code == 404
    assert "No answers are held under this code" in response.json()["message"]


def test_withdrawal_removes_everything_and_a_resent_submission_is_not_stored_again(
    cast: Cast, form: Form
) -> None:
    body = payload()
    code = _post(cast.fieldworker, form, body).json()["withdrawal_code"]
    other = _post(cast.fieldworker, form, payload()).json()
    response = _withdraw(code.lower()[:4] + " " + code.lower()[4:])
    assert response.status_code == 200, response.content
    assert response.json()["submissions_removed"] == 1
    assert response.json()["already_withdrawn"] is False
    assert list(Submission.objects.values_list("id", flat=True)) == [other["id"]]
    assert not Answer.objects.exclude(submission_id=other["id"]).exists()
    tombstone = Tombstone.objects.get()
    assert tombstone.submissions_removed == 1
    assert code not in tombstone.code_hash
    assert AuditEvent.objects.filter(action="consent.withdraw").count() == 1

    resent = _post(cast.fieldworker, form, body)
    assert resent.status_code == 200
    assert resent.json()["outcome"] == "withdrawn"
    assert Submission.objects.count() == 1
    again = _withdraw(code)
    assert again.status_code == 200
    assert again.json()["already_withdrawn"] is True


def test_a_later_answer_can_be_linked_to_the_same_respondent(cast: Cast, form: Form) -> None:
    code = _post(cast.fieldworker, form, payload()).json()["withdrawal_code"]
    linked = _post(cast.fieldworker, form, payload(respondent=code))
    assert linked.status_code == 201
    assert linked.json()["withdrawal_code"] == ""
    assert Respondent.objects.count() == 1
    assert _withdraw(code).json()["submissions_removed"] == 2
    assert Submission.objects.count() == 0


def test_a_form_without_consent_still_gives_a_withdrawal_code(cast: Cast) -> None:
    form = published_form(cast, consent=False, form_id="no_consent")
    response = _post(cast.fieldworker, form, payload(consent=None, instance_id=new_instance_id()))
    assert response.status_code == 201
    assert response.json()["withdrawal_code"]
    assert Respondent.objects.get().consent_given_at is None


def test_a_body_over_the_size_limit_gets_413_naming_the_limit(
    cast: Cast, form: Form, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
    items = [payload(answers=good_answers(comment="x" * 5000)) for _ in range(500)]
    response = _batch(cast.fieldworker, form, items)
    assert response.status_code == 413
    assert "2 MB limit" in response.json()["message"]
    assert Submission.objects.count() == 0
