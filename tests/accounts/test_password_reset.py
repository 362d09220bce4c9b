"""Setting a new password through a link sent by e-mail (allauth's password reset)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from allauth.account.forms import default_token_generator
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils.http import int_to_base36

from incity.accounts.models import User
from tests.personas import PASSWORD, Cast

RESET = "/accounts/password/reset/"
RESET_DONE = "/accounts/password/reset/done/"
NEW_PASSWORD = "a brand new passphrase 2026"
# allauth's reset links: /accounts/password/reset/key/<uid in base 36>-<token>/
RESET_LINK = re.compile(r"https?://[^/\s]+(/accounts/password/reset/key/[0-9a-z]+-[\w-]+/)")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@pytest.fixture
def frozen_reset_clock(monkeypatch: pytest.MonkeyPatch):
    """Freeze the clock the reset tokens are stamped and checked with; returns a setter."""
    # Django's token generator reads the time through _now(), which it keeps for tests.
    generator_class = type(default_token_generator)

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(generator_class, "_now", lambda self: moment)

    return set_now


def _request_reset(client: Client, email: str):
    return client.post(RESET, {"email": email})


def _reset_links() -> list[str]:
    return [link for message in mail.outbox for link in RESET_LINK.findall(message.body)]


def _set_password_via(client: Client, link: str, password: str):
    """Follow a reset link as allauth expects: it swaps the key for a session, then asks."""
    opened = client.get(link)
    assert opened.status_code == 302, opened.content
    return client.post(opened["Location"], {"password1": password, "password2": password})


def _can_sign_in(username: str, password: str) -> bool:
    client = Client()
    client.post("/accounts/login/", {"login": username, "password": password})
    return SESSION_KEY in client.session


def test_an_unknown_address_gets_the_same_answer_as_a_known_one(cast: Cast) -> None:
    known = _request_reset(Client(), "rami@example.org")
    unknown = _request_reset(Client(), "nobody@example.org")

    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"] == RESET_DONE


def test_an_unknown_address_is_sent_no_reset_link(cast: Cast) -> None:
    _request_reset(Client(), "nobody@example.org")

    assert _reset_links() == []
    assert all(message.to == ["nobody@example.org"] for message in mail.outbox)


def test_an_unknown_address_is_not_invited_to_the_closed_sign_up(cast: Cast) -> None:
    _request_reset(Client(), "nobody@example.org")

    assert not any("/accounts/signup/" in message.body for message in mail.outbox)


def test_a_deactivated_user_is_sent_no_reset_link(cast: Cast) -> None:
    User.objects.filter(pk=cast.viewer.pk).update(is_active=False)

    _request_reset(Client(), "vera@example.org")

    assert _reset_links() == []


def test_a_made_up_reset_key_is_refused(cast: Cast) -> None:
    key_url = f"/accounts/password/reset/key/{int_to_base36(cast.researcher.pk)}-not-a-real-key/"

    opened = Client().get(key_url)
    posted = Client().post(key_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert opened.status_code == posted.status_code == 200
    assert opened.context["token_fail"] is True
    assert posted.context["token_fail"] is True
    assert _can_sign_in("rami", PASSWORD)
    assert not _can_sign_in("rami", NEW_PASSWORD)


def test_a_reset_key_sent_to_one_user_is_refused_for_another(cast: Cast) -> None:
    _request_reset(Client(), "rami@example.org")
    [link] = _reset_links()
    token = link.rstrip("/").rsplit("/", 1)[1].split("-", 1)[1]

    key_url = f"/accounts/password/reset/key/{int_to_base36(cast.partner.pk)}-{token}/"

    response = Client().post(key_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 200
    assert response.context["token_fail"] is True
    assert _can_sign_in("paul", PASSWORD)


def test_an_expired_reset_link_is_refused_and_the_password_is_unchanged(
    cast: Cast, frozen_reset_clock
) -> None:
    sent_at = datetime(2026, 3, 2, 9, 0)
    frozen_reset_clock(sent_at)
    _request_reset(Client(), "rami@example.org")
    [link] = _reset_links()
    frozen_reset_clock(sent_at + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1))
    client = Client()

    response = client.get(link, follow=True)

    assert response.context["token_fail"] is True
    assert _can_sign_in("rami", PASSWORD)


def test_a_reset_link_still_works_just_before_it_expires(cast: Cast, frozen_reset_clock) -> None:
    sent_at = datetime(2026, 3, 2, 9, 0)
    frozen_reset_clock(sent_at)
    _request_reset(Client(), "rami@example.org")
    [link] = _reset_links()
    frozen_reset_clock(sent_at + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 60))

    response = _set_password_via(Client(), link, NEW_PASSWORD)

    assert response.status_code == 302
    assert _can_sign_in("rami", NEW_PASSWORD)


def test_a_reset_link_cannot_be_used_twice(cast: Cast) -> None:
    _request_reset(Client(), "rami@example.org")
    [link] = _reset_links()
    _set_password_via(Client(), link, NEW_PASSWORD)

    response = Client().get(link, follow=True)

    assert response.context["token_fail"] is True


def test_a_weak_new_password_is_refused_and_the_old_one_kept(cast: Cast) -> None:
    _request_reset(Client(), "rami@example.org")
    [link] = _reset_links()

    response = _set_password_via(Client(), link, "12345678")

    assert response.status_code == 200
    assert response.context["form"].errors
    assert _can_sign_in("rami", PASSWORD)


def test_a_known_address_is_sent_one_mail_with_a_reset_link(cast: Cast) -> None:
    response = _request_reset(Client(), "rami@example.org")

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rami@example.org"]
    assert len(_reset_links()) == 1


def test_a_new_password_set_through_the_link_replaces_the_old_one(cast: Cast) -> None:
    _request_reset(Client(), "rami@example.org")
    [link] = _reset_links()

    response = _set_password_via(Client(), link, NEW_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/key/done/"
    assert not _can_sign_in("rami", PASSWORD)
    assert _can_sign_in("rami", NEW_PASSWORD)
