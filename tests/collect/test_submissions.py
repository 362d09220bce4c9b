"""POST /collect/<project>/<form>/submissions as the app sends it: refusals first."""

from __future__ import annotations

import pytest
from django.test import Client

from incity.accounts.models import AuditEvent
from incity.collect import services
from incity.surveys.models import Submission
from incity.surveys.services import forms as form_services
from tests.collect.helpers import app_url, link_for, payload, post_json, published_form
from tests.personas import SYSTEM, Cast, signed_in

pytestmark = pytest.mark.django_db


def test_anonymous_without_a_link_is_asked_to_sign_in(cast: Cast) -> None:
    form = published_form(cast)
    response = post_json(Client(), app_url(form, "submissions"), payload())
    assert response.status_code == 401
    assert "Sign in" in response.json()["message"]
    assert not Submission.objects.exists()


def test_a_wrong_token_answers_not_found(cast: Cast) -> None:
    form = published_form(cast)
    link_for(cast, form)
    response = post_json(Client(), app_url(form, "submissions"), payload(), token="not-the-token")
    assert response.status_code == 404
    assert not Submission.objects.exists()


def test_a_token_of_another_form_answers_not_found(cast: Cast) -> None:
    form = published_form(cast)
    other = published_form(cast, form_id="other")
    link = link_for(cast, other)
    response = post_json(Client(), app_url(form, "submissions"), payload(), token=link.token)
    assert response.status_code == 404


def test_a_switched_off_link_takes_nothing(cast: Cast) -> None:
    form = published_form(cast)
    link = link_for(cast, form)
    services.disable_public_link(acting_user=cast.lead, origin=SYSTEM, form=form)
    response = post_json(Client(), app_url(form, "submissions"), payload(), token=link.token)
    assert response.status_code == 403
    assert "switched off" in response.json()["message"]
    assert not Submission.objects.exists()


def test_a_closed_form_takes_nothing(cast: Cast) -> None:
    form = published_form(cast)
    link = link_for(cast, form)
    form_services.set_form_status(
        acting_user=cast.lead, origin=SYSTEM, form_pk=form.pk, status="closed"
    )
    for client, token in ((signed_in(cast.fieldworker), ""), (Client(), link.token)):
        response = post_json(client, app_url(form, "submissions"), payload(), token=token)
        assert response.status_code == 409
        assert "closed" in response.json()["message"]
    assert not Submission.objects.exists()


def test_another_citys_lead_gets_not_found(cast: Cast) -> None:
    form = published_form(cast)
    response = post_json(signed_in(cast.outsider), app_url(form, "submissions"), payload())
    assert response.status_code == 404
    assert not Submission.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "partner"])
def test_roles_that_may_not_collect_are_forbidden(cast: Cast, role: str) -> None:
    form = published_form(cast)
    user = cast.by_role(role)
    response = post_json(signed_in(user), app_url(form, "submissions"), payload())
    assert response.status_code == 403
    assert not Submission.objects.exists()


def test_wrong_answers_are_refused_naming_each_field(cast: Cast) -> None:
    form = published_form(cast)
    body = payload()
    body["answers"]["age"] = 5
    body["answers"]["tenure"] = "castle"
    response = post_json(signed_in(cast.fieldworker), app_url(form, "submissions"), body)
    assert response.status_code == 422
    errors = response.json()["extra"]["errors"]
    assert "16 or over" in errors["age"]
    assert "tenure" in errors
    assert not Submission.objects.exists()


def test_answers_without_consent_are_not_stored(cast: Cast) -> None:
    form = published_form(cast)
    link = link_for(cast, form)
    body = payload()
    del body["consent"]
    response = post_json(Client(), app_url(form, "submissions"), body, token=link.token)
    assert response.status_code == 422
    assert "consent" in response.json()["extra"]["errors"]
    assert not Submission.objects.exists()


def test_a_body_that_is_not_json_is_refused(cast: Cast) -> None:
    form = published_form(cast)
    response = signed_in(cast.fieldworker).post(
        app_url(form, "submissions"), data="answers=1", content_type="text/plain"
    )
    assert response.status_code == 422
    assert "not JSON" in response.json()["message"]


def test_a_missing_instance_id_is_named(cast: Cast) -> None:
    form = published_form(cast)
    body = payload()
    del body["instance_id"]
    response = post_json(signed_in(cast.fieldworker), app_url(form, "submissions"), body)
    assert response.status_code == 422
    assert "instance_id" in response.json()["extra"]["errors"]


def test_an_oversize_submission_is_refused(cast: Cast) -> None:
    form = published_form(cast)
    body = payload()
    body["answers"]["comment"] = "x" * (600 * 1024)
    response = post_json(signed_in(cast.fieldworker), app_url(form, "submissions"), body)
    assert response.status_code == 413
    assert "limit" in response.json()["message"]
    assert not Submission.objects.exists()


def test_a_session_post_without_the_csrf_token_is_refused(cast: Cast) -> None:
    form = published_form(cast)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.fieldworker)
    response = post_json(client, app_url(form, "submissions"), payload())
    assert response.status_code == 403
    assert "reload the page" in response.json()["message"]
    assert not Submission.objects.exists()


def test_anonymous_submissions_from_one_address_are_limited(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(services, "ANONYMOUS_SUBMISSIONS_PER_WINDOW", 2)
    form = published_form(cast)
    link = link_for(cast, form)
    url = app_url(form, "submissions")
    statuses = [post_json(Client(), url, payload(), token=link.token).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    assert Submission.objects.count() == 2
    refused = post_json(Client(), url, payload(), token=link.token)
    assert "Too many" in refused.json()["message"]
    assert refused["Retry-After"] == "3600"


def test_a_repeated_instance_is_acknowledged_and_stored_once(cast: Cast) -> None:
    form = published_form(cast)
    client = signed_in(cast.fieldworker)
    body = payload()
    first = post_json(client, app_url(form, "submissions"), body)
    again = post_json(client, app_url(form, "submissions"), body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["outcome"] == "duplicate"
    assert Submission.objects.filter(instance_id=body["instance_id"]).count() == 1


def test_a_citizen_researcher_stores_a_submission(cast: Cast) -> None:
    form = published_form(cast)
    body = payload()
    response = post_json(signed_in(cast.fieldworker), app_url(form, "submissions"), body)
    assert response.status_code == 201
    assert response.json()["outcome"] == "created"
    assert len(response.json()["withdrawal_code"]) == 10
    stored = Submission.objects.get(instance_id=body["instance_id"])
    assert stored.collected_by == cast.fieldworker
    assert stored.channel == "collect"
    assert stored.device_id == "test-phone-1"


def test_a_resident_stores_a_submission_through_the_public_link(cast: Cast) -> None:
    form = published_form(cast)
    link = link_for(cast, form)
    body = payload()
    response = post_json(Client(), app_url(form, "submissions"), body, token=link.token)
    assert response.status_code == 201
    stored = Submission.objects.get(instance_id=body["instance_id"])
    assert stored.collected_by is None
    assert stored.respondent is not None
    assert stored.respondent.consent_given_at is not None
    event = AuditEvent.objects.get(action="submission.create", target_id=str(stored.pk))
    assert event.actor is None
    assert event.channel == "collect"
