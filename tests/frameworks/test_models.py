"""Single-object rules the models keep themselves, whoever writes (admin, shell, services)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError

from incity.frameworks.models import (
    Crosswalk,
    CrosswalkLink,
    Framework,
    FrameworkItem,
    FrameworkKind,
    ItemKind,
)
from tests.personas import Cast


def _item(framework: str, slug: str) -> FrameworkItem:
    return FrameworkItem.objects.get(framework__slug=framework, slug=slug)


def test_an_item_cannot_sit_under_a_heading_of_another_framework(riverton_plan: Framework) -> None:
    item = FrameworkItem(
        framework=riverton_plan,
        kind=ItemKind.DOMAIN,
        slug="x",
        name="X",
        parent=_item("ioi-2019", "foundation"),
    )

    with pytest.raises(ValidationError, match="same framework"):
        item.full_clean()


def test_only_a_heading_can_be_a_parent(db: None) -> None:
    item = FrameworkItem(
        framework=Framework.objects.get(slug="ioi-2019"),
        kind=ItemKind.DOMAIN,
        slug="x",
        name="X",
        parent=_item("ioi-2019", "work"),
    )

    with pytest.raises(ValidationError, match="Only a heading"):
        item.full_clean()


def test_a_link_source_must_come_from_the_crosswalks_source_framework(db: None) -> None:
    link = CrosswalkLink(
        crosswalk=Crosswalk.objects.get(slug="ioi-2019-to-spencer-charsley-2016"),
        source_item=_item("spencer-charsley-2016", "social"),
        target_item=_item("spencer-charsley-2016", "structural"),
    )

    with pytest.raises(ValidationError, match="source framework"):
        link.full_clean()


def test_a_link_target_must_come_from_the_crosswalks_target_framework(db: None) -> None:
    link = CrosswalkLink(
        crosswalk=Crosswalk.objects.get(slug="ioi-2019-to-spencer-charsley-2016"),
        source_item=_item("ioi-2019", "work"),
        target_item=_item("inclusive-cities-2019", "connecting_communities"),
    )

    with pytest.raises(ValidationError, match="target framework"):
        link.full_clean()


def test_the_database_refuses_an_official_framework_with_an_owner(cast: Cast) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Framework.objects.create(
            slug="owned", name="Owned", kind=FrameworkKind.OFFICIAL, owner=cast.riverton
        )


def test_the_database_refuses_a_crosswalk_from_a_framework_to_itself(db: None) -> None:
    ioi = Framework.objects.get(slug="ioi-2019")

    with pytest.raises(IntegrityError), transaction.atomic():
        Crosswalk.objects.create(slug="loop", name="Loop", from_framework=ioi, to_framework=ioi)


def test_the_database_refuses_two_items_with_one_slug_in_a_framework(db: None) -> None:
    ioi = Framework.objects.get(slug="ioi-2019")

    with pytest.raises(IntegrityError), transaction.atomic():
        FrameworkItem.objects.create(
            framework=ioi, kind=ItemKind.DOMAIN, slug="work", name="Work again"
        )


def test_the_same_item_slug_may_appear_in_two_frameworks(db: None) -> None:
    both = FrameworkItem.objects.filter(slug="multi_directional").values_list(
        "framework__slug", flat=True
    )

    assert sorted(both) == ["ioi-2019", "spencer-charsley-2016"]


def test_names_read_well_in_the_admin(db: None) -> None:
    assert str(Framework.objects.get(slug="ioi-2019")) == (
        "Home Office Indicators of Integration framework (2019, third edition)"
    )
    assert str(_item("ioi-2019", "bonds")) == "Bonds (Domain)"
    link = CrosswalkLink.objects.filter(crosswalk__slug="ioi-2019-to-spencer-charsley-2016").first()
    assert str(link) == "work → structural (broader)"


def test_deleting_a_custom_framework_takes_its_headings_and_items_with_it(
    riverton_plan: Framework,
) -> None:
    riverton_plan.delete()

    assert not FrameworkItem.objects.filter(framework__slug="riverton-plan").exists()


def test_a_heading_that_still_holds_items_cannot_be_deleted_alone(riverton_plan: Framework) -> None:
    heading = FrameworkItem.objects.get(framework=riverton_plan, slug="welcome")

    with pytest.raises(RestrictedError), transaction.atomic():
        heading.delete()


def test_a_framework_other_crosswalks_point_at_cannot_be_deleted(
    riverton_crosswalk: Crosswalk,
) -> None:
    with pytest.raises(ProtectedError), transaction.atomic():
        Framework.objects.get(slug="riverton-plan").delete()
