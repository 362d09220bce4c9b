"""API for integration frameworks and crosswalks, mounted at /api/v1/frameworks.

Reads are open to anyone, signed in or not (see `queries.py` for why). Writes
need the API's usual authentication and the permissions in `services.py`.
Crosswalk routes are declared before '/{slug}' routes so that they win, and
'crosswalks' is a reserved framework slug.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status

from incity.accounts import access
from incity.accounts.models import Organisation, User
from incity.accounts.permissions import OrganisationAction
from incity.api_context import api_origin, signed_in_user
from incity.frameworks import queries, services
from incity.frameworks.models import Crosswalk, CrosswalkLink, Framework, FrameworkItem

router = Router(tags=["frameworks"])


def _owner(user: User, slug: str | None) -> Organisation | None:
    # An organisation the user is not a member of answers 404, as everywhere in the API.
    if slug is None:
        return None
    return access.get_organisation(user, slug, OrganisationAction.MANAGE_FRAMEWORKS)


class _FrameworkFields(Schema):
    slug: str
    name: str
    edition: str
    kind: str
    owner: str | None
    verification: str
    source: str
    source_url: str
    licence: str
    created_at: datetime


class FrameworkSummaryOut(_FrameworkFields):
    @staticmethod
    def resolve_owner(framework: Framework) -> str | None:
        return framework.owner.slug if framework.owner else None


class ItemOut(Schema):
    slug: str
    kind: str
    name: str
    definition: str
    order: int
    source: str
    verification: str


class HeadingOut(ItemOut):
    children: list[ItemOut]


class CrosswalkSummaryOut(Schema):
    slug: str
    name: str
    kind: str
    from_framework: str
    to_framework: str
    basis: str
    owner: str | None
    verification: str
    description: str

    @staticmethod
    def resolve_from_framework(crosswalk: Crosswalk) -> str:
        return crosswalk.from_framework.slug

    @staticmethod
    def resolve_to_framework(crosswalk: Crosswalk) -> str:
        return crosswalk.to_framework.slug

    @staticmethod
    def resolve_owner(crosswalk: Crosswalk) -> str | None:
        return crosswalk.owner.slug if crosswalk.owner else None


class FrameworkOut(_FrameworkFields):
    """Built from a `queries.Outline` by `_framework_out`, so it has no resolvers of its own."""

    description: str
    headings: list[HeadingOut]
    items: list[ItemOut]
    crosswalks: list[CrosswalkSummaryOut]


class LinkOut(Schema):
    source: str
    source_name: str
    target: str
    target_name: str
    relation: str
    note: str

    @staticmethod
    def resolve_source(link: CrosswalkLink) -> str:
        return link.source_item.slug

    @staticmethod
    def resolve_source_name(link: CrosswalkLink) -> str:
        return link.source_item.name

    @staticmethod
    def resolve_target(link: CrosswalkLink) -> str:
        return link.target_item.slug

    @staticmethod
    def resolve_target_name(link: CrosswalkLink) -> str:
        return link.target_item.name


class CrosswalkOut(CrosswalkSummaryOut):
    source: str
    links: list[LinkOut]

    @staticmethod
    def resolve_links(crosswalk: Crosswalk) -> list[CrosswalkLink]:
        return list(crosswalk.links.all())


# Inputs carry types only; services.py owns the rules, so the API and any
# other caller refuse the same things with the same messages.
class FrameworkIn(Schema):
    slug: str
    name: str
    owner: str | None = None
    edition: str = ""
    description: str = ""
    source: str = ""
    source_url: str = ""
    licence: str = ""
    verification: str = "unverified"


class ItemIn(Schema):
    slug: str
    name: str
    kind: str = "domain"
    parent: str | None = None
    definition: str = ""
    order: int | None = None
    source: str = ""
    verification: str = "unverified"


class CrosswalkIn(Schema):
    slug: str
    name: str
    from_framework: str
    to_framework: str
    owner: str | None = None
    basis: str = "analyst"
    description: str = ""
    source: str = ""
    verification: str = "unverified"


class LinkIn(Schema):
    source: str
    target: str
    relation: str = "related"
    note: str = ""


def _framework_out(outline: queries.Outline) -> dict[str, object]:
    framework = outline.framework
    return {
        **FrameworkSummaryOut.model_validate(framework).model_dump(),
        "description": framework.description,
        "headings": [
            {**ItemOut.model_validate(heading.item).model_dump(), "children": heading.children}
            for heading in outline.headings
        ],
        "items": [item for section in outline.sections for item in section.items],
        "crosswalks": outline.crosswalks,
    }


@router.get("/crosswalks/", response=list[CrosswalkSummaryOut], auth=None)
def list_crosswalks(request: HttpRequest) -> list[Crosswalk]:
    return list(queries.crosswalks())


@router.post("/crosswalks/", response={201: CrosswalkOut})
def create_crosswalk(request: HttpRequest, payload: CrosswalkIn) -> Status[Crosswalk]:
    user = signed_in_user(request)
    crosswalk = services.create_crosswalk(
        acting_user=user,
        origin=api_origin(request),
        slug=payload.slug,
        name=payload.name,
        from_framework=payload.from_framework,
        to_framework=payload.to_framework,
        owner=_owner(user, payload.owner),
        basis=payload.basis,
        description=payload.description,
        source=payload.source,
        verification=payload.verification,
    )
    return Status(201, crosswalk)


@router.get("/crosswalks/{slug}", response=CrosswalkOut, auth=None)
def get_crosswalk(request: HttpRequest, slug: str) -> Crosswalk:
    return queries.crosswalk_with_links(slug)


@router.post("/crosswalks/{slug}/links", response={201: LinkOut})
def add_crosswalk_link(request: HttpRequest, slug: str, payload: LinkIn) -> Status[CrosswalkLink]:
    link = services.add_crosswalk_link(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        crosswalk=queries.get_crosswalk(slug),
        source=payload.source,
        target=payload.target,
        relation=payload.relation,
        note=payload.note,
    )
    return Status(201, link)


@router.get("", response=list[FrameworkSummaryOut], auth=None)
def list_frameworks(request: HttpRequest) -> list[Framework]:
    return list(queries.frameworks())


@router.post("", response={201: FrameworkOut})
def create_framework(request: HttpRequest, payload: FrameworkIn) -> Status[dict[str, object]]:
    user = signed_in_user(request)
    framework = services.create_custom_framework(
        acting_user=user,
        origin=api_origin(request),
        slug=payload.slug,
        name=payload.name,
        owner=_owner(user, payload.owner),
        edition=payload.edition,
        description=payload.description,
        source=payload.source,
        source_url=payload.source_url,
        licence=payload.licence,
        verification=payload.verification,
    )
    return Status(201, _framework_out(queries.framework_outline(framework.slug)))


@router.get("/{slug}", response=FrameworkOut, auth=None)
def get_framework(request: HttpRequest, slug: str) -> dict[str, object]:
    return _framework_out(queries.framework_outline(slug))


@router.post("/{slug}/items", response={201: ItemOut})
def add_item(request: HttpRequest, slug: str, payload: ItemIn) -> Status[FrameworkItem]:
    item = services.add_framework_item(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        framework=queries.get_framework(slug),
        slug=payload.slug,
        name=payload.name,
        kind=payload.kind,
        parent_slug=payload.parent,
        definition=payload.definition,
        order=payload.order,
        source=payload.source,
        verification=payload.verification,
    )
    return Status(201, item)
