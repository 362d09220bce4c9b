"""API tokens: bearer authentication at /api/v1/ and the token routes /api/v1/tokens."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from incity.accounts import services
from incity.accounts.models import ApiToken, AuditEvent, User
from tests.personas import SYSTEM, Cast, bearer, signed_in

ME = "/api/v1/me"
TOKENS = "/api/v1/tokens"
FROZEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    """Freeze django.utils.timezone.now at FROZEN; call the result to move it."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    set_now(FROZEN)
    return set_now


def _token_for(user: User, days: int | None = None) -> tuple[ApiToken, str]:
    return services.create_api_token(
        acting_user=None, origin=SYSTEM, user=user, name="laptop", days=days
    )


def _get_me(raw: str):
    return Client().get(ME, headers={"Authorization": f"Bearer {raw}"})


def _create(client: Client, payload: dict[str, object]):
    return client.post(TOKENS, payload, content_type="application/json")


# Authentication with a bearer token


def test_a_request_without_credentials_is_refused_with_401_and_a_challenge(db: None) -> None:
    response = Client().get(ME)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="incity"'
    assert response.json() == {
        "message": "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
        "extra": {},
    }


def test_a_token_without_the_inc_prefix_is_refused_as_not_an_incity_token(db: None) -> None:
    response = _get_me("ghp_abcdefghijklmnop")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="incity"'
    assert response.json()["message"] == (
        "This is not an incity API token (they start with 'inc_')."
    )


def test_an_unknown_token_is_refused_as_unknown(cast: Cast) -> None:
    response = _get_me("inc_00000000_made-up-secret")

    assert response.status_code == 401
    assert response.json()["message"] == "Unknown API token."


def test_a_revoked_token_is_refused_saying_when_it_was_revoked(cast: Cast, clock) -> None:
    token, raw = _token_for(cast.researcher)
    services.revoke_api_token(acting_user=cast.researcher, origin=SYSTEM, token_id=token.pk)

    response = _get_me(raw)

    assert response.status_code == 401
    assert response.json()["message"] == "This API token was revoked on 2026-03-02."


def test_an_expired_token_is_refused_saying_when_it_expired(cast: Cast, clock) -> None:
    _, raw = _token_for(cast.researcher, days=1)
    clock(FROZEN + timedelta(days=1))

    response = _get_me(raw)

    assert response.status_code == 401
    assert response.json()["message"] == "This API token expired on 2026-03-03."


def test_a_token_of_a_deactivated_user_is_refused(cast: Cast) -> None:
    _, raw = _token_for(cast.researcher)
    User.objects.filter(pk=cast.researcher.pk).update(is_active=False)

    response = _get_me(raw)

    assert response.status_code == 401
    assert response.json()["message"] == "The account this token belongs to is deactivated."


def test_a_token_sent_with_another_scheme_is_not_accepted(cast: Cast) -> None:
    _, raw = _token_for(cast.researcher)

    response = Client().get(ME, headers={"Authorization": f"Token {raw}"})

    assert response.status_code == 401


def test_a_token_still_works_a_second_before_it_expires(cast: Cast, clock) -> None:
    _, raw = _token_for(cast.researcher, days=1)
    clock(FROZEN + timedelta(days=1) - timedelta(seconds=1))

    response = _get_me(raw)

    assert response.status_code == 200


def test_a_token_signs_its_owner_in_to_the_api(cast: Cast) -> None:
    response = Client().get(ME, headers=bearer(cast.researcher))

    assert response.status_code == 200
    assert response.json()["username"] == "rami"


def test_using_a_token_records_when_it_was_last_used(cast: Cast, clock) -> None:
    token, raw = _token_for(cast.researcher)
    clock(FROZEN + timedelta(hours=2))

    _get_me(raw)

    token.refresh_from_db()
    assert token.last_used_at == FROZEN + timedelta(hours=2)


# Making tokens


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({}, "name"),
        ({"name": "laptop", "days": 0}, "days"),
        ({"name": "laptop", "days": -5}, "days"),
        ({"name": "laptop", "days": 99999}, "days"),
        ({"name": "laptop", "days": "soon"}, "days"),
    ],
)
def test_a_token_with_bad_input_is_refused_naming_the_field(
    cast: Cast, payload: dict[str, object], field: str
) -> None:
    response = _create(signed_in(cast.researcher), payload)

    assert response.status_code == 422
    body = response.json()
    assert body["extra"]["field"] == field
    assert field in body["message"].lower()
    assert not ApiToken.objects.filter(user=cast.researcher).exists()


