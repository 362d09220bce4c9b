"""The public withdrawal page: a respondent deletes their answers with their code, no sign-in.

The page says only what happened to the code it was given: how many submissions
were deleted, or when they had been, or why the code was not accepted. It names
no project, form or person.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from incity.accounts.models import User
from incity.errors import IncityError
from incity.surveys.services import withdrawal as withdrawal_services
from incity.surveys.services.withdrawal import WithdrawalResult
from incity.surveys.views.common import origin
from incity.surveys.views.inputs import WithdrawForm


def _page(
    request: HttpRequest,
    form: WithdrawForm,
    *,
    result: WithdrawalResult | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "result": result, "error": error}
    response = render(request, "surveys/withdraw.html", context, status=status)
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, WithdrawForm())
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=422)
    try:
        result = withdrawal_services.withdraw(
            origin=origin(request),
            code=form.cleaned_data["code"],
            # A team member withdrawing for a respondent is named in the audit log.
            acting_user=request.user if isinstance(request.user, User) else None,
        )
    except IncityError as error:
        # Only the service's message (bad format 422, unknown code 404), nothing about the data.
        return _page(request, WithdrawForm(), error=error.message, status=error.status)
    return _page(request, WithdrawForm(), result=result)
