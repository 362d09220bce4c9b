from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _


class IncityAccountAdapter(DefaultAccountAdapter):
    """Accounts are created by leads and admins (or `incity users create`), never by sign-up."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inherited: dict[str, Any] = dict(DefaultAccountAdapter.error_messages)
        self.error_messages = {
            **inherited,
            "too_many_login_attempts": _(
                "Too many failed sign-in attempts for this account. Sign-in is paused; "
                "try again in %(minutes)s minutes, or reset your password."
            )
            % {"minutes": settings.LOGIN_LOCKOUT_MINUTES},
        }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Answer a locked-out sign-in with 429 and a page saying how long the pause lasts."""
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            raise ImmediateHttpResponse(
                render(
                    request,
                    "429.html",
                    {"lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES},
                    status=429,
                )
            ) from None