def test_making_a_token_without_signing_in_is_refused(db: None) -> None:
    response = _create(Client(), {"name": "laptop"})

    assert response.status_code == 401
    assert not ApiToken.objects.exists()


def test_making_a_token_from_a_session_needs_the_csrf_token(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.researcher)

    response = _create(client, {"name": "laptop"})

    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def test_a_new_token_is_shown_once_and_only_its_sha256_hash_is_stored(cast: Cast, clock) -> None:
    response = _create(signed_in(cast.researcher), {"name": "laptop", "days": 30})

    assert response.status_code == 201
    body = response.json()
    raw = body["token"]
    assert raw.startswith("inc_")
    assert body["name"] == "laptop"
    assert body["expires_at"].startswith("2026-04-01")
    row = ApiToken.objects.filter(pk=body["id"]).values().get()
    assert row["user_id"] == cast.researcher.pk
    assert row["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert all(raw not in str(value) for value in row.values())
    assert _get_me(raw).status_code == 200


def test_the_token_list_shows_only_my_tokens_without_secret_or_hash(cast: Cast) -> None:
    mine, my_raw = _token_for(cast.researcher)
    theirs, _ = _token_for(cast.partner)

    response = Client().get(TOKENS, headers={"Authorization": f"Bearer {my_raw}"})

    assert response.status_code == 200
    listed = response.json()
    assert [item["id"] for item in listed] == [mine.pk]
    assert "token" not in listed[0]
    assert "key_hash" not in listed[0]
    text = json.dumps(listed)
    assert my_raw not in text
    assert mine.key_hash not in text
    assert theirs.prefix not in text


def test_the_token_list_costs_the_same_queries_for_one_token_or_many(
    cast: Cast, django_assert_num_queries
) -> None:
    client = signed_in(cast.researcher)
    _token_for(cast.researcher)
    client.get(TOKENS)  # warm the session and role caches
    with django_assert_num_queries(3) as one:
        client.get(TOKENS)
    for _ in range(5):
        _token_for(cast.researcher)

    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(TOKENS)

    assert len(response.json()) == 6


def test_making_a_token_is_audited_without_the_secret(cast: Cast) -> None:
    response = _create(signed_in(cast.researcher), {"name": "laptop"})

    event = AuditEvent.objects.get(action="token.create")
    assert event.actor == cast.researcher
    assert event.channel == "api"
    assert event.ip_address == "127.0.0.1"
    assert event.target_id == str(response.json()["id"])
    assert response.json()["token"] not in json.dumps(event.detail)


# Revoking tokens


def test_revoking_another_users_token_is_not_found_and_changes_nothing(cast: Cast) -> None:
    theirs, their_raw = _token_for(cast.partner)

    response = signed_in(cast.researcher).delete(f"{TOKENS}/{theirs.pk}")

    assert response.status_code == 404
    assert response.json()["message"] == f"You have no API token with id {theirs.pk}."
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert _get_me(their_raw).status_code == 200
    assert not AuditEvent.objects.filter(action="token.revoke").exists()


def test_revoking_a_token_that_does_not_exist_is_not_found(cast: Cast) -> None:
    response = signed_in(cast.researcher).delete(f"{TOKENS}/999999")

    assert response.status_code == 404


def test_revoking_a_token_twice_is_a_conflict(cast: Cast) -> None:
    token, _ = _token_for(cast.researcher)
    client = signed_in(cast.researcher)
    client.delete(f"{TOKENS}/{token.pk}")

    response = client.delete(f"{TOKENS}/{token.pk}")

    assert response.status_code == 409
    assert response.json()["message"] == "Token 'laptop' was already revoked."
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_revoking_without_signing_in_is_refused(cast: Cast) -> None:
    token, _ = _token_for(cast.researcher)

    response = Client().delete(f"{TOKENS}/{token.pk}")

    assert response.status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_a_token_stops_it_working_and_is_audited(cast: Cast, clock) -> None:
    token, raw = _token_for(cast.researcher)

    response = signed_in(cast.researcher).delete(f"{TOKENS}/{token.pk}")

    assert response.status_code == 200
    assert response.json()["revoked_at"].startswith("2026-03-02T09:30")
    assert _get_me(raw).status_code == 401
    event = AuditEvent.objects.get(action="token.revoke")
    assert (event.actor, event.target_id, event.channel) == (
        cast.researcher,
        str(token.pk),
        "api",
    )
