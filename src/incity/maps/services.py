"""Writes of the maps app: embedding a published layer and switching an embed off."""

from __future__ import annotations

import secrets

from django.db import transaction

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User
from incity.accounts.permissions import ProjectAction
from incity.errors import InvalidInput, NotFound
from incity.maps.layers.request import LayerParams, check_request
from incity.maps.models import EmbeddedMap
from incity.surveys.queries import get_form

EMBED_KINDS = ("hexagons", "areas", "hotspots")


@transaction.atomic
def create_embed(
    *,
    acting_user: User,
    origin: Origin,
    form_pk: int,
    kind: str,
    params: LayerParams,
    title: str = "",
) -> EmbeddedMap:
    """A token that shows this published layer to anyone, read-only; needs edit_project."""
    form = get_form(acting_user, form_pk, ProjectAction.EDIT_PROJECT)
    if kind not in EMBED_KINDS:
        raise InvalidInput(
            "kind", f"'{kind}' cannot be embedded; embeddable layers: {', '.join(EMBED_KINDS)}."
        )
    check_request(form, params)  # refuse bad parameters now, not when someone opens it
    title = title.strip() or f"{form.title}: {kind}"
    if len(title) > 200:
        raise InvalidInput("title", "The title may have at most 200 characters.")
    embed = EmbeddedMap.objects.create(
        project=form.project,
        form=form,
        token=secrets.token_urlsafe(24),
        kind=kind,
        title=title,
        params=params.as_dict(),
        created_by=acting_user,
    )
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="maps.embed_create",
        project=form.project,
        target=embed,
        detail={"form": form.pk, "kind": kind, "params": params.as_dict()},
    )
    return embed


@transaction.atomic
def disable_embed(*, acting_user: User, origin: Origin, embed_pk: int) -> EmbeddedMap:
    embed = EmbeddedMap.objects.select_related("form").filter(pk=embed_pk).first()
    if embed is None:
        raise NotFound(f"No embedded map {embed_pk} among yours.", embed=embed_pk)
    try:
        get_form(acting_user, embed.form_id, ProjectAction.EDIT_PROJECT)
    except NotFound:
        raise NotFound(f"No embedded map {embed_pk} among yours.", embed=embed_pk) from None
    embed.enabled = False
    embed.save(update_fields=["enabled"])
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="maps.embed_disable",
        project=embed.project,
        target=embed,
        detail={"form": embed.form_id},
    )
    return embed
