"""`/api/v1/forms/{form}/layers/...`: map layers as GeoJSON and static images.

Published layers (the default scope) need view_published and pass the disclosure
gate; `scope=raw` needs view_raw_data and is audited. Exact points are raw only.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from incity.accounts.audit import Origin
from incity.accounts.permissions import ProjectAction
from incity.api_context import signed_in_user
from incity.errors import InvalidInput
from incity.maps import queries, services
from incity.maps.layers.request import LayerParams, Reader
from incity.maps.render import CONTENT_TYPES, render_layer
from incity.places.geometry import project_area
from incity.surveys.queries import get_form

router = Router(tags=["maps"])


class LayerQuery(Schema):
    question: str | None = Field(
        None, max_length=100, description="Map question (default: the first map_marks)"
    )
    category: str | None = Field(None, max_length=100, description="One category of the marks")
    time: str | None = Field(None, max_length=20, description="day, evening or night")
    group: list[str] = Field(
        default_factory=list, description="QUESTION=LEVEL of the same submission; repeatable"
    )
    resolution: int | None = Field(None, description="H3 resolution 7-10 (default: suits the area)")
    since: date | None = Field(None, description="First day received (YYYY-MM-DD)")
    until: date | None = Field(None, description="Last day received, included (YYYY-MM-DD)")
    scope: Literal["published", "raw"] = Field("published")

    def params(self) -> LayerParams:
        return LayerParams(
            question=self.question or None,
            category=self.category or None,
            time=self.time or None,
            group=tuple(self.group),
            resolution=self.resolution,
            since=self.since,
            until=self.until,
        )


class ImageQuery(LayerQuery):
    measure: Literal["value", "balance"] = Field("value", description="value or balance")


def _reader(request: HttpRequest) -> Reader:
    return Reader(signed_in_user(request), Origin.from_request(request, channel="api"))


def _layer(request: HttpRequest, form: int, kind: str, query: LayerQuery) -> dict[str, Any]:
    if query.scope == "raw":
        origin = Origin.from_request(request, channel="api")
        return queries.raw_layer(signed_in_user(request), origin, form, kind, query.params())
    return queries.published_layer(
        signed_in_user(request), form, kind, query.params(), _reader(request)
    )


@router.get("/forms/{form}/layers/hexagons")
def hexagons(request: HttpRequest, form: int, query: Query[LayerQuery]) -> dict[str, Any]:
    """Marks counted per H3 hexagon and category (GeoJSON), with the balance safe vs unsafe."""
    return _layer(request, form, "hexagons", query)


@router.get("/forms/{form}/layers/areas")
def areas(request: HttpRequest, form: int, query: Query[LayerQuery]) -> dict[str, Any]:
    """Marks counted per neighbourhood of the project (a choropleth, GeoJSON)."""
    return _layer(request, form, "areas", query)


@router.get("/forms/{form}/layers/hotspots")
def hotspots(request: HttpRequest, form: int, query: Query[LayerQuery]) -> dict[str, Any]:
    """Gi* hot and cold cells on the published hexagon counts (GeoJSON)."""
    return _layer(request, form, "hotspots", query)


@router.get("/forms/{form}/layers/points")
def points(request: HttpRequest, form: int, query: Query[LayerQuery]) -> dict[str, Any]:
    """Every mark as a point: raw data, scope=raw only (audited)."""
    return _layer(request, form, "points", query)


@router.get("/forms/{form}/layers/{kind}.{image_format}")
def layer_image(
    request: HttpRequest, form: int, kind: str, image_format: str, query: Query[ImageQuery]
) -> HttpResponse:
    """A published layer as a static PNG or SVG map (for briefings)."""
    if image_format not in CONTENT_TYPES:
        raise InvalidInput("format", f"'{image_format}' is not an image format; use png or svg.")
    if query.scope != "published":
        raise InvalidInput("scope", "Map images are drawn from published layers only.")
    if kind not in ("hexagons", "areas", "hotspots"):
        raise InvalidInput("kind", f"'{kind}' has no image; images: hexagons, areas, hotspots.")
    layer = queries.published_layer(
        signed_in_user(request), form, kind, query.params(), _reader(request)
    )
    image = render_layer(
        layer,
        image_format=image_format,  # type: ignore[arg-type]
        area=project_area(
            get_form(signed_in_user(request), form, ProjectAction.VIEW_PUBLISHED).project
        ),
        measure=query.measure,
    )
    response = HttpResponse(image, content_type=CONTENT_TYPES[image_format])
    response["Content-Disposition"] = f'attachment; filename="form-{form}-{kind}.{image_format}"'
    return response


class EmbedIn(Schema):
    kind: str = "hexagons"
    title: str = ""
    question: str | None = None
    category: str | None = None
    time: str | None = None
    group: list[str] = Field(default_factory=list)
    resolution: int | None = None
    since: date | None = None
    until: date | None = None


@router.post("/forms/{form}/embeds", response={201: dict[str, Any]})
def create_embed(request: HttpRequest, form: int, body: EmbedIn) -> Status:
    """Publish a read-only map for other web pages (needs edit_project); returns the iframe."""
    embed = services.create_embed(
        acting_user=signed_in_user(request),
        origin=Origin.from_request(request, channel="api"),
        form_pk=form,
        kind=body.kind,
        title=body.title,
        params=LayerParams(
            question=body.question,
            category=body.category,
            time=body.time,
            group=tuple(body.group),
            resolution=body.resolution,
            since=body.since,
            until=body.until,
        ),
    )
    return Status(201, embed_out(request, embed))


@router.post("/embeds/{embed}/disable")
def disable_embed(request: HttpRequest, embed: int) -> dict[str, Any]:
    found = services.disable_embed(
        acting_user=signed_in_user(request),
        origin=Origin.from_request(request, channel="api"),
        embed_pk=embed,
    )
    return embed_out(request, found)


def embed_out(request: HttpRequest, embed: Any) -> dict[str, Any]:
    from incity.maps.views import iframe_code

    return {
        "id": embed.pk,
        "token": embed.token,
        "kind": embed.kind,
        "title": embed.title,
        "enabled": embed.enabled,
        "params": embed.params,
        "url": request.build_absolute_uri(f"/maps/embed/{embed.token}/"),
        "iframe": iframe_code(request, embed),
    }
