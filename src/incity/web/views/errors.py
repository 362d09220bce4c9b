"""The 403, 404 and 500 pages; incity.urls names them as Django's error handlers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from incity.errors import IncityError


def _message(exception: Exception | None) -> str:
    """The reason worth showing: a domain error's message or a plain-text Http404 reason.

    Django passes Resolver404 with a dict of the URL patterns it tried; that
    must not reach the page, so only string reasons are shown.
    """
    if isinstance(exception, IncityError):
        return exception.message
    if exception is not None and exception.args and isinstance(exception.args[0], str):
        return exception.args[0]
    return ""


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = {"status": 403, "message": _message(exception)}
    return render(request, "web/error.html", context, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = {"status": 404, "message": _message(exception)}
    return render(request, "web/error.html", context, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request so no context processor runs: the failure
    # may be the database itself, which they all read.
    page = loader.get_template("web/error.html").render({"status": 500, "message": ""})
    return HttpResponseServerError(page)
