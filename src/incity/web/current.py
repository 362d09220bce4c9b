"""The organisation a signed-in person is working in, kept in the session."""

from __future__ import annotations

from django.http import HttpRequest

from incity.accounts import access
from incity.accounts.models import Organisation
from incity.accounts.roles import Role

# With no choice made yet, start where the person can do most.
_ROLE_RANK = {role: rank for rank, role in enumerate(Role)}

SESSION_KEY = "incity_organisation"


def my_organisations(request: HttpRequest) -> list[Organisation]:
    if not request.user.is_authenticated:
        return []
    cached: list[Organisation] | None = getattr(request, "_incity_my_organisations", None)
    if cached is None:
        ids = access.roles_by_organisation(request.user).keys()
        cached = list(Organisation.objects.filter(pk__in=ids).order_by("name"))
        request._incity_my_organisations = cached  # type: ignore[attr-defined]
    return cached


def current_organisation(request: HttpRequest) -> Organisation | None:
    organisations = my_organisations(request)
    if not organisations:
        return None
    chosen = request.session.get(SESSION_KEY)
    for organisation in organisations:
        if organisation.slug == chosen:
            return organisation
    roles = access.roles_by_organisation(request.user)
    return min(organisations, key=lambda o: (_ROLE_RANK[roles[o.pk]], o.name))
