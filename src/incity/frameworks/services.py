"""Every write to frameworks, their items and crosswalks.

Each service is keyword-only, atomic, takes the acting user (None for the
machine operator at the command line), checks permissions and input before
it writes, and writes an audit row. Official frameworks and crosswalks ship
with incity (`catalogue.py`) and are read-only here: a city's edits would
otherwise drift from the published source everyone compares against.
"""

from __future__ import annotations

from django.apps import apps as live_apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.db.models import Max

from incity.accounts import access
from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, Organisation, User
from incity.accounts.permissions import NetworkAction, OrganisationAction
from incity.errors import Conflict, Forbidden, InvalidInput
from incity.frameworks import catalogue
from incity.frameworks.models import (
    Crosswalk,
    CrosswalkBasis,
    CrosswalkLink,
    Framework,
    FrameworkItem,
    FrameworkKind,
    ItemKind,
    LinkRelation,
    Verification,
)
from incity.validation import check_slug

# Path segments of the API and web pages that a framework slug would shadow.
RESERVED_SLUGS = frozenset({"crosswalks"})


def _check_name(value: str, what: str) -> str:
    name = value.strip()
    if not name:
        raise InvalidInput("name", f"A {what} needs a name.")
    return name


def _check_choice(field: str, value: str, choices: type[models.TextChoices]) -> str:
    if value not in choices.values:
        raise InvalidInput(
            field, f"Unknown {field} '{value}'; choose one of {', '.join(choices.values)}."
        )
    return value


def _save_validated(instance: models.Model) -> None:
    """Run the model's own rules (lengths, URLs, clean()) and save, or name the first bad field."""
    try:
        # Duplicates were already refused with Conflict; constraints still run as a backstop.
        instance.full_clean(validate_unique=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise InvalidInput(
            "request" if field == NON_FIELD_ERRORS else field, " ".join(messages)
        ) from None
    instance.save()


def may_manage(user: User | None, owner: Organisation | None) -> bool:
    """Whether `user` may add frameworks and crosswalks owned by `owner` (None: network-wide)."""
    if user is None:
        return True
    if owner is None:
        return access.can_network(user, NetworkAction.MANAGE_NETWORK_FRAMEWORKS)
    return access.can_organisation(user, OrganisationAction.MANAGE_FRAMEWORKS, owner)


def _require_manage(user: User | None, owner: Organisation | None) -> None:
    if may_manage(user, owner):
        return
    if owner is None:
        raise Forbidden("Only network admins can add network-wide frameworks and crosswalks.")
    raise Forbidden(
        f"Your role in {owner.name} cannot add its frameworks and crosswalks.",
        organisation=owner.slug,
    )


def _require_custom(thing: Framework | Crosswalk) -> None:
    if thing.is_official:
        raise Forbidden(
            f"'{thing.slug}' is official: it ships with incity and is read-only. "
            "Make a custom framework or crosswalk instead.",
            slug=thing.slug,
            kind=FrameworkKind.OFFICIAL.value,
        )


@transaction.atomic
def create_custom_framework(
    *,
    acting_user: User | None,
    origin: Origin,
    slug: str,
    name: str,
    owner: Organisation | None,
    edition: str = "",
    description: str = "",
    source: str = "",
    source_url: str = "",
    licence: str = "",
    verification: str = Verification.UNVERIFIED,
) -> Framework:
    """Add a custom framework owned by `owner`, or network-wide when `owner` is None."""
    _require_manage(acting_user, owner)
    check_slug("slug", slug)
    if slug in RESERVED_SLUGS:
        raise InvalidInput("slug", f"'{slug}' is reserved; choose another slug.")
    framework = Framework(
        slug=slug,
        name=_check_name(name, "framework"),
        edition=edition.strip(),
        description=description,
        kind=FrameworkKind.CUSTOM,
        owner=owner,
        source=source,
        source_url=source_url.strip(),
        licence=licence.strip(),
        verification=_check_choice("verification", verification, Verification),
    )
    if Framework.objects.filter(slug=slug).exists():
        raise Conflict(f"A framework with slug '{slug}' already exists.", slug=slug)
    _save_validated(framework)
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="framework.create",
        organisation=owner,
        target=framework,
        detail={"slug": slug, "owner": owner.slug if owner else None},
    )
    return framework


def _parent(framework: Framework, parent_slug: str | None, kind: str) -> FrameworkItem | None:
    if not parent_slug:
        return None
    parent = framework.items.filter(slug=parent_slug).first()
    if parent is None:
        raise InvalidInput("parent", f"No item '{parent_slug}' in {framework.slug}.")
    if parent.kind != ItemKind.HEADING:
        raise InvalidInput(
            "parent", f"'{parent_slug}' is a {parent.kind}; only a heading can be a parent."
        )
    if kind == ItemKind.HEADING:
        raise InvalidInput("parent", "Headings sit at the top level and cannot have a parent.")
    return parent


def _next_order(framework: Framework) -> int:
    highest = framework.items.aggregate(highest=Max("order"))["highest"]
    return 1 if highest is None else highest + 1


