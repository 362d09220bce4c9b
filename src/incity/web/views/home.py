"""The home page for each role, and the organisation switcher."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from incity.web.current import SESSION_KEY, current_organisation, my_organisations
from incity.web.selectors import role_home


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """What incity is for visitors; for members, their role's view of the current organisation."""
    organisation = current_organisation(request)
    context = {"home": role_home(request.user, organisation) if organisation else None}
    return render(request, "web/home.html", context)


@require_POST
@login_required
def switch_organisation(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("organisation", "")
    # Only organisations the person belongs to can become current; anything else is ignored.
    if any(organisation.slug == slug for organisation in my_organisations(request)):
        request.session[SESSION_KEY] = slug
    return redirect("web:home")
