from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class IncityAccountAdapter(DefaultAccountAdapter):
    """Accounts are created by leads and admins (or `incity users create`), never by sign-up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
