"""Signing in with a username and password through allauth's own login view."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client

from incity.accounts.models import AuditEvent, User
from tests.personas import PASSWORD, Cast

LOGIN = "/accounts/login/"
GENERIC_REFUSAL = "The username and/or password you specified are not correct."


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # The failed-login counters live in the cache; each test starts with none.
    cache.clear()


def _sign_in(client: Client, username: str, password: str, **extra: str):
    return client.post(LOGIN, {"login": username, "password": password}, **extra)


def _signed_in_as(client: Client) -> str | None:
    return client.session.get(SESSION_KEY)


def _page_errors(response) -> list[str]:
    return [str(error) for error in response.context["form"].non_field_errors()]


def test_the_sign_in_page_asks_for_a_username_and_a_password(db: None) -> None:
    response = Client().get(LOGIN)

    assert response.status_code == 200
    assert set(response.context["form"].fields) >= {"login", "password"}


def test_a_wrong_password_is_refused_with_the_generic_message(cast: Cast) -> None:
    client = Client()

    response = _sign_in(client, "rami", "not the password")

    assert response.status_code == 200
    assert _page_errors(response) == [GENERIC_REFUSAL]
    assert _signed_in_as(client) is None


def test_an_unknown_username_is_refused_with_the_same_message_as_a_wrong_password(
    cast: Cast,
) -> None:
    wrong_password = _sign_in(Client(), "rami", "not the password")
    unknown_user = _sign_in(Client(), "nobody-here", "not the password")

    assert unknown_user.status_code == wrong_password.status_code == 200
    assert _page_errors(unknown_user) == _page_errors(wrong_password) == [GENERIC_REFUSAL]
    assert unknown_user.context["form"].errors == wrong_password.context["form"].errors


def test_an_empty_password_is_refused(cast: Cast) -> None:
    client = Client()

    response = _sign_in(client, "rami", "")

    assert response.status_code == 200
    assert "password" in response.context["form"].errors
    assert _signed_in_as(client) is None


def test_a_deactivated_user_is_refused_even_with_the_right_password(cast: Cast) -> None:
    User.objects.filter(pk=cast.viewer.pk).update(is_active=False)
    client = Client()

    response = _sign_in(client, "vera", PASSWORD)

    # The same answer as a wrong password: nothing tells a guesser the password was right.
    assert response.status_code == 200
    assert _page_errors(response) == [GENERIC_REFUSAL]
    assert _signed_in_as(client) is None
    assert not AuditEvent.objects.filter(action="auth.sign_in").exists()


def test_a_failed_sign_in_is_audited_with_the_attempted_name_and_the_ip(cast: Cast) -> None:
    _sign_in(Client(), "rami", "not the password", REMOTE_ADDR="203.0.113.7")

    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.kind == "auth"
    assert event.actor is None
    assert event.ip_address == "203.0.113.7"
    assert event.detail == {"username": "rami"}


def test_a_failed_sign_in_never_writes_the_password_to_the_audit_log(cast: Cast) -> None:
    _sign_in(Client(), "rami", "my-secret-guess-123")

    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() == 1
    assert not AuditEvent.objects.filter(detail__icontains="my-secret-guess-123").exists()


def test_a_refused_sign_in_writes_no_sign_in_row(cast: Cast) -> None:
    _sign_in(Client(), "rami", "not the password")

    assert not AuditEvent.objects.filter(action="auth.sign_in").exists()


def test_the_sign_up_page_is_closed(db: None) -> None:
    response = Client().get("/accounts/signup/")

    assert response.status_code == 200
    assert "form" not in response.context
    assert response.templates[0].name == "account/signup_closed.html"


def test_the_sign_in_page_does_not_point_to_the_closed_sign_up(db: None) -> None:
    response = Client().get(LOGIN)

    assert b"/accounts/signup/" not in response.content


def test_posting_to_the_sign_up_page_creates_no_user(db: None) -> None:
    client = Client()

    client.post(
        "/accounts/signup/",
        {
            "username": "intruder",
            "email": "intruder@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert not User.objects.filter(username="intruder").exists()
    assert _signed_in_as(client) is None


def test_the_right_password_signs_in_and_goes_home(cast: Cast) -> None:
    client = Client()

    response = _sign_in(client, "rami", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _signed_in_as(client) == str(cast.researcher.pk)


def test_a_sign_in_is_audited_with_the_user_and_the_ip(cast: Cast) -> None:
    _sign_in(Client(), "rami", PASSWORD, REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="pytest")

    event = AuditEvent.objects.get(action="auth.sign_in")
    assert event.kind == "auth"
    assert event.actor == cast.researcher
    assert event.actor_username == "rami"
    assert event.ip_address == "198.51.100.23"
    assert event.user_agent == "pytest"
    assert event.channel == "web"