@transaction.atomic
def add_framework_item(
    *,
    acting_user: User | None,
    origin: Origin,
    framework: Framework,
    slug: str,
    name: str,
    kind: str,
    parent_slug: str | None = None,
    definition: str = "",
    order: int | None = None,
    source: str = "",
    verification: str = Verification.UNVERIFIED,
) -> FrameworkItem:
    """Add a heading, domain, principle, theme or effector level to a custom framework."""
    _require_custom(framework)
    _require_manage(acting_user, framework.owner)
    check_slug("slug", slug, underscores=True)
    item_kind = _check_choice("kind", kind, ItemKind)
    if order is not None and order < 0:
        raise InvalidInput("order", "The order must be zero or more.")
    item = FrameworkItem(
        framework=framework,
        kind=item_kind,
        parent=_parent(framework, parent_slug, item_kind),
        slug=slug,
        name=_check_name(name, "framework item"),
        definition=definition,
        order=_next_order(framework) if order is None else order,
        source=source,
        verification=_check_choice("verification", verification, Verification),
    )
    if framework.items.filter(slug=slug).exists():
        raise Conflict(f"{framework.slug} already has an item '{slug}'.", slug=slug)
    _save_validated(item)
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="framework.item.add",
        organisation=framework.owner,
        target=item,
        detail={"framework": framework.slug, "slug": slug, "kind": item_kind},
    )
    return item


def _framework_for(field: str, slug: str) -> Framework:
    framework = Framework.objects.filter(slug=slug).first()
    if framework is None:
        raise InvalidInput(field, f"No framework '{slug}'.")
    return framework


@transaction.atomic
def create_crosswalk(
    *,
    acting_user: User | None,
    origin: Origin,
    slug: str,
    name: str,
    from_framework: str,
    to_framework: str,
    owner: Organisation | None,
    basis: str = CrosswalkBasis.ANALYST,
    description: str = "",
    source: str = "",
    verification: str = Verification.UNVERIFIED,
) -> Crosswalk:
    """Add a crosswalk between any two frameworks (they are all public), owned by `owner`."""
    _require_manage(acting_user, owner)
    check_slug("slug", slug)
    if from_framework == to_framework:
        raise InvalidInput("to_framework", "A crosswalk joins two different frameworks.")
    crosswalk = Crosswalk(
        slug=slug,
        name=_check_name(name, "crosswalk"),
        kind=FrameworkKind.CUSTOM,
        from_framework=_framework_for("from_framework", from_framework),
        to_framework=_framework_for("to_framework", to_framework),
        basis=_check_choice("basis", basis, CrosswalkBasis),
        description=description,
        source=source,
        owner=owner,
        verification=_check_choice("verification", verification, Verification),
    )
    if Crosswalk.objects.filter(slug=slug).exists():
        raise Conflict(f"A crosswalk with slug '{slug}' already exists.", slug=slug)
    _save_validated(crosswalk)
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="crosswalk.create",
        organisation=owner,
        target=crosswalk,
        detail={"slug": slug, "from": from_framework, "to": to_framework},
    )
    return crosswalk


def _end_item(field: str, framework: Framework, slug: str) -> FrameworkItem:
    """The item `slug` of `framework`, or a message saying where that slug lives instead."""
    item = framework.items.filter(slug=slug).first()
    if item is not None:
        return item
    elsewhere = list(
        FrameworkItem.objects.filter(slug=slug).values_list("framework__slug", flat=True)[:3]
    )
    where = f" It is an item of {', '.join(elsewhere)}." if elsewhere else ""
    raise InvalidInput(field, f"'{slug}' is not an item of {framework.slug}.{where}")


@transaction.atomic
def add_crosswalk_link(
    *,
    acting_user: User | None,
    origin: Origin,
    crosswalk: Crosswalk,
    source: str,
    target: str,
    relation: str = LinkRelation.RELATED,
    note: str = "",
) -> CrosswalkLink:
    """Link item `source` of the crosswalk's from-framework to item `target` of its to-framework."""
    _require_custom(crosswalk)
    _require_manage(acting_user, crosswalk.owner)
    link = CrosswalkLink(
        crosswalk=crosswalk,
        source_item=_end_item("source", crosswalk.from_framework, source),
        target_item=_end_item("target", crosswalk.to_framework, target),
        relation=_check_choice("relation", relation, LinkRelation),
        note=note,
    )
    if CrosswalkLink.objects.filter(
        crosswalk=crosswalk, source_item=link.source_item, target_item=link.target_item
    ).exists():
        raise Conflict(
            f"{crosswalk.slug} already links '{source}' to '{target}'.",
            source=source,
            target=target,
        )
    _save_validated(link)
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="crosswalk.link.add",
        organisation=crosswalk.owner,
        target=link,
        detail={
            "crosswalk": crosswalk.slug,
            "source": source,
            "target": target,
            "relation": relation,
        },
    )
    return link


@transaction.atomic
def load_catalogue(*, acting_user: User | None, origin: Origin) -> catalogue.LoadSummary:
    """Re-load the official frameworks and crosswalks from the catalogue file; idempotent."""
    _require_manage(acting_user, None)
    summary = catalogue.load(live_apps)
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="framework.catalogue.load",
        detail={
            "created": summary.created,
            "updated": summary.updated,
            "links_removed": summary.links_removed,
        },
    )
    return summary
