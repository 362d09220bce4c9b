"""Server-rendered pages: home per role, organisation switcher, tokens, error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from incity.web.current import SESSION_KEY, my_organisations


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {})


@require_POST
@login_required
def switch_organisation(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("organisation", "")
    if any(o.slug == slug for o in my_organisations(request)):
        request.session[SESSION_KEY] = slug
    return redirect("web:home")


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {})


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/error.html", {"status": 403, "message": str(exception or "")}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/error.html", {"status": 404, "message": str(exception or "")}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "web/error.html", {"status": 500, "message": ""}, status=500)
