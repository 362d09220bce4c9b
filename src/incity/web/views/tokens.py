"""The signed-in person's API tokens: list, create (secret shown once) and revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from incity.accounts import services
from incity.accounts.audit import Origin
from incity.accounts.models import ApiToken, User
from incity.errors import Conflict, InvalidInput
from incity.web.forms import TokenForm
from incity.web.guards import domain_errors, signed_in_user


def _tokens_page(
    request: HttpRequest, user: User, form: TokenForm, new_secret: str = ""
) -> HttpResponse:
    context = {
        "tokens": list(ApiToken.objects.filter(user=user)),
        "form": form,
        "new_secret": new_secret,
        "token_prefix": services.TOKEN_PREFIX,
    }
    response = render(request, "web/tokens.html", context)
    # The page may carry a secret: no browser or proxy may keep a copy.
    add_never_cache_headers(response)
    return response


# Staff without two-factor never reach this view: StaffTwoFactorMiddleware sends
# them to set it up first, so no token outlives a password-only sign-in.
@require_http_methods(["GET", "POST"])
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if request.method != "POST":
        return _tokens_page(request, user, TokenForm())
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _tokens_page(request, user, form)
    try:
        _, secret = services.create_api_token(
            acting_user=user,
            origin=Origin.from_request(request),
            user=user,
            name=form.cleaned_data["name"],
            days=form.cleaned_data["days"],
        )
    except InvalidInput as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _tokens_page(request, user, form)
    # Rendered in the POST's answer rather than after a redirect, so the secret
    # never has to be stored anywhere (not even in the session) to be shown once.
    return _tokens_page(request, user, TokenForm(), new_secret=secret)


@require_POST
@login_required
@domain_errors
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = services.revoke_api_token(
            acting_user=signed_in_user(request),
            origin=Origin.from_request(request),
            token_id=token_id,
        )
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Token '%(name)s' is revoked.") % {"name": token.name})
    return redirect("web:tokens")
