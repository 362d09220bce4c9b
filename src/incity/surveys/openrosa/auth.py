"""Who is asking: HTTP Basic with the user's own password, or an incity API token.

ODK Collect and KoboCollect sign in with a username and password, answering a
401 challenge. Basic is checked by Django's `authenticate`, counted by allauth's
rate limit, so a username's failed attempts count towards the same lockout as
the sign-in page; the answer never says whether a username exists.

Accounts with two-factor sign-in cannot use their password alone here (that
would skip the second factor); they type an API token as the password instead.
A bearer token (`Authorization: Bearer inc_...`) works too, for scripts.

Digest authentication is not offered: it needs a stored MD5 of
username:realm:password, which Django's salted password hashes cannot give,
and keeping one would be a second, weaker copy of every password.

Password hashing is deliberately slow (some 0.3 s), and a phone sends a HEAD
and a POST per submission, so a verified username and password are remembered
in this process for a few minutes: keyed by an HMAC under a per-process random
key (the password itself is never kept) and only while the stored password hash
is unchanged, so a new password or a deactivated account takes effect at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict
from typing import NamedTuple

from allauth.account.adapter import get_adapter
from allauth.core.internal import ratelimit
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest

from incity.accounts.backends import IncityModelBackend
from incity.accounts.models import User
from incity.accounts.services import TOKEN_PREFIX, user_for_token
from incity.errors import Unauthenticated
from incity.surveys.openrosa.responses import OpenRosaError

WRONG_CREDENTIALS = "The username or password is wrong."
NO_CREDENTIALS = (
    "Sign in: set your incity username and password in the app's server settings "
    "(HTTP Basic), or send an API token."
)
_VERIFIED_TTL_S = 300.0
_VERIFIED_MAX = 4096
_PROCESS_KEY = os.urandom(32)


class _Verified(NamedTuple):
    user_pk: int
    password_hash: str
    expires_at: float


_verified: OrderedDict[bytes, _Verified] = OrderedDict()
_verified_lock = threading.Lock()


def authenticated_user(request: HttpRequest) -> User:
    """The user the request's credentials belong to; raises OpenRosaError (401 or 429)."""
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return _token_user(value.strip())
    if scheme != "basic":
        raise OpenRosaError(401, NO_CREDENTIALS)
    username, password = _basic_credentials(value.strip())
    if password.startswith(TOKEN_PREFIX):
        user = _token_user(password)
        if user.get_username().casefold() != username.casefold():
            raise OpenRosaError(401, WRONG_CREDENTIALS)
        return user
    return _remembered(username, password) or _password_user(request, username, password)


def forget_verified_credentials() -> None:
    """Forget every remembered sign-in (tests; a password change needs no call)."""
    with _verified_lock:
        _verified.clear()


def _basic_credentials(encoded: str) -> tuple[str, str]:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise OpenRosaError(401, "The Authorization header is not valid HTTP Basic.") from None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")
    username, separator, password = decoded.partition(":")
    if not separator or not username or not password:
        raise OpenRosaError(401, NO_CREDENTIALS)
    return username, password


def _token_user(raw: str) -> User:
    try:
        return user_for_token(raw)
    except Unauthenticated as error:
        raise OpenRosaError(401, error.message) from None


def _credential_key(username: str, password: str) -> bytes:
    message = f"{username}\x00{password}".encode()
    return hmac.new(_PROCESS_KEY, message, hashlib.sha256).digest()


def _remembered(username: str, password: str) -> User | None:
    key = _credential_key(username, password)
    with _verified_lock:
        entry = _verified.get(key)
    if entry is None or entry.expires_at < time.monotonic():
        return None
    user = User.objects.filter(pk=entry.user_pk).first()
    if (
        user is None
        or user.password != entry.password_hash
        or not IncityModelBackend().user_can_authenticate(user)
        or _has_two_factor(user)
    ):
        with _verified_lock:
            _verified.pop(key, None)
        return None
    return user


def _remember(username: str, password: str, user: User) -> None:
    entry = _Verified(user.pk, user.password, time.monotonic() + _VERIFIED_TTL_S)
    with _verified_lock:
        _verified[_credential_key(username, password)] = entry
        while len(_verified) > _VERIFIED_MAX:
            _verified.popitem(last=False)


def _password_user(request: HttpRequest, username: str, password: str) -> User:
    # The same counter as the sign-in page (allauth's "login_failed", per username and per
    # address). Called here with limit_get: allauth's public helper never limits GET
    # requests, and a phone's form list is a GET.
    key = get_adapter(request)._get_login_attempts_cache_key(request, username=username)
    usage = ratelimit.consume(
        request, app="allauth.account", action="login_failed", key=key, limit_get=True
    )
    if usage is None:
        minutes = settings.LOGIN_LOCKOUT_MINUTES
        raise OpenRosaError(
            429,
            "Too many failed sign-in attempts for this account; sign-in is paused. "
            f"Try again in {minutes} minutes.",
            retry_after_s=minutes * 60,
        )
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User):
        raise OpenRosaError(401, WRONG_CREDENTIALS)
    # A right password does not count as a failure (allauth does the same).
    usage.rollback()
    if _has_two_factor(user):
        # Said only after the password was right, so it reveals nothing to a guesser.
        raise OpenRosaError(
            401,
            "This account signs in with two-factor authentication, so its password alone "
            "cannot be used here: make an API token in incity and type it as the password.",
        )
    _remember(username, password, user)
    return user


def _has_two_factor(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
