"""The pause on signing in after repeated failures (allauth's `login_failed` rate limit)."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client

from tests.personas import PASSWORD, Cast

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


class _Clock:
    """A stand-in for time.time that only moves when told to."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    # allauth's rate limit and the locmem cache both read time.time().
    frozen = _Clock(1_767_225_600.0)  # 2026-01-01 00:00 UTC
    monkeypatch.setattr(time, "time", frozen)
    return frozen


def _sign_in(client: Client, username: str, password: str):
    return client.post(LOGIN, {"login": username, "password": password})


def _fail(username: str, times: int) -> None:
    for _ in range(times):
        _sign_in(Client(), username, "not the password")


def _is_signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def test_the_right_password_is_refused_once_the_failure_limit_is_reached(cast: Cast) -> None:
    _fail("paul", settings.LOGIN_FAILURE_LIMIT)
    client = Client()

    _sign_in(client, "paul", PASSWORD)

    assert not _is_signed_in(client)


def test_a_locked_out_sign_in_answers_429_with_the_lockout_page(cast: Cast) -> None:
    _fail("paul", settings.LOGIN_FAILURE_LIMIT)

    response = _sign_in(Client(), "paul", PASSWORD)

    assert response.status_code == 429
    assert "429.html" in [t.name for t in response.templates]


def test_a_locked_out_sign_in_says_for_how_many_minutes_it_is_paused(cast: Cast) -> None:
    _fail("paul", settings.LOGIN_FAILURE_LIMIT)

    response = _sign_in(Client(), "paul", PASSWORD)

    content = response.content.decode()
    assert "The username and/or password you specified are not correct." not in content
    assert f"{settings.LOGIN_LOCKOUT_MINUTES} minutes" in content


def test_failures_under_another_spelling_of_the_username_count_too(cast: Cast) -> None:
    spellings = ["PAUL", "Paul", " pAuL "]
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        _sign_in(Client(), spellings[attempt % len(spellings)], "not the password")
    client = Client()

    _sign_in(client, "paul", PASSWORD)

    assert not _is_signed_in(client)


def test_a_new_browser_session_does_not_get_round_the_lockout(cast: Cast) -> None:
    _fail("paul", settings.LOGIN_FAILURE_LIMIT)
    fresh = Client()

    _sign_in(fresh, "paul", PASSWORD)

    assert not _is_signed_in(fresh)


def test_the_lockout_holds_until_the_pause_is_over(cast: Cast, clock: _Clock) -> None:
    _fail("paul", settings.LOGIN_FAILURE_LIMIT)
    clock.now += settings.LOGIN_LOCKOUT_MINUTES * 60 - 5
    client = Client()

    _sign_in(client, "paul", PASSWORD)

    assert not _is_signed_in(client)


def test_the_right_password_works_again_after_the_pause(cast: Cast, clock: _Clock) -> None:
    _fail("paul", settings.LOGIN_FAILURE_LIMIT)
    clock.now += settings.LOGIN_LOCKOUT_MINUTES * 60 + 1
    client = Client()

    _sign_in(client, "paul", PASSWORD)

    assert _is_signed_in(client)


def test_other_users_can_still_sign_in_while_one_is_locked_out(cast: Cast) -> None:
    _fail("paul", settings.LOGIN_FAILURE_LIMIT)
    client = Client()

    _sign_in(client, "rami", PASSWORD)

    assert _is_signed_in(client)


def test_one_failure_fewer_than_the_limit_still_lets_the_right_password_in(cast: Cast) -> None:
    _fail("paul", settings.LOGIN_FAILURE_LIMIT - 1)
    client = Client()

    _sign_in(client, "paul", PASSWORD)

    assert _is_signed_in(client)


def test_many_failures_for_different_names_from_one_address_pause_that_address(
    cast: Cast,
) -> None:
    # Spraying guesses across usernames trips the per-address limit (four times the
    # per-name limit), though no single name reached its own.
    for attempt in range(settings.LOGIN_FAILURE_LIMIT * 4):
        Client().post(
            LOGIN,
            {"login": f"guess-{attempt}", "password": "not the password"},
            REMOTE_ADDR="203.0.113.9",
        )
    from_there = Client()
    from_elsewhere = Client()

    from_there.post(LOGIN, {"login": "rami", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    from_elsewhere.post(LOGIN, {"login": "rami", "password": PASSWORD}, REMOTE_ADDR="198.51.100.4")

    assert not _is_signed_in(from_there)
    assert _is_signed_in(from_elsewhere)
