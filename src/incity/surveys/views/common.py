"""What the survey pages share: the signed-in guard, the web origin and the refusal message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from incity.accounts import access
from incity.accounts.audit import Origin
from incity.accounts.models import User
from incity.accounts.permissions import ProjectAction
from incity.errors import IncityError
from incity.surveys.models import Form
from incity.web.guards import domain_errors, signed_in_user

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponse]

__all__ = [
    "form_page_url",
    "may",
    "origin",
    "page",
    "refuse",
    "safe_next",
    "signed_in_user",
]


def page(view: View[P]) -> View[P]:
    """A signed-in page: anonymous visitors go to sign in, NotFound/Forbidden become error pages."""
    return login_required(domain_errors(view))


def origin(request: HttpRequest) -> Origin:
    return Origin.from_request(request)


def may(user: User, action: ProjectAction, form: Form) -> bool:
    return access.can_project(user, action, form.project)


def refuse(request: HttpRequest, error: IncityError) -> None:
    """Show a service's refusal as the page's error message (the base template marks it)."""
    messages.error(request, error.message)


def form_page_url(form: Form, anchor: str = "") -> str:
    url = reverse("surveys:form", args=[form.pk])
    return f"{url}#{anchor}" if anchor else url


def safe_next(request: HttpRequest, fallback: str) -> HttpResponse:
    """Redirect to the POSTed `next` when it is a path on this site, else to `fallback`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)
