"""The fieldwork page: what arrived from whom and when, device sync status, where it happened."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from incity.accounts.audit import Origin
from incity.fieldwork import charts, queries
from incity.fieldwork.geo import CollectionMap
from incity.fieldwork.models import PUBLIC_LINK
from incity.surveys.models import SubmissionStatus
from incity.web.guards import domain_errors, signed_in_user

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = "&copy; OpenStreetMap contributors"


def map_data(found: CollectionMap) -> dict[str, Any]:
    """What the page's script draws; the same facts are in the table beside the map."""
    if found.points is not None:
        return {
            "points": [
                {"lat": p.lat, "lon": p.lon, "label": f"{p.received_at:%Y-%m-%d %H:%M} {p.form_id}"}
                for p in found.points
            ]
        }
    return {
        "cells": [
            {"boundary": [list(corner) for corner in cell.boundary], "count": cell.count}
            for cell in found.cells or []
        ]
    }


def _status_labels() -> dict[str, str]:
    return {str(value): str(label) for value, label in SubmissionStatus.choices}


@require_safe
@login_required
@domain_errors
def fieldwork_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    form_id = request.GET.get("form") or None
    found = queries.fieldwork(user, Origin.from_request(request), slug, form_id)
    labels = _status_labels()
    context = {
        "fieldwork": found,
        "project": found.project,
        "day_chart": charts.bar_chart(found.by_day),
        "statuses": [(labels.get(item.label, item.label), item.count) for item in found.by_status],
        "map_data": map_data(found.map),
        "tile_url": getattr(settings, "MAP_TILE_URL", DEFAULT_TILE_URL),
        "tile_attribution": getattr(settings, "MAP_TILE_ATTRIBUTION", DEFAULT_TILE_ATTRIBUTION),
        "public_link": PUBLIC_LINK,
        "arrivals": (
            None
            if found.arrivals is None
            else [
                (arrival, labels.get(arrival.status, arrival.status)) for arrival in found.arrivals
            ]
        ),
    }
    return render(request, "fieldwork/fieldwork.html", context)
