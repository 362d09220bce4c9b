"""Public pages: the list of frameworks, one framework, one crosswalk. No sign-in needed."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from incity.errors import NotFound
from incity.frameworks import queries
from incity.frameworks.models import FrameworkKind, ItemKind

# Plural titles for the sections of top-level items on a framework's page.
SECTION_TITLES: dict[str, Promise] = {
    ItemKind.PRINCIPLE: _("Principles"),
    ItemKind.DOMAIN: _("Domains"),
    ItemKind.THEME: _("Thematic areas"),
    ItemKind.EFFECTOR_LEVEL: _("Effector levels"),
}


def framework_list(request: HttpRequest) -> HttpResponse:
    frameworks = list(queries.frameworks())
    return render(
        request,
        "frameworks/list.html",
        {
            "official": [f for f in frameworks if f.kind == FrameworkKind.OFFICIAL],
            "custom": [f for f in frameworks if f.kind == FrameworkKind.CUSTOM],
            "crosswalks": list(queries.crosswalks()),
        },
    )


def framework_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        outline = queries.framework_outline(slug)
    except NotFound as error:
        raise Http404(error.message) from None
    sections = [(SECTION_TITLES[section.kind], section) for section in outline.sections]
    return render(
        request,
        "frameworks/detail.html",
        {"outline": outline, "framework": outline.framework, "sections": sections},
    )


def crosswalk_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        crosswalk = queries.crosswalk_with_links(slug)
    except NotFound as error:
        raise Http404(error.message) from None
    return render(request, "frameworks/crosswalk.html", {"crosswalk": crosswalk})
