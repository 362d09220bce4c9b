"""The official frameworks and crosswalks that ship with incity, and their loader.

`data/catalogue.json` is our own transcription of the sources named in
docs/frameworks.md. It is parsed into typed, validated entries here and
written to the database by `load`, which the data migrations call with the
historical app registry and `services.load_catalogue` calls with the live
one. Loading is idempotent: rows are matched on their slugs and updated in
place, so ids that other apps point at never change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Self

from django.apps.registry import Apps
from pydantic import BaseModel, ConfigDict, Field, model_validator

from incity.frameworks.models import (
    CrosswalkBasis,
    FrameworkKind,
    ItemKind,
    LinkRelation,
    Verification,
)

CATALOGUE_PATH = Path(__file__).resolve().parent / "data" / "catalogue.json"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemEntry(_Entry):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=64)
    kind: ItemKind
    name: str = Field(min_length=1, max_length=200)
    parent: str | None = None
    definition: str = ""
    source: str = Field(min_length=1)
    verification: Verification


class FrameworkEntry(_Entry):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
    name: str = Field(min_length=1, max_length=200)
    edition: str = ""
    description: str = ""
    source: str = Field(min_length=1)
    source_url: str = ""
    licence: str = ""
    verification: Verification
    items: tuple[ItemEntry, ...]

    @model_validator(mode="after")
    def _parents_come_first(self) -> Self:
        # The loader creates items in file order, so a parent must precede its children.
        seen: dict[str, ItemKind] = {}
        for item in self.items:
            if item.slug in seen:
                raise ValueError(f"{self.slug}: item '{item.slug}' appears twice")
            if item.parent is not None and seen.get(item.parent) != ItemKind.HEADING:
                raise ValueError(
                    f"{self.slug}: '{item.slug}' needs heading '{item.parent}' listed before it"
                )
            seen[item.slug] = item.kind
        return self


class LinkEntry(_Entry):
    source: str
    target: str
    relation: LinkRelation
    note: str = ""


class CrosswalkEntry(_Entry):
    # The file says "from" and "to"; Python cannot use "from" as a name.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
    name: str = Field(min_length=1, max_length=200)
    from_framework: str = Field(alias="from")
    to_framework: str = Field(alias="to")
    basis: CrosswalkBasis
    description: str = ""
    source: str = ""
    verification: Verification
    links: tuple[LinkEntry, ...]


class Catalogue(_Entry):
    about: str = ""
    frameworks: tuple[FrameworkEntry, ...]
    crosswalks: tuple[CrosswalkEntry, ...]

    @model_validator(mode="after")
    def _links_point_at_items(self) -> Self:
        slugs = {entry.slug: {item.slug for item in entry.items} for entry in self.frameworks}
        for crosswalk in self.crosswalks:
            for end in (crosswalk.from_framework, crosswalk.to_framework):
                if end not in slugs:
                    raise ValueError(f"{crosswalk.slug}: unknown framework '{end}'")
            for link in crosswalk.links:
                if link.source not in slugs[crosswalk.from_framework]:
                    raise ValueError(
                        f"{crosswalk.slug}: '{link.source}' is not in {crosswalk.from_framework}"
                    )
                if link.target not in slugs[crosswalk.to_framework]:
                    raise ValueError(
                        f"{crosswalk.slug}: '{link.target}' is not in {crosswalk.to_framework}"
                    )
        return self


@cache
def read_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    return Catalogue.model_validate_json(path.read_text(encoding="utf-8"))


class CatalogueClash(Exception):
    """An official slug is already taken by a custom framework or crosswalk."""


@dataclass
class LoadSummary:
    created: int = 0
    updated: int = 0
    links_removed: int = 0

    def count(self, created: bool) -> None:
        if created:
            self.created += 1
        else:
            self.updated += 1


def load(apps: Apps, catalogue: Catalogue | None = None) -> LoadSummary:
    """Write the catalogue to the database through `apps` (historical or live models).

    Nothing is deleted except links of official crosswalks that the file no
    longer lists: items may already be referenced by questions and codes, so
    retiring one needs a migration of its own.
    """
    catalogue = catalogue or read_catalogue()
    summary = LoadSummary()
    models = _Models(apps)
    for entry in catalogue.frameworks:
        _load_framework(models, entry, summary)
    for crosswalk in catalogue.crosswalks:
        _load_crosswalk(models, crosswalk, summary)
    return summary


class _Models:
    """The four models, looked up once in the registry the caller passes."""

    def __init__(self, apps: Apps) -> None:
        # Typed as Any: historical models from a migration's registry are not the classes mypy knows.
        self.framework: Any = apps.get_model("frameworks", "Framework")
        self.item: Any = apps.get_model("frameworks", "FrameworkItem")
        self.crosswalk: Any = apps.get_model("frameworks", "Crosswalk")
        self.link: Any = apps.get_model("frameworks", "CrosswalkLink")


def _known(model: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Only the fields `model` has, so an early migration can run a later catalogue.

    A field added later is filled in by the migration that re-runs the loader
    after adding it.
    """
    names = {field.name for field in model._meta.get_fields()}
    return {name: value for name, value in values.items() if name in names}


