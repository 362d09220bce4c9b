"""Adding frameworks, items, crosswalks and links through the API: who may, and what is refused.

Every refusal also checks that nothing was written, audit log included.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from incity.accounts.models import AuditEvent, User
from incity.frameworks.models import Crosswalk, Framework, FrameworkItem
from tests.frameworks.rows import row_counts
from tests.personas import Cast, bearer, signed_in

API = "/api/v1/frameworks"


def post(user: User | None, path: str, body: dict[str, Any]) -> Any:
    headers = bearer(user) if user is not None else {}
    return Client().post(f"{API}{path}", body, content_type="application/json", headers=headers)


def refused(user: User | None, path: str, body: dict[str, Any], status: int) -> dict[str, Any]:
    """POST, expect `status`, check nothing changed, and return the error body."""
    headers = bearer(user) if user is not None else {}
    before = row_counts()
    response = Client().post(f"{API}{path}", body, content_type="application/json", headers=headers)
    assert response.status_code == status, response.content
    assert row_counts() == before
    return response.json()


FRAMEWORK = {"slug": "riverton-2030", "name": "Riverton 2030", "owner": "riverton"}
NETWORK_FRAMEWORK = {"slug": "network-themes", "name": "Network themes"}
ITEM = {"slug": "arrival", "name": "Arrival", "kind": "domain"}
CROSSWALK = {
    "slug": "riverton-2030-to-ioi",
    "name": "Riverton 2030 to IoI",
    "from_framework": "riverton-plan",
    "to_framework": "ioi-2019",
    "owner": "riverton",
}
LINK = {"source": "belonging", "target": "bonds", "relation": "related"}


# --- Anonymous requests -------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("", FRAMEWORK),
        ("/riverton-plan/items", ITEM),
        ("/crosswalks/", CROSSWALK),
        ("/crosswalks/riverton-plan-to-ioi/links", LINK),
    ],
)
def test_anonymous_writes_are_refused_with_401(
    riverton_crosswalk: Crosswalk, path: str, body: dict
) -> None:
    error = refused(None, path, body, 401)

    assert "API token" in error["message"]


def test_a_revoked_or_bogus_token_cannot_write(cast: Cast) -> None:
    client = Client()
    before = row_counts()

    response = client.post(
        API,
        FRAMEWORK,
        content_type="application/json",
        headers={"Authorization": "Bearer inc_bogus"},
    )

    assert response.status_code == 401
    assert row_counts() == before


# --- Roles without the permission ---------------------------------------------


@pytest.mark.parametrize("role", ["researcher", "citizen_researcher", "partner", "viewer"])
def test_members_without_manage_frameworks_cannot_add_their_citys_framework(
    cast: Cast, role: str
) -> None:
    error = refused(cast.by_role(role), "", FRAMEWORK, 403)

    assert error["extra"]["action"] == "manage_frameworks"


@pytest.mark.parametrize("role", ["city_lead", "researcher", "partner", "viewer"])
def test_only_network_admins_can_add_a_network_wide_framework(cast: Cast, role: str) -> None:
    error = refused(cast.by_role(role), "", NETWORK_FRAMEWORK, 403)

    assert "network admins" in error["message"]


@pytest.mark.parametrize("role", ["researcher", "partner", "viewer"])
def test_members_without_manage_frameworks_cannot_add_items_to_their_citys_framework(
    riverton_plan: Framework, cast: Cast, role: str
) -> None:
    refused(cast.by_role(role), "/riverton-plan/items", ITEM, 403)


@pytest.mark.parametrize("role", ["researcher", "partner", "viewer"])
def test_members_without_manage_frameworks_cannot_add_crosswalks_or_links(
    riverton_crosswalk: Crosswalk, cast: Cast, role: str
) -> None:
    user = cast.by_role(role)

    refused(user, "/crosswalks/", CROSSWALK, 403)
    refused(user, "/crosswalks/riverton-plan-to-ioi/links", LINK, 403)


# --- Another city -------------------------------------------------------------


def test_an_outsider_cannot_add_a_framework_owned_by_another_city(cast: Cast) -> None:
    # Hillside's lead is not a member of Riverton: the API answers as if Riverton were not there.
    error = refused(cast.outsider, "", FRAMEWORK, 404)

    assert error["extra"] == {"organisation": "riverton"}


def test_an_outsider_cannot_add_items_to_another_citys_framework(
    riverton_plan: Framework, cast: Cast
) -> None:
    error = refused(cast.outsider, "/riverton-plan/items", ITEM, 403)

    assert error["extra"]["organisation"] == "riverton"


def test_an_outsider_cannot_add_links_to_another_citys_crosswalk(
    riverton_crosswalk: Crosswalk, cast: Cast
) -> None:
    refused(cast.outsider, "/crosswalks/riverton-plan-to-ioi/links", LINK, 403)


def test_an_outsider_cannot_add_a_crosswalk_owned_by_another_city(
    riverton_plan: Framework, cast: Cast
) -> None:
    refused(cast.outsider, "/crosswalks/", CROSSWALK, 404)


# --- Official frameworks are read-only ------------------------------------------


@pytest.mark.parametrize("role", ["network_admin", "city_lead"])
def test_nobody_can_add_items_to_an_official_framework(cast: Cast, role: str) -> None:
    error = refused(cast.by_role(role), "/ioi-2019/items", ITEM, 403)

    assert error["extra"]["kind"] == "official"


def test_nobody_can_add_links_to_an_official_crosswalk(cast: Cast) -> None:
    body = {"source": "work", "target": "identity", "relation": "related"}

    refused(cast.admin, "/crosswalks/ioi-2019-to-spencer-charsley-2016/links", body, 403)


# --- Bad input ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"slug": "Riverton 2030"}, "slug"),
        ({"slug": "-riverton"}, "slug"),
        ({"slug": "crosswalks"}, "slug"),
        ({"verification": "probably"}, "verification"),
        ({"source_url": "not a web address"}, "source_url"),
        ({"name": None}, "name"),
    ],
)
def test_bad_framework_input_is_refused_naming_the_field(
    cast: Cast, change: dict, field: str
) -> None:
    error = refused(cast.lead, "", {**FRAMEWORK, **change}, 422)

    assert error["extra"]["field"] == field


def test_a_framework_without_a_name_is_refused_naming_the_field(cast: Cast) -> None:
    error = refused(cast.lead, "", {"slug": "no-name", "owner": "riverton"}, 422)

    assert error["extra"]["field"] == "name"


@pytest.mark.parametrize("slug", ["ioi-2019", "riverton-plan"])
def test_a_framework_slug_already_taken_is_refused_with_409(
    riverton_plan: Framework, cast: Cast, slug: str
) -> None:
    error = refused(cast.lead, "", {**FRAMEWORK, "slug": slug}, 409)

    assert error["extra"] == {"slug": slug}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"parent": "nowhere"}, "parent"),
        ({"parent": "belonging"}, "parent"),
        ({"parent": "welcome", "kind": "heading"}, "parent"),
        ({"kind": "indicator"}, "kind"),
        ({"slug": "Arrival Day"}, "slug"),
        ({"name": ""}, "name"),
        ({"order": -1}, "order"),
        ({"verification": "sure"}, "verification"),
    ],
)
def test_bad_item_input_is_refused_naming_the_field(
    riverton_plan: Framework, cast: Cast, change: dict, field: str
) -> None:
    error = refused(cast.lead, "/riverton-plan/items", {**ITEM, **change}, 422)

    assert error["extra"]["field"] == field


def test_an_item_cannot_hang_under_a_heading_of_another_framework(
    riverton_plan: Framework, cast: Cast
) -> None:
    error = refused(cast.lead, "/riverton-plan/items", {**ITEM, "parent": "markers_means"}, 422)

    assert error["extra"]["field"] == "parent"
    assert "No item 'markers_means' in riverton-plan" in error["message"]


def test_a_duplicate_item_slug_is_refused_with_409(riverton_plan: Framework, cast: Cast) -> None:
    refused(cast.lead, "/riverton-plan/items", {**ITEM, "slug": "belonging"}, 409)


def test_adding_an_item_to_an_unknown_framework_answers_404(cast: Cast) -> None:
    error = refused(cast.lead, "/no-such-plan/items", ITEM, 404)

    assert error["extra"] == {"framework": "no-such-plan"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"from_framework": "no-such-plan"}, "from_framework"),
        ({"to_framework": "no-such-plan"}, "to_framework"),
        ({"to_framework": "riverton-plan"}, "to_framework"),
        ({"basis": "hunch"}, "basis"),
        ({"name": " "}, "name"),
        ({"slug": "Riverton_to_IoI"}, "slug"),
    ],
)
def test_bad_crosswalk_input_is_refused_naming_the_field(
    riverton_plan: Framework, cast: Cast, change: dict, field: str
) -> None:
    error = refused(cast.lead, "/crosswalks/", {**CROSSWALK, **change}, 422)

    assert error["extra"]["field"] == field


def test_a_duplicate_crosswalk_slug_is_refused_with_409(
    riverton_crosswalk: Crosswalk, cast: Cast
) -> None:
    refused(
        cast.lead, "/crosswalks/", {**CROSSWALK, "slug": "ioi-2019-to-spencer-charsley-2016"}, 409
    )


@pytest.mark.parametrize(
    ("change", "field", "where"),
    [
        ({"source": "work"}, "source", "ioi-2019"),
        ({"target": "structural"}, "target", "spencer-charsley-2016"),
        ({"source": "bonds", "target": "belonging"}, "source", "ioi-2019"),
    ],
)
def test_a_link_to_an_item_from_another_framework_is_refused_naming_the_field(
    riverton_crosswalk: Crosswalk, cast: Cast, change: dict, field: str, where: str
) -> None:
    error = refused(cast.lead, "/crosswalks/riverton-plan-to-ioi/links", {**LINK, **change}, 422)

    assert error["extra"]["field"] == field
    assert f"It is an item of {where}" in error["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": "nothing"}, "source"),
        ({"target": "nothing"}, "target"),
        ({"relation": "cousin"}, "relation"),
    ],
)
def test_bad_link_input_is_refused_naming_the_field(
    riverton_crosswalk: Crosswalk, cast: Cast, change: dict, field: str
) -> None:
    error = refused(cast.lead, "/crosswalks/riverton-plan-to-ioi/links", {**LINK, **change}, 422)

    assert error["extra"]["field"] == field


def test_a_duplicate_link_is_refused_with_409(riverton_crosswalk: Crosswalk, cast: Cast) -> None:
    assert post(cast.lead, "/crosswalks/riverton-plan-to-ioi/links", LINK).status_code == 201

    refused(cast.lead, "/crosswalks/riverton-plan-to-ioi/links", LINK, 409)


def test_adding_a_link_to_an_unknown_crosswalk_answers_404(cast: Cast) -> None:
    refused(cast.lead, "/crosswalks/nowhere/links", LINK, 404)


# --- What is allowed ----------------------------------------------------------


def test_a_city_lead_builds_their_citys_framework_and_crosswalks_it_to_ioi(cast: Cast) -> None:
    lead = cast.lead

    created = post(lead, "", {**FRAMEWORK, "source": "Riverton council, 2024", "edition": "2024"})
    heading = post(
        lead, "/riverton-2030/items", {"slug": "arrive", "name": "Arrive", "kind": "heading"}
    )
    domain = post(
        lead,
        "/riverton-2030/items",
        {
            "slug": "first_home",
            "name": "A first home",
            "parent": "arrive",
            "definition": "Somewhere to live.",
        },
    )
    crosswalk = post(lead, "/crosswalks/", {**CROSSWALK, "from_framework": "riverton-2030"})
    link = post(
        lead,
        "/crosswalks/riverton-2030-to-ioi/links",
        {
            "source": "first_home",
            "target": "housing",
            "relation": "narrower",
            "note": "Only first homes.",
        },
    )

    assert [r.status_code for r in (created, heading, domain, crosswalk, link)] == [201] * 5
    assert created.json()["owner"] == "riverton"
    assert created.json()["kind"] == "custom"
    assert domain.json()["order"] == 2
    assert link.json()["target_name"] == "Housing"
    outline = Client().get(f"{API}/riverton-2030").json()
    assert outline["headings"][0]["children"][0]["slug"] == "first_home"
    assert outline["crosswalks"][0]["slug"] == "riverton-2030-to-ioi"
    actions = list(
        AuditEvent.objects.filter(actor=lead, organisation=cast.riverton, kind="write")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions[-5:] == [
        "framework.create",
        "framework.item.add",
        "framework.item.add",
        "crosswalk.create",
        "crosswalk.link.add",
    ]


def test_a_city_lead_may_also_write_with_a_signed_in_session(cast: Cast) -> None:
    client = signed_in(cast.lead)

    response = client.post(API, FRAMEWORK, content_type="application/json")

    assert response.status_code == 201, response.content
    assert AuditEvent.objects.filter(action="framework.create", channel="api").count() == 1


def test_a_network_admin_adds_a_network_wide_framework(cast: Cast) -> None:
    response = post(cast.admin, "", {**NETWORK_FRAMEWORK, "verification": "secondary"})

    assert response.status_code == 201, response.content
    framework = Framework.objects.get(slug="network-themes")
    assert framework.owner is None
    assert framework.verification == "secondary"
    event = AuditEvent.objects.get(action="framework.create")
    assert (event.actor, event.organisation, event.target_id) == (
        cast.admin,
        None,
        str(framework.pk),
    )


def test_a_network_admin_adds_a_network_wide_crosswalk_between_official_frameworks(
    cast: Cast,
) -> None:
    body = {
        "slug": "inclusive-cities-to-spencer-charsley",
        "name": "Inclusive Cities to Spencer & Charsley",
        "from_framework": "inclusive-cities-2019",
        "to_framework": "spencer-charsley-2016",
    }

    created = post(cast.admin, "/crosswalks/", body)
    link = post(
        cast.admin,
        "/crosswalks/inclusive-cities-to-spencer-charsley/links",
        {"source": "connecting_communities", "target": "social"},
    )

    assert (created.status_code, link.status_code) == (201, 201)
    assert created.json()["owner"] is None
    assert link.json()["relation"] == "related"


def test_items_without_an_order_go_after_the_last_one(riverton_plan: Framework, cast: Cast) -> None:
    response = post(cast.lead, "/riverton-plan/items", {**ITEM, "kind": "principle"})

    last = FrameworkItem.objects.filter(framework=riverton_plan).order_by("-order")[0]
    assert response.json()["order"] == 3
    assert last.slug == "arrival"
