"""Two-factor sign-in with TOTP (allauth.mfa) and the rule that staff roles must use it."""

from __future__ import annotations

import time

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client, override_settings

from incity.accounts.models import AuditEvent, User
from tests.personas import PASSWORD, TOTP_SECRET, Cast, signed_in

LOGIN = "/accounts/login/"
SECOND_STEP = "/accounts/2fa/authenticate/"
ACTIVATE_TOTP = "/accounts/2fa/totp/activate/"
REAUTHENTICATE = "/accounts/reauthenticate/"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Failed-attempt counters and used TOTP codes live in the cache.
    cache.clear()


def _fresh_code() -> str:
    """The current code, waiting out the last seconds of a 30-second window first."""
    remaining = 30 - time.time() % 30
    if remaining < 3:
        time.sleep(remaining + 0.1)
    return pyotp.TOTP(TOTP_SECRET).now()


def _wrong_code() -> str:
    return f"{(int(pyotp.TOTP(TOTP_SECRET).now()) + 1) % 1_000_000:06d}"


def _password_step(username: str) -> Client:
    client = Client()
    response = client.post(LOGIN, {"login": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def _is_signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def _without_totp(user: User) -> User:
    Authenticator.objects.filter(user=user).delete()
    return user


def test_a_staff_password_alone_leads_to_the_code_step_not_into_incity(cast: Cast) -> None:
    client = Client()

    response = client.post(LOGIN, {"login": "lena", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == SECOND_STEP
    assert not _is_signed_in(client)
    assert not AuditEvent.objects.filter(action="auth.sign_in").exists()


def test_the_code_step_asks_for_a_code(cast: Cast) -> None:
    client = _password_step("lena")

    response = client.get(SECOND_STEP)

    assert response.status_code == 200
    assert list(response.context["form"].fields) == ["code"]


def test_leaving_the_code_step_does_not_sign_in(cast: Cast) -> None:
    client = _password_step("lena")

    client.get("/")

    assert not _is_signed_in(client)
    assert client.get("/api/v1/me").status_code == 401


def test_a_wrong_code_is_refused(cast: Cast) -> None:
    client = _password_step("lena")

    response = client.post(SECOND_STEP, {"code": _wrong_code()})

    assert response.status_code == 200
    assert response.context["form"].errors["code"] == ["Incorrect code."]
    assert not _is_signed_in(client)


def test_an_empty_code_is_refused(cast: Cast) -> None:
    client = _password_step("lena")

    response = client.post(SECOND_STEP, {"code": ""})

    assert "code" in response.context["form"].errors
    assert not _is_signed_in(client)


def test_the_code_step_without_a_password_first_signs_nobody_in(cast: Cast) -> None:
    client = Client()

    response = client.post(SECOND_STEP, {"code": _fresh_code()})

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not _is_signed_in(client)


def test_a_code_cannot_be_used_twice(cast: Cast) -> None:
    code = _fresh_code()
    first = _password_step("lena")
    first.post(SECOND_STEP, {"code": code})
    assert _is_signed_in(first)
    second = _password_step("lena")

    response = second.post(SECOND_STEP, {"code": code})

    assert response.status_code == 200
    assert not _is_signed_in(second)


def test_repeated_wrong_codes_lock_the_code_step(cast: Cast) -> None:
    client = _password_step("lena")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post(SECOND_STEP, {"code": _wrong_code()})

    response = client.post(SECOND_STEP, {"code": _fresh_code()})

    assert response.status_code == 200
    [error] = response.context["form"].errors["code"]
    assert error.startswith("Too many failed")
    assert not _is_signed_in(client)


def test_a_code_for_someone_elses_secret_does_not_pass_the_code_step(cast: Cast) -> None:
    TOTP.activate(_without_totp(cast.admin), pyotp.random_base32())
    client = _password_step("nadia")

    response = client.post(SECOND_STEP, {"code": _fresh_code()})

    assert response.status_code == 200
    assert not _is_signed_in(client)


def test_the_right_code_completes_the_sign_in(cast: Cast) -> None:
    client = _password_step("lena")

    response = client.post(SECOND_STEP, {"code": _fresh_code()}, REMOTE_ADDR="192.0.2.10")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session[SESSION_KEY] == str(cast.lead.pk)
    event = AuditEvent.objects.get(action="auth.sign_in")
    assert (event.actor, event.ip_address) == (cast.lead, "192.0.2.10")


@pytest.mark.parametrize("path", ["/", "/frameworks/", "/organisations/riverton/"])
def test_a_city_lead_without_totp_is_sent_to_set_it_up_from_any_page(cast: Cast, path: str) -> None:
    client = signed_in(_without_totp(cast.lead))

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == ACTIVATE_TOTP


def test_a_network_admin_without_totp_is_sent_to_set_it_up(cast: Cast) -> None:
    client = signed_in(_without_totp(cast.admin))

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == ACTIVATE_TOTP


def test_a_city_lead_without_totp_who_signs_in_is_led_to_the_set_up_page(cast: Cast) -> None:
    _without_totp(cast.lead)
    client = _password_step("lena")

    response = client.get("/", follow=True)

    # allauth asks for the password once more before it lets anyone add an authenticator.
    assert response.redirect_chain == [
        (ACTIVATE_TOTP, 302),
        (f"{REAUTHENTICATE}?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F", 302),
    ]
    assert response.status_code == 200


def test_a_city_lead_without_totp_can_set_it_up_and_then_use_incity(cast: Cast) -> None:
    client = signed_in(_without_totp(cast.lead))
    confirmed = client.post(
        f"{REAUTHENTICATE}?next={ACTIVATE_TOTP}", {"password": PASSWORD}, follow=True
    )
    assert confirmed.redirect_chain[-1] == (ACTIVATE_TOTP, 302)
    secret = confirmed.context["form"].secret

    activated = client.post(ACTIVATE_TOTP, {"code": pyotp.TOTP(secret).now()})

    assert activated.status_code == 302
    assert Authenticator.objects.filter(user=cast.lead, type=Authenticator.Type.TOTP).exists()
    assert client.get("/").status_code == 200


def test_a_wrong_code_does_not_set_up_totp(cast: Cast) -> None:
    client = signed_in(_without_totp(cast.lead))
    client.post(f"{REAUTHENTICATE}?next={ACTIVATE_TOTP}", {"password": PASSWORD})

    response = client.post(ACTIVATE_TOTP, {"code": "not-a-code"})

    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=cast.lead).exists()
    assert client.get("/")["Location"] == ACTIVATE_TOTP


def test_the_set_up_pages_are_not_sent_round_in_a_loop(cast: Cast) -> None:
    client = signed_in(_without_totp(cast.lead))

    response = client.get(ACTIVATE_TOTP)

    assert response.status_code == 302
    assert response["Location"].startswith(REAUTHENTICATE)
    assert client.get(response["Location"]).status_code == 200


def test_the_api_is_not_redirected_for_a_lead_without_totp(cast: Cast) -> None:
    client = signed_in(_without_totp(cast.lead))

    response = client.get("/api/v1/me")

    assert response.status_code == 200


def test_a_researcher_without_totp_is_not_sent_to_set_it_up(cast: Cast) -> None:
    client = signed_in(cast.researcher)

    response = client.get("/")

    assert response.status_code == 200


def test_a_lead_with_totp_is_not_sent_to_set_it_up(cast: Cast) -> None:
    response = signed_in(cast.lead).get("/")

    assert response.status_code == 200


@override_settings(MFA_ENFORCED=False)
def test_without_enforcement_a_lead_without_totp_is_not_redirected(cast: Cast) -> None:
    client = signed_in(_without_totp(cast.lead))

    response = client.get("/")

    assert response.status_code == 200
