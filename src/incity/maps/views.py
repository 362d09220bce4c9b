"""The map page of a form (published layers, filters, table, downloads, embed) and the
embed page that other web sites frame (published only, no sign-in)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.html import escape
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_http_methods, require_safe

from incity.accounts.access import can_project
from incity.accounts.audit import Origin
from incity.accounts.permissions import ProjectAction
from incity.errors import InvalidInput, NotFound
from incity.maps import queries, services
from incity.maps.layers import build
from incity.maps.layers.request import LayerParams, Reader, check_request, map_questions
from incity.maps.models import EmbeddedMap
from incity.surveys.definition import TIMES_OF_DAY
from incity.web.guards import domain_errors, signed_in_user


def iframe_code(request: HttpRequest, embed: EmbeddedMap) -> str:
    """The HTML to paste into another page, as plain text (the template escapes it)."""
    url = escape(request.build_absolute_uri(f"/maps/embed/{embed.token}/"))
    return (
        f'<iframe src="{url}" title="{escape(embed.title)}" width="800" height="600" '
        'loading="lazy"></iframe>'
    )


def _params(query: QueryDict) -> LayerParams:
    def text(name: str) -> str | None:
        return query.get(name) or None

    resolution = text("resolution")
    if resolution is not None and not resolution.isdigit():
        raise InvalidInput(
            "resolution", f"The resolution must be a whole number, not '{resolution}'."
        )
    return LayerParams(
        question=text("question"),
        category=text("category"),
        time=text("time"),
        group=tuple(item for item in query.getlist("group") if item),
        resolution=int(resolution) if resolution else None,
        since=_day(query, "since"),
        until=_day(query, "until"),
    )


def _day(query: QueryDict, name: str) -> date | None:
    value = query.get(name) or ""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(name, f"'{name}' must be a date (YYYY-MM-DD), not '{value}'.") from None


def _map_settings() -> dict[str, str]:
    return {"tile_url": settings.MAP_TILE_URL, "attribution": settings.MAP_TILE_ATTRIBUTION}


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@domain_errors
def form_map(request: HttpRequest, form: int) -> HttpResponse:
    user = signed_in_user(request)
    found = queries.form_for_page(user, form)
    context: dict[str, Any] = {
        "form": found,
        "project": found.project,
        "questions": list(map_questions(found).values()),
        "times": TIMES_OF_DAY,
        "query": request.GET,
        "map_settings": _map_settings(),
        "can_embed": can_project(user, ProjectAction.EDIT_PROJECT, found.project),
    }
    try:
        params = _params(request.GET)
        layer_request = check_request(found, params, Reader(user, Origin.from_request(request)))
        if request.method == "POST":
            embed = services.create_embed(
                acting_user=user,
                origin=Origin.from_request(request),
                form_pk=found.pk,
                kind=request.POST.get("kind", "hexagons"),
                title=request.POST.get("title", ""),
                params=params,
            )
            context["iframe"] = iframe_code(request, embed)
        hexagons = build.published_hexagons(layer_request)
        context["hexagons"] = hexagons
        context["hotspots"] = build.hotspot_layer(layer_request)
        context["question"] = layer_request.question
        context["download_query"] = request.GET.urlencode()
    except InvalidInput as error:
        context["problem"] = error.message
        return render(request, "maps/map.html", context, status=422)
    return render(request, "maps/map.html", context)


@require_safe
@xframe_options_exempt
def embedded_map(request: HttpRequest, token: str) -> HttpResponse:
    """A read-only published map for other web pages: framable, no sign-in, no raw data."""
    try:
        embed = queries.enabled_embed(token)
        # No one signs in to an embed: the audit row names the channel, not a person.
        reader = Reader(None, Origin.from_request(request, channel="embed"))
        layer_request = check_request(embed.form, LayerParams.from_dict(embed.params), reader)
        layer = queries.layer_for(layer_request, embed.kind)
    except (NotFound, InvalidInput):
        raise Http404("No such map.") from None
    return render(
        request,
        "maps/embed.html",
        {
            "embed": embed,
            "layer": layer,
            "map_settings": _map_settings(),
            "is_synthetic": layer["layer"]["is_synthetic"],
        },
    )
