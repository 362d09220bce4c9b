"""Audit rows for sign-in events, which Django and allauth report only as signals."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User


def _origin(request: HttpRequest | None) -> Origin:
    return Origin.from_request(request) if request is not None else Origin(channel="web")


@receiver(user_logged_in)
def audit_sign_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    record(actor=user, origin=_origin(request), kind=AuditKind.AUTH, action="auth.sign_in")


@receiver(user_logged_out)
def audit_sign_out(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if user is not None:
        record(actor=user, origin=_origin(request), kind=AuditKind.AUTH, action="auth.sign_out")


@receiver(user_login_failed)
def audit_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The attempted name is kept (never the password) so a lead can see who is targeted.
    attempted = str(credentials.get("username") or credentials.get("login") or "")[:150]
    record(
        actor=None,
        origin=_origin(request),
        kind=AuditKind.AUTH,
        action="auth.sign_in_failed",
        detail={"username": attempted},
    )
