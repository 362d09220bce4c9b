"""Demo accounts (is_demo_account) work only while the instance runs in demo mode."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client, override_settings

from incity.accounts.models import AuditEvent, User
from tests.personas import PASSWORD, Cast, bearer

LOGIN = "/accounts/login/"
GENERIC_REFUSAL = "The username and/or password you specified are not correct."


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@pytest.fixture
def demo_user(cast: Cast) -> User:
    """Fatima, turned into a demo account (a citizen researcher: no two-factor needed)."""
    User.objects.filter(pk=cast.fieldworker.pk).update(is_demo_account=True)
    cast.fieldworker.refresh_from_db()
    return cast.fieldworker


def _sign_in(client: Client, username: str) -> None:
    client.post(LOGIN, {"login": username, "password": PASSWORD})


@override_settings(DEMO_MODE=False)
def test_a_demo_account_cannot_sign_in_outside_demo_mode(demo_user: User) -> None:
    client = Client()

    response = client.post(LOGIN, {"login": demo_user.username, "password": PASSWORD})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [GENERIC_REFUSAL]
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() == 1


@override_settings(DEMO_MODE=False)
def test_a_demo_accounts_api_token_is_refused_outside_demo_mode(demo_user: User) -> None:
    headers = bearer(demo_user)

    response = Client().get("/api/v1/me", headers=headers)

    assert response.status_code == 401
    assert response.json()["message"] == "Demo accounts work only in demo mode."


@override_settings(DEMO_MODE=False)
def test_a_demo_accounts_session_stops_working_when_demo_mode_is_off(demo_user: User) -> None:
    client = Client()
    with override_settings(DEMO_MODE=True):
        client.force_login(demo_user)

    response = client.get("/api/v1/me")

    assert response.status_code == 401


@override_settings(DEMO_MODE=False)
def test_an_ordinary_account_still_signs_in_outside_demo_mode(cast: Cast) -> None:
    client = Client()

    _sign_in(client, cast.researcher.username)

    assert client.session[SESSION_KEY] == str(cast.researcher.pk)


@override_settings(DEMO_MODE=True)
def test_a_demo_account_signs_in_in_demo_mode(demo_user: User) -> None:
    client = Client()

    _sign_in(client, demo_user.username)

    assert client.session[SESSION_KEY] == str(demo_user.pk)
    assert AuditEvent.objects.filter(action="auth.sign_in", actor=demo_user).exists()


@override_settings(DEMO_MODE=True)
def test_a_demo_accounts_api_token_works_in_demo_mode(demo_user: User) -> None:
    response = Client().get("/api/v1/me", headers=bearer(demo_user))

    assert response.status_code == 200
    assert response.json()["is_demo_account"] is True
