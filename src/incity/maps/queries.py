"""Guarded reads of map layers: published needs view_published, raw needs view_raw_data.

Raw reads are audited here (kind raw_read), before the data leaves. A group on a
sensitive question (stored encrypted) is allowed in published layers, which pass the
gate; in the raw tier only for a role that may read sensitive answers (`may_read_sensitive`).
"""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import QuerySet

from incity.accounts.access import AnyUser
from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User
from incity.accounts.permissions import ProjectAction
from incity.analysis.sensitive_groups import may_read_sensitive
from incity.errors import Forbidden, InvalidInput, NotFound
from incity.maps.layers import build
from incity.maps.layers.request import (
    SYSTEM_READER,
    LayerParams,
    LayerRequest,
    Reader,
    check_request,
)
from incity.maps.models import EmbeddedMap
from incity.surveys.models import Form
from incity.surveys.queries import get_form

LayerKind = Literal["hexagons", "areas", "hotspots", "points"]
LAYER_KINDS: tuple[str, ...] = ("hexagons", "areas", "hotspots", "points")


def published_layer(
    user: AnyUser,
    form_pk: int,
    kind: str,
    params: LayerParams,
    reader: Reader = SYSTEM_READER,
) -> dict[str, Any]:
    form = get_form(user, form_pk, ProjectAction.VIEW_PUBLISHED)
    return layer_for(check_request(form, params, reader), kind)


def layer_for(request: LayerRequest, kind: str) -> dict[str, Any]:
    """A published layer for an already checked request (the embed view's path too)."""
    if kind == "hexagons":
        return build.published_hexagons(request)
    if kind == "areas":
        return build.area_layer(request)
    if kind == "hotspots":
        return build.hotspot_layer(request)
    if kind == "points":
        raise InvalidInput(
            "scope", "Exact points are raw data: ask for them with scope=raw (audited)."
        )
    raise InvalidInput("kind", f"'{kind}' is not a layer; layers: {', '.join(LAYER_KINDS)}.")


def raw_layer(
    user: User, origin: Origin, form_pk: int, kind: str, params: LayerParams
) -> dict[str, Any]:
    """Exact counts or points; the read is audited before anything is returned."""
    form = get_form(user, form_pk, ProjectAction.VIEW_RAW_DATA)
    request = check_request(form, params, Reader(user, origin))
    if request.sensitive and not may_read_sensitive(user, form):
        raise Forbidden(
            f"Your role may not read sensitive answers in this project, so a raw layer "
            f"cannot be grouped by {', '.join(sorted(request.sensitive))}; ask for the "
            "published layer instead.",
            form=form.pk,
        )
    if kind == "hexagons":
        layer = build.raw_hexagons(request)
    elif kind == "points":
        layer = build.raw_points(request)
    elif kind == "areas":
        layer = build.area_layer(request, scope="raw")
    elif kind == "hotspots":
        raise InvalidInput("scope", "Hotspots are computed on published counts only.")
    else:
        raise InvalidInput("kind", f"'{kind}' is not a layer; layers: {', '.join(LAYER_KINDS)}.")
    record(
        actor=user,
        origin=origin,
        kind=AuditKind.RAW_READ,
        action="maps.raw_read",
        project=form.project,
        target=form,
        detail={"layer": kind, "params": params.as_dict(), "features": len(layer["features"])},
    )
    return layer


def form_for_page(user: AnyUser, form_pk: int) -> Form:
    return get_form(user, form_pk, ProjectAction.VIEW_PUBLISHED)


def enabled_embed(token: str) -> EmbeddedMap:
    """The embedded map behind a token; unknown and disabled tokens answer the same 404."""
    embed = (
        EmbeddedMap.objects.select_related("form", "form__project", "project")
        .filter(token=token, enabled=True)
        .first()
    )
    if embed is None:
        raise NotFound("No such map.")
    return embed


def form_embeds(form: Form) -> QuerySet[EmbeddedMap]:
    return EmbeddedMap.objects.filter(form=form).order_by("-created_at")