def _refuse_custom_namesake(model: Any, slug: str) -> None:
    if model.objects.filter(slug=slug, kind=FrameworkKind.CUSTOM).exists():
        raise CatalogueClash(
            f"'{slug}' is taken by a custom {model._meta.verbose_name}; "
            "rename it before loading the catalogue."
        )


def _stronger(current: str | None, shipped: str) -> str:
    """The better-checked of two statuses: verified, then secondary, then unverified."""
    ranks = Verification.values
    if current in ranks and ranks.index(current) < ranks.index(shipped):
        return current
    return shipped


def _upsert(model: Any, summary: LoadSummary, defaults: dict[str, Any], **match: Any) -> Any:
    if "verification" in defaults:
        # An administrator promotes a status after checking the source; a reload must not undo it.
        current = model.objects.filter(**match).values_list("verification", flat=True).first()
        defaults = {**defaults, "verification": _stronger(current, defaults["verification"])}
    row, created = model.objects.update_or_create(defaults=_known(model, defaults), **match)
    summary.count(created)
    return row


def _load_framework(models: _Models, entry: FrameworkEntry, summary: LoadSummary) -> None:
    _refuse_custom_namesake(models.framework, entry.slug)
    framework = _upsert(
        models.framework,
        summary,
        {
            "name": entry.name,
            "edition": entry.edition,
            "description": entry.description,
            "kind": FrameworkKind.OFFICIAL,
            "owner": None,
            "source": entry.source,
            "source_url": entry.source_url,
            "licence": entry.licence,
            "verification": entry.verification,
        },
        slug=entry.slug,
    )
    by_slug: dict[str, Any] = {}
    for order, item in enumerate(entry.items, start=1):
        by_slug[item.slug] = _upsert(
            models.item,
            summary,
            {
                "kind": item.kind,
                "parent": by_slug[item.parent] if item.parent else None,
                "name": item.name,
                "definition": item.definition,
                "order": order,
                "source": item.source,
                "verification": item.verification,
            },
            framework=framework,
            slug=item.slug,
        )


def _load_crosswalk(models: _Models, entry: CrosswalkEntry, summary: LoadSummary) -> None:
    _refuse_custom_namesake(models.crosswalk, entry.slug)
    ends = [entry.from_framework, entry.to_framework]
    frameworks = {row.slug: row for row in models.framework.objects.filter(slug__in=ends)}
    crosswalk = _upsert(
        models.crosswalk,
        summary,
        {
            "name": entry.name,
            "kind": FrameworkKind.OFFICIAL,
            "from_framework": frameworks[entry.from_framework],
            "to_framework": frameworks[entry.to_framework],
            "basis": entry.basis,
            "description": entry.description,
            "source": entry.source,
            "owner": None,
            "verification": entry.verification,
        },
        slug=entry.slug,
    )
    sources = _items_by_slug(models, crosswalk.from_framework_id)
    targets = _items_by_slug(models, crosswalk.to_framework_id)
    kept = [
        _upsert(
            models.link,
            summary,
            {"relation": link.relation, "note": link.note},
            crosswalk=crosswalk,
            source_item=sources[link.source],
            target_item=targets[link.target],
        ).pk
        for link in entry.links
    ]
    removed, _ = models.link.objects.filter(crosswalk=crosswalk).exclude(pk__in=kept).delete()
    summary.links_removed += removed


def _items_by_slug(models: _Models, framework_id: int) -> dict[str, Any]:
    return {item.slug: item for item in models.item.objects.filter(framework_id=framework_id)}
