"""The official catalogue: what the migration loads, and that re-loading is safe."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from pydantic import ValidationError

from incity.accounts.models import AuditEvent
from incity.errors import Forbidden
from incity.frameworks import catalogue, services
from incity.frameworks.models import (
    Crosswalk,
    CrosswalkLink,
    Framework,
    FrameworkItem,
    FrameworkKind,
    ItemKind,
)
from tests.frameworks.rows import row_counts
from tests.personas import SYSTEM, Cast

IOI_DOMAINS = {
    "markers_means": ["work", "housing", "education", "health_social_care", "leisure"],
    "social_connections": ["bonds", "bridges", "links"],
    "facilitators": ["language_communication", "culture", "digital_skills", "safety", "stability"],
    "foundation": ["rights_responsibilities"],
}
ALL_IOI_DOMAINS = {slug for domains in IOI_DOMAINS.values() for slug in domains}


def _items(framework: str, kind: ItemKind) -> list[FrameworkItem]:
    return list(FrameworkItem.objects.filter(framework__slug=framework, kind=kind))


def test_the_migration_loads_ioi_with_exactly_four_headings_and_fourteen_domains(db: None) -> None:
    headings = _items("ioi-2019", ItemKind.HEADING)
    domains = _items("ioi-2019", ItemKind.DOMAIN)

    assert [h.slug for h in headings] == list(IOI_DOMAINS)
    assert len(domains) == 14
    by_heading = {h.slug: [d.slug for d in domains if d.parent_id == h.pk] for h in headings}
    assert by_heading == IOI_DOMAINS


def test_ioi_ships_the_four_definitions_the_design_note_gives(db: None) -> None:
    defined = {d.slug: d.definition for d in _items("ioi-2019", ItemKind.DOMAIN) if d.definition}

    assert set(defined) == {"bonds", "bridges", "links", "rights_responsibilities"}
    assert "different backgrounds" in defined["bridges"]
    assert "institutions" in defined["links"]


def test_ioi_is_official_verified_and_cites_horr109_under_the_ogl(db: None) -> None:
    ioi = Framework.objects.get(slug="ioi-2019")

    assert ioi.kind == FrameworkKind.OFFICIAL
    assert ioi.owner is None
    assert ioi.verification == "verified"
    assert "HORR109" in ioi.source
    assert ioi.licence == "Open Government Licence v3.0"


def test_ioi_has_its_four_principles(db: None) -> None:
    principles = [p.slug for p in _items("ioi-2019", ItemKind.PRINCIPLE)]

    assert principles == [
        "multi_dimensional",
        "multi_directional",
        "everyones_responsibility",
        "context_specific",
    ]


def test_spencer_charsley_has_five_verified_domains_and_five_unverified_effector_levels(
    db: None,
) -> None:
    domains = _items("spencer-charsley-2016", ItemKind.DOMAIN)
    levels = _items("spencer-charsley-2016", ItemKind.EFFECTOR_LEVEL)

    assert [d.slug for d in domains] == [
        "structural",
        "social",
        "cultural",
        "civic_political",
        "identity",
    ]
    assert {d.verification for d in domains} == {"verified"}
    assert all(d.definition for d in domains)
    assert [level.name for level in levels] == [
        "Individual",
        "Social",
        "Structural",
        "Policy",
        "Transnational",
    ]
    # The design note marks the level names [?]: they ship unverified until someone checks them.
    assert {level.verification for level in levels} == {"unverified"}


def test_inclusive_cities_has_five_principles_and_five_thematic_areas(db: None) -> None:
    principles = _items("inclusive-cities-2019", ItemKind.PRINCIPLE)
    themes = _items("inclusive-cities-2019", ItemKind.THEME)

    assert len(principles) == 5
    assert [t.slug for t in themes] == [
        "shared_local_story",
        "inclusive_economic_growth",
        "connecting_communities",
        "inclusive_public_services",
        "civic_participation",
    ]


@pytest.mark.parametrize(
    "slug", ["ioi-2019-to-spencer-charsley-2016", "ioi-2019-to-inclusive-cities-2019"]
)
def test_each_ioi_crosswalk_covers_all_fourteen_domains(db: None, slug: str) -> None:
    crosswalk = Crosswalk.objects.get(slug=slug)
    sources = set(
        CrosswalkLink.objects.filter(crosswalk=crosswalk).values_list(
            "source_item__slug", flat=True
        )
    )

    assert sources == ALL_IOI_DOMAINS
    # Section 5 is our own mapping, not the authors': it ships as an analyst's, marked secondary.
    assert (crosswalk.basis, crosswalk.verification, crosswalk.kind) == (
        "analyst",
        "secondary",
        "official",
    )


def test_the_crosswalk_follows_section_five_of_the_design_note(db: None) -> None:
    pairs = set(
        CrosswalkLink.objects.filter(
            crosswalk__slug="ioi-2019-to-spencer-charsley-2016"
        ).values_list("source_item__slug", "target_item__slug")
    )

    assert ("work", "structural") in pairs
    assert ("safety", "social") in pairs
    assert ("links", "civic_political") in pairs
    assert ("culture", "cultural") in pairs


def test_verification_in_the_file_uses_only_the_three_statuses(db: None) -> None:
    raw = json.loads(catalogue.CATALOGUE_PATH.read_text(encoding="utf-8"))
    statuses = {item["verification"] for f in raw["frameworks"] for item in f["items"]}

    assert statuses == {"verified", "unverified"}


def test_reloading_the_catalogue_is_idempotent(db: None) -> None:
    before = row_counts()
    ids_before = set(FrameworkItem.objects.values_list("pk", flat=True))

    summary = catalogue.load(apps)

    assert summary.created == 0
    assert summary.links_removed == 0
    assert row_counts() == before
    assert set(FrameworkItem.objects.values_list("pk", flat=True)) == ids_before


def test_reloading_restores_an_edited_definition_and_drops_a_stray_link(db: None) -> None:
    FrameworkItem.objects.filter(framework__slug="ioi-2019", slug="bonds").update(
        definition="edited"
    )
    crosswalk = Crosswalk.objects.get(slug="ioi-2019-to-spencer-charsley-2016")
    CrosswalkLink.objects.create(
        crosswalk=crosswalk,
        source_item=FrameworkItem.objects.get(framework__slug="ioi-2019", slug="work"),
        target_item=FrameworkItem.objects.get(
            framework__slug="spencer-charsley-2016", slug="identity"
        ),
    )

    summary = catalogue.load(apps)

    assert summary.links_removed == 1
    bonds = FrameworkItem.objects.get(framework__slug="ioi-2019", slug="bonds")
    assert bonds.definition.startswith("Connections with those you share")


def test_a_custom_framework_holding_an_official_slug_stops_the_load(cast: Cast) -> None:
    services.create_custom_framework(
        acting_user=None, origin=SYSTEM, slug="new-official", name="Taken", owner=cast.riverton
    )
    shipped = catalogue.read_catalogue()
    renamed = shipped.frameworks[0].model_copy(update={"slug": "new-official"})
    future = shipped.model_copy(update={"frameworks": (renamed,), "crosswalks": ()})

    with pytest.raises(catalogue.CatalogueClash, match="new-official"):
        catalogue.load(apps, future)
    assert Framework.objects.get(slug="new-official").kind == FrameworkKind.CUSTOM


def test_the_catalogue_refuses_a_domain_listed_before_its_heading() -> None:
    raw = json.loads(catalogue.CATALOGUE_PATH.read_text(encoding="utf-8"))
    items = raw["frameworks"][0]["items"]
    heading = next(i for i, item in enumerate(items) if item["slug"] == "markers_means")
    items.append(items.pop(heading))

    with pytest.raises(ValidationError, match="markers_means"):
        catalogue.Catalogue.model_validate(raw)


def test_the_catalogue_refuses_a_link_to_an_item_the_framework_lacks() -> None:
    raw = json.loads(catalogue.CATALOGUE_PATH.read_text(encoding="utf-8"))
    raw["crosswalks"][0]["links"].append(
        {"source": "work", "target": "bonds", "relation": "related"}
    )

    with pytest.raises(ValidationError, match="'bonds' is not in spencer-charsley-2016"):
        catalogue.Catalogue.model_validate(raw)


def test_the_catalogue_refuses_an_unknown_verification_status() -> None:
    raw = json.loads(catalogue.CATALOGUE_PATH.read_text(encoding="utf-8"))
    raw["frameworks"][0]["items"][0]["verification"] = "probably"

    with pytest.raises(ValidationError, match="verification"):
        catalogue.Catalogue.model_validate(raw)


@pytest.mark.parametrize("role", ["city_lead", "researcher", "viewer"])
def test_only_network_admins_can_reload_the_catalogue(cast: Cast, role: str) -> None:
    before = row_counts()

    with pytest.raises(Forbidden):
        services.load_catalogue(acting_user=cast.by_role(role), origin=SYSTEM)
    assert row_counts() == before


def test_a_network_admin_reloading_the_catalogue_leaves_an_audit_row(cast: Cast) -> None:
    services.load_catalogue(acting_user=cast.admin, origin=SYSTEM)

    event = AuditEvent.objects.get(action="framework.catalogue.load")
    assert event.actor == cast.admin
    assert event.detail["created"] == 0


def test_reloading_keeps_a_verification_an_administrator_promoted(db: None) -> None:
    levels = FrameworkItem.objects.filter(kind=ItemKind.EFFECTOR_LEVEL)
    levels.filter(slug="effector_policy").update(verification="verified")

    catalogue.load(apps)

    assert levels.get(slug="effector_policy").verification == "verified"
    assert levels.get(slug="effector_social").verification == "unverified"


def test_reloading_raises_a_status_the_file_has_since_promoted(db: None) -> None:
    FrameworkItem.objects.filter(framework__slug="ioi-2019", slug="work").update(
        verification="unverified"
    )

    catalogue.load(apps)

    assert (
        FrameworkItem.objects.get(framework__slug="ioi-2019", slug="work").verification
        == "verified"
    )
