"""The sign-in view: allauth's, answering 429 while an account is locked out."""

from __future__ import annotations

from typing import Any

from allauth.account.views import LoginView
from django.http import HttpResponse


class IncityLoginView(LoginView):
    def form_invalid(self, form: Any) -> HttpResponse:
        response: HttpResponse = super().form_invalid(form)
        codes = {error.code for error in form.non_field_errors().as_data()}
        if "too_many_login_attempts" in codes:
            # The page still shows the form and the message; the status tells
            # scripts and monitoring that this is a lockout, not a typo.
            response.status_code = 429
        return response


login = IncityLoginView.as_view()
