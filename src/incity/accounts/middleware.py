from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from incity.accounts import access

# Pages a staff member without two-factor may still open: setting it up, signing out, the API docs.
_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/", "/api/")


class StaffTwoFactorMiddleware:
    """Send holders of staff roles to set up TOTP before they can use the web interface."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_set_up_two_factor(request):
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    def _must_set_up_two_factor(self, request: HttpRequest) -> bool:
        if not settings.MFA_ENFORCED:
            return False
        user = request.user
        if not user.is_authenticated:
            return False
        if request.path.startswith(_EXEMPT_PREFIXES):
            return False
        required = set(settings.MFA_REQUIRED_ROLES)
        if not any(role.value in required for role in access.roles_by_organisation(user).values()):
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
