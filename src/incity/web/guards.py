"""Helpers every page view uses: the signed-in user, and domain errors turned into error pages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from django.http import HttpRequest, HttpResponse

from incity.accounts.models import User
from incity.errors import Forbidden, NotFound
from incity.web.views.errors import forbidden, not_found

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponse]


def signed_in_user(request: HttpRequest) -> User:
    """The user of a view behind login_required, typed as incity's User."""
    user = request.user
    assert isinstance(user, User), "use signed_in_user only behind login_required"
    return user


def domain_errors(view: View[P]) -> View[P]:
    """Answer NotFound with the 404 page and Forbidden with the 403 page, carrying the message.

    The error pages are rendered here rather than by raising Http404 or
    PermissionDenied so the person sees the same page, with the reason, whether
    or not DEBUG is on.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            return not_found(request, error)
        except Forbidden as error:
            return forbidden(request, error)

    return wrapper
