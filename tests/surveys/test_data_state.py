"""The per-form data counter moves on with every change to a form's submissions, and
nothing else; a withdrawal purges the stores derived from the form once committed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from incity.accounts.audit import Origin
from incity.surveys import derived
from incity.surveys.models import Form
from incity.surveys.queries import data_version
from incity.surveys.services.sensitivity import set_sensitive_questions
from tests.personas import Cast, bearer
from tests.surveys.forms import good_answers, payload, published_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(cast: Cast) -> Form:
    return published_form(cast)


def _post(user: Any, form: Form, body: dict[str, Any], path: str = "submissions") -> Any:
    return Client().post(
        f"/api/v1/forms/{form.pk}/{path}",
        body,
        content_type="application/json",
        headers=bearer(user),
    )


def test_a_new_form_starts_at_zero_and_each_submission_moves_it_on(cast: Cast, form: Form) -> None:
    assert data_version(form) == 0
    assert _post(cast.fieldworker, form, payload()).status_code == 201
    assert data_version(form) == 1
    assert _post(cast.fieldworker, form, payload()).status_code == 201
    assert data_version(form.pk) == 2


def test_refused_and_repeated_submissions_leave_it_alone(cast: Cast, form: Form) -> None:
    body = payload()
    _post(cast.fieldworker, form, body)
    before = data_version(form)
    assert _post(cast.fieldworker, form, body).status_code == 200  # the same instance again
    assert _post(cast.fieldworker, form, payload(answers=good_answers(age=3))).status_code == 422
    assert _post(cast.viewer, form, payload()).status_code == 403
    assert data_version(form) == before


def test_a_batch_moves_it_on_once_and_an_all_refused_batch_not_at_all(
    cast: Cast, form: Form
) -> None:
    stored = _post(
        cast.fieldworker, form, {"submissions": [payload(), payload()]}, "submissions/batch"
    )
    assert stored.status_code == 200, stored.content
    assert data_version(form) == 1
    bad = {"submissions": [payload(answers=good_answers(age=3))]}
    assert _post(cast.fieldworker, form, bad, "submissions/batch").status_code == 200
    assert data_version(form) == 1


def test_review_and_edit_move_it_on_and_a_refused_review_does_not(cast: Cast, form: Form) -> None:
    created = _post(cast.fieldworker, form, payload()).json()
    client = Client(headers=bearer(cast.researcher))
    review = f"/api/v1/submissions/{created['id']}/review"
    assert (
        client.post(review, {"action": "flag"}, content_type="application/json").status_code == 422
    )
    assert data_version(form) == 1
    flagged = client.post(
        review, {"action": "flag", "reason": "twice"}, content_type="application/json"
    )
    assert flagged.status_code == 200
    assert data_version(form) == 2
    edited = client.patch(
        f"/api/v1/submissions/{created['id']}",
        {"answers": good_answers(age=44), "reason": "typo"},
        content_type="application/json",
    )
    assert edited.status_code == 200, edited.content
    assert data_version(form) == 3


def test_a_withdrawal_moves_it_on_and_purges_derived_stores_after_commit(
    cast: Cast, form: Form, django_capture_on_commit_callbacks: Any
) -> None:
    code = _post(cast.fieldworker, form, payload()).json()["withdrawal_code"]
    purged: list[set[int]] = []
    derived.register_purger(purged.append)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = Client().post(
                "/api/v1/consent/withdraw", {"code": code}, content_type="application/json"
            )
            assert response.status_code == 200
            assert purged == []  # nothing is purged before the deletion is committed
        for callback in callbacks:
            callback()
    finally:
        derived._purgers.remove(purged.append)
    assert purged == [{form.pk}]
    assert data_version(form) == 2


def test_an_unknown_withdrawal_code_purges_nothing(
    form: Form, django_capture_on_commit_callbacks: Any
) -> None:
    purged: list[set[int]] = []
    derived.register_purger(purged.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post(
                "/api/v1/consent/withdraw",
                {"code": "ABCD-EFGH-JK"},
                content_type="application/json",
            )
    finally:
        derived._purgers.remove(purged.append)
    assert response.status_code == 404
    assert purged == []
    assert data_version(form) == 0


def test_marking_a_question_sensitive_moves_every_form_of_the_project_on(
    cast: Cast, form: Form, django_capture_on_commit_callbacks: Any
) -> None:
    _post(cast.fieldworker, form, payload())
    with django_capture_on_commit_callbacks(execute=True):
        set_sensitive_questions(
            acting_user=cast.lead, origin=Origin.cli(), project=form.project, names=["age"]
        )
    assert data_version(form) == 2


def test_a_failing_purger_does_not_stop_the_others() -> None:
    calls: list[set[int]] = []

    def broken(form_ids: set[int]) -> None:
        raise OSError("disk gone")

    derived.register_purger(broken)
    derived.register_purger(calls.append)
    try:
        derived.purge({7})
    finally:
        derived._purgers.remove(broken)
        derived._purgers.remove(calls.append)
    assert calls == [{7}]


def test_a_withdrawal_deletes_the_analysis_snapshot_that_held_the_answers(
    cast: Cast, form: Form, django_capture_on_commit_callbacks: Any
) -> None:
    from incity.analysis.query import fingerprint, snapshot, snapshot_dir

    code = _post(cast.fieldworker, form, payload()).json()["withdrawal_code"]
    _post(cast.fieldworker, form, payload())
    before = fingerprint(form)
    built = snapshot(form)
    assert built.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/api/v1/consent/withdraw", {"code": code}, content_type="application/json"
        )
    assert response.status_code == 200
    assert not built.exists()
    assert not list(snapshot_dir().glob(f"form-{form.pk}-*"))
    assert fingerprint(form) != before


def test_listeners_hear_each_change_inside_the_transaction_and_cannot_fail_it(
    cast: Cast, form: Form
) -> None:
    heard: list[int] = []

    def broken(form_id: int) -> None:
        raise RuntimeError("cache down")

    derived.register_listener(broken)
    derived.register_listener(heard.append)
    try:
        assert _post(cast.fieldworker, form, payload()).status_code == 201
        assert (
            _post(cast.fieldworker, form, payload(answers=good_answers(age=3))).status_code == 422
        )
    finally:
        derived._listeners.remove(broken)
        derived._listeners.remove(heard.append)
    assert heard == [form.pk]
    assert data_version(form) == 1


def test_marking_a_question_sensitive_resplits_every_submission_chunk_by_chunk(
    cast: Cast, form: Form, monkeypatch: Any
) -> None:
    from incity.surveys.crypto import decrypt_json
    from incity.surveys.models import Answer, Submission
    from incity.surveys.services import sensitivity

    monkeypatch.setattr(sensitivity, "RESPLIT_CHUNK", 2)
    for age in (21, 32, 43, 54, 65):
        assert (
            _post(cast.fieldworker, form, payload(answers=good_answers(age=age))).status_code == 201
        )
    set_sensitive_questions(
        acting_user=cast.lead, origin=Origin.cli(), project=form.project, names=["age"]
    )
    stored = list(Submission.objects.filter(form=form).values_list("answers", "sensitive"))
    assert len(stored) == 5
    assert all("age" not in answers for answers, _ in stored)
    assert sorted(decrypt_json(secret)["age"] for _, secret in stored) == [21, 32, 43, 54, 65]
    assert not Answer.objects.filter(form=form, name="age").exists()
    assert Answer.objects.filter(form=form, name="tenure").count() == 5
