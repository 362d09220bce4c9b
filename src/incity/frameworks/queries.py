"""Reads of frameworks and crosswalks, shared by the API and the web pages.

Every framework and crosswalk is public, including the custom ones an
organisation adds: they are strategy vocabularies, not personal data, and
cities learn from each other's. So these reads take no user. Each one fetches
what its page shows in a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet

from incity.errors import NotFound
from incity.frameworks.models import Crosswalk, CrosswalkLink, Framework, FrameworkItem, ItemKind


def frameworks() -> QuerySet[Framework]:
    return Framework.objects.select_related("owner")


def get_framework(slug: str) -> Framework:
    framework = frameworks().filter(slug=slug).first()
    if framework is None:
        raise NotFound(f"No framework '{slug}'.", framework=slug)
    return framework


@dataclass
class Heading:
    item: FrameworkItem
    children: list[FrameworkItem] = field(default_factory=list)


@dataclass
class Section:
    """Top-level items of one kind, e.g. the principles."""

    kind: ItemKind
    items: list[FrameworkItem] = field(default_factory=list)


@dataclass
class Outline:
    framework: Framework
    headings: list[Heading]
    sections: list[Section]
    crosswalks: list[Crosswalk]


def framework_outline(slug: str) -> Outline:
    """A framework with its headings (their items nested), other items by kind, and crosswalks."""
    framework = get_framework(slug)
    items = list(framework.items.all())
    children: dict[int, list[FrameworkItem]] = defaultdict(list)
    for item in items:
        if item.parent_id is not None:
            children[item.parent_id].append(item)
    headings = [Heading(item, children[item.pk]) for item in items if item.kind == ItemKind.HEADING]
    sections = [
        Section(kind, [i for i in items if i.kind == kind and i.parent_id is None])
        for kind in ItemKind
        if kind != ItemKind.HEADING
    ]
    return Outline(
        framework=framework,
        headings=headings,
        sections=[section for section in sections if section.items],
        crosswalks=list(crosswalks_of(framework)),
    )


def crosswalks() -> QuerySet[Crosswalk]:
    return Crosswalk.objects.select_related("from_framework", "to_framework", "owner")


def crosswalks_of(framework: Framework) -> QuerySet[Crosswalk]:
    return crosswalks().filter(Q(from_framework=framework) | Q(to_framework=framework))


def get_crosswalk(slug: str) -> Crosswalk:
    crosswalk = crosswalks().filter(slug=slug).first()
    if crosswalk is None:
        raise NotFound(f"No crosswalk '{slug}'.", crosswalk=slug)
    return crosswalk


def crosswalk_with_links(slug: str) -> Crosswalk:
    """The crosswalk with `links` prefetched, each with both items: two queries."""
    links = CrosswalkLink.objects.select_related("source_item", "target_item")
    crosswalk = (
        crosswalks().prefetch_related(Prefetch("links", queryset=links)).filter(slug=slug).first()
    )
    if crosswalk is None:
        raise NotFound(f"No crosswalk '{slug}'.", crosswalk=slug)
    return crosswalk
