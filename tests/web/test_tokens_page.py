"""The API tokens page: the secret is shown once, only its hash is kept, and only yours are yours."""

from __future__ import annotations

import hashlib
import re

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from incity.accounts import services
from incity.accounts.models import ApiToken, User
from tests.personas import SYSTEM, Cast, signed_in
from tests.web.pages import html

TOKENS = reverse("web:tokens")


def _revoke_url(token: ApiToken) -> str:
    return reverse("web:token_revoke", args=[token.pk])


def _secret(page: str) -> str:
    match = re.search(r'data-testid="new-token">([^<]+)<', page)
    assert match, "no new token on the page"
    return match.group(1)


def _token_of(user: User, name: str = "laptop") -> ApiToken:
    token, _ = services.create_api_token(acting_user=None, origin=SYSTEM, user=user, name=name)
    return token


def test_a_visitor_is_sent_to_sign_in(db: None) -> None:
    assert Client().get(TOKENS).status_code == 302


def test_revoking_someone_elses_token_is_refused(cast: Cast) -> None:
    token = _token_of(cast.lead)
    response = signed_in(cast.viewer).post(_revoke_url(token))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_a_token_twice_says_it_was_already_revoked(cast: Cast) -> None:
    token = _token_of(cast.viewer)
    client = signed_in(cast.viewer)
    client.post(_revoke_url(token))
    response = client.post(_revoke_url(token), follow=True)
    assert "was already revoked" in html(response)


def test_revoking_needs_a_post(cast: Cast) -> None:
    token = _token_of(cast.viewer)
    assert signed_in(cast.viewer).get(_revoke_url(token)).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_needs_the_csrf_token(cast: Cast) -> None:
    token = _token_of(cast.viewer)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.viewer)
    assert client.post(_revoke_url(token)).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "days": "30"}, "name"),
        ({"name": "x" * 101, "days": "30"}, "name"),
        ({"name": "laptop", "days": "0"}, "days"),
        ({"name": "laptop", "days": "3651"}, "days"),
        ({"name": "laptop", "days": "soon"}, "days"),
    ],
)
def test_bad_token_input_names_the_field_and_makes_nothing(
    cast: Cast, data: dict[str, str], field: str
) -> None:
    response = signed_in(cast.viewer).post(TOKENS, data)
    page = html(response)
    assert f'id="id_{field}_error"' in page
    assert 'data-testid="new-token"' not in page
    assert not ApiToken.objects.filter(user=cast.viewer).exists()


def test_a_lead_without_two_factor_cannot_make_a_token(cast: Cast) -> None:
    Authenticator.objects.filter(user=cast.lead).delete()
    response = signed_in(cast.lead).post(TOKENS, {"name": "laptop", "days": "30"})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert not ApiToken.objects.filter(user=cast.lead).exists()


def test_a_lead_without_two_factor_cannot_see_the_tokens_page(cast: Cast) -> None:
    Authenticator.objects.filter(user=cast.lead).delete()
    response = signed_in(cast.lead).get(TOKENS)
    assert response["Location"] == reverse("mfa_activate_totp")


def test_someone_elses_tokens_are_not_listed(cast: Cast) -> None:
    _token_of(cast.lead, name="lenas laptop")
    page = html(signed_in(cast.viewer).get(TOKENS))
    assert "lenas laptop" not in page
    assert "You have no API tokens." in page


def test_a_new_token_is_shown_once_and_only_its_hash_is_kept(cast: Cast) -> None:
    client = signed_in(cast.viewer)
    response = client.post(TOKENS, {"name": "laptop", "days": "30"})
    assert "no-store" in response["Cache-Control"]
    page = html(response)
    assert "Copy it now: it will not be shown again." in page
    secret = _secret(page)
    token = ApiToken.objects.get(user=cast.viewer)
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert all(secret not in value for value in stored)
    assert secret not in html(client.get(TOKENS))


def test_the_new_token_works_against_the_api(cast: Cast) -> None:
    page = html(signed_in(cast.viewer).post(TOKENS, {"name": "script", "days": "7"}))
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {_secret(page)}")
    assert response.status_code == 200
    assert response.json()["username"] == "vera"


def test_a_lead_with_two_factor_makes_a_token(cast: Cast) -> None:
    page = html(signed_in(cast.lead).post(TOKENS, {"name": "laptop", "days": "30"}))
    assert _secret(page).startswith("inc_")


def test_the_list_shows_name_prefix_and_dates(cast: Cast) -> None:
    token = _token_of(cast.viewer, name="field laptop")
    page = html(signed_in(cast.viewer).get(TOKENS))
    assert "field laptop" in page
    assert f"inc_{token.prefix}" in page
    assert "not yet" in page
    assert f"{token.expires_at:%Y-%m-%d}" in page


def test_revoking_your_own_token_marks_it_revoked(cast: Cast) -> None:
    token = _token_of(cast.viewer)
    response = signed_in(cast.viewer).post(_revoke_url(token), follow=True)
    assert "Token &#x27;laptop&#x27; is revoked." in html(response)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "Revoke laptop" not in html(response)
