"""The accounts API: organisations, projects, members, project states and the audit log."""

from __future__ import annotations

import pytest
from django.test import Client

from incity.accounts.models import AuditEvent, Membership, Project
from tests.personas import Cast, bearer, signed_in


def test_anonymous_requests_are_refused_with_a_challenge(db: None) -> None:
    response = Client().get("/api/v1/projects")
    assert response.status_code == 401
    assert response.json()["message"].startswith("Sign in, or send an API token")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_outsider_does_not_see_another_citys_projects(cast: Cast) -> None:
    client = signed_in(cast.outsider)
    listed = [p["slug"] for p in client.get("/api/v1/projects").json()]
    assert listed == ["hillside-survey"]
    response = client.get("/api/v1/projects/riverton-survey")
    assert response.status_code == 404
    assert response.json() == {
        "message": "No project 'riverton-survey' among yours.",
        "extra": {"project": "riverton-survey"},
    }


def test_an_outsider_cannot_read_another_citys_organisation(cast: Cast) -> None:
    response = Client().get("/api/v1/organisations/riverton", headers=bearer(cast.outsider))
    assert response.status_code == 404


def test_an_outsider_cannot_read_another_citys_audit_log(cast: Cast) -> None:
    response = signed_in(cast.outsider).get("/api/v1/audit?organisation=riverton")
    assert response.status_code == 404
    assert "riverton" in response.json()["message"]


def test_an_outsider_cannot_change_another_citys_project_state(cast: Cast) -> None:
    response = signed_in(cast.outsider).post(
        "/api/v1/projects/riverton-survey/state",
        {"state": "closed"},
        content_type="application/json",
    )
    assert response.status_code == 404
    cast.survey.refresh_from_db()
    assert cast.survey.state == "active"


def test_an_outsider_cannot_add_members_to_another_city(cast: Cast) -> None:
    response = signed_in(cast.outsider).post(
        "/api/v1/organisations/riverton/members",
        {"username": "otto", "role": "city_lead"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not Membership.objects.filter(user=cast.outsider, organisation=cast.riverton).exists()


@pytest.mark.parametrize("persona", ["researcher", "fieldworker", "partner", "viewer"])
def test_only_leads_and_admins_read_the_audit_log(cast: Cast, persona: str) -> None:
    response = signed_in(getattr(cast, persona)).get("/api/v1/audit?organisation=riverton")
    assert response.status_code == 403
    assert "view_audit_log" in response.json()["message"]


@pytest.mark.parametrize("persona", ["researcher", "fieldworker", "partner", "viewer"])
def test_only_leads_change_a_project_state(cast: Cast, persona: str) -> None:
    response = signed_in(getattr(cast, persona)).post(
        "/api/v1/projects/riverton-survey/state",
        {"state": "closed"},
        content_type="application/json",
    )
    assert response.status_code in (403, 404)
    cast.survey.refresh_from_db()
    assert cast.survey.state == "active"


def test_an_impossible_state_change_is_refused_and_explained(cast: Cast) -> None:
    response = signed_in(cast.lead).post(
        "/api/v1/projects/riverton-survey/state",
        {"state": "draft"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["message"] == "The project is active; it can move to closed, not draft."


def test_an_unknown_state_is_refused_naming_the_field(cast: Cast) -> None:
    response = signed_in(cast.lead).post(
        "/api/v1/projects/riverton-survey/state",
        {"state": "paused"},
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["extra"]["field"] == "state"
    assert body["message"].startswith("state:")


def test_a_lead_closes_a_project_and_the_change_is_audited(cast: Cast) -> None:
    response = signed_in(cast.lead).post(
        "/api/v1/projects/riverton-survey/state",
        {"state": "closed"},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "closed"
    event = AuditEvent.objects.get(action="project.state", actor=cast.lead)
    assert event.detail == {"from": "active", "to": "closed"}
    assert event.ip_address == "203.0.113.7"
    assert event.channel == "api"


def test_a_researcher_cannot_start_a_project(cast: Cast) -> None:
    before = Project.objects.count()
    response = signed_in(cast.researcher).post(
        "/api/v1/organisations/riverton/projects",
        {"slug": "rogue", "name": "Rogue"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert Project.objects.count() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"slug": "Not A Slug", "name": "X"}, "slug"),
        ({"slug": "ok-slug", "name": ""}, "name"),
        ({"slug": "ok-slug", "name": "X", "disclosure_threshold": 1}, "disclosure_threshold"),
        ({"name": "X"}, "slug"),
    ],
)
def test_bad_project_input_is_refused_naming_the_field(
    cast: Cast, payload: dict[str, object], field: str
) -> None:
    before = Project.objects.count()
    response = signed_in(cast.lead).post(
        "/api/v1/organisations/riverton/projects", payload, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert response.json()["extra"]["field"] == field
    assert Project.objects.count() == before


def test_a_duplicate_project_slug_is_a_conflict(cast: Cast) -> None:
    response = signed_in(cast.lead).post(
        "/api/v1/organisations/riverton/projects",
        {"slug": "hillside-survey", "name": "Copy"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert Project.objects.get(slug="hillside-survey").organisation == cast.hillside


def test_a_lead_starts_a_project_in_draft(cast: Cast) -> None:
    response = signed_in(cast.lead).post(
        "/api/v1/organisations/riverton/projects",
        {"slug": "riverton-plan", "name": "Riverton plan"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "draft"
    assert response.json()["disclosure_threshold"] == 10
    assert AuditEvent.objects.filter(action="project.create", actor=cast.lead).exists()


def test_an_unknown_member_role_is_refused(cast: Cast) -> None:
    response = signed_in(cast.lead).post(
        "/api/v1/organisations/riverton/members",
        {"username": "otto", "role": "mayor"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "role"
    assert not Membership.objects.filter(user=cast.outsider, organisation=cast.riverton).exists()


def test_a_lead_gives_a_user_a_role_and_it_takes_effect(cast: Cast) -> None:
    client = signed_in(cast.lead)
    response = client.post(
        "/api/v1/organisations/riverton/members",
        {"username": "otto", "role": "viewer"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    listed = [p["slug"] for p in signed_in(cast.outsider).get("/api/v1/projects").json()]
    assert "riverton-survey" in listed


def test_me_lists_every_membership(cast: Cast) -> None:
    body = Client().get("/api/v1/me", headers=bearer(cast.researcher)).json()
    assert {(m["organisation"], m["role"]) for m in body["memberships"]} == {
        ("riverton", "researcher"),
        ("northgate-university", "viewer"),
    }


def test_the_audit_log_filters_by_action_actor_and_dates(cast: Cast) -> None:
    client = signed_in(cast.lead)
    client.post(
        "/api/v1/projects/riverton-survey/state",
        {"state": "closed"},
        content_type="application/json",
    )
    rows = client.get("/api/v1/audit?organisation=riverton&action=project.state&actor=lena").json()
    assert [row["action"] for row in rows] == ["project.state"]
    assert rows[0]["project"] == "riverton-survey"
    assert (
        client.get("/api/v1/audit?organisation=riverton&since=2001-01-01&until=2001-01-02").json()
        == []
    )
    every = client.get("/api/v1/audit?organisation=riverton").json()
    assert all(row["action"] for row in every)
    assert {"organisation.create", "project.create", "user.create"} <= {r["action"] for r in every}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=yesterday", "since"),
        ("kind=gossip", "kind"),
        ("since=2026-02-01&until=2026-01-01", "since"),
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
    ],
)
def test_bad_audit_filters_are_refused_naming_the_field(cast: Cast, query: str, field: str) -> None:
    response = signed_in(cast.lead).get(f"/api/v1/audit?organisation=riverton&{query}")
    assert response.status_code == 422, response.content
    assert response.json()["extra"]["field"] == field


def test_the_audit_log_list_uses_a_fixed_number_of_queries(
    cast: Cast, django_assert_max_num_queries: object
) -> None:
    client = signed_in(cast.lead)
    for state in ("closed", "active", "closed", "active"):
        client.post(
            "/api/v1/projects/riverton-survey/state",
            {"state": state},
            content_type="application/json",
        )
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        assert len(client.get("/api/v1/audit?organisation=riverton").json()) > 4


def test_the_project_list_uses_a_fixed_number_of_queries(
    cast: Cast, django_assert_max_num_queries: object
) -> None:
    client = signed_in(cast.lead)
    with django_assert_max_num_queries(6):  # type: ignore[operator]
        client.get("/api/v1/projects")


def test_the_openapi_description_is_served(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["title"] == "incity API"
    assert "/api/v1/frameworks" in "".join(spec["paths"])
    assert "/api/v1/audit" in spec["paths"]


def test_a_lead_cannot_grant_the_network_admin_role(cast: Cast) -> None:
    response = signed_in(cast.lead).post(
        "/api/v1/organisations/riverton/members",
        {"username": "vera", "role": "network_admin"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "network admin" in response.json()["message"]
    assert Membership.objects.get(user=cast.viewer, organisation=cast.riverton).role == "viewer"


def test_a_lead_cannot_change_their_own_role(cast: Cast) -> None:
    response = signed_in(cast.lead).post(
        "/api/v1/organisations/riverton/members",
        {"username": "lena", "role": "viewer"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert Membership.objects.get(user=cast.lead, organisation=cast.riverton).role == "city_lead"


def test_a_lead_cannot_demote_a_network_admin(cast: Cast) -> None:
    from incity.accounts import services
    from tests.personas import SYSTEM

    services.set_membership(
        acting_user=None,
        origin=SYSTEM,
        user=cast.admin,
        organisation=cast.riverton,
        role="network_admin",
    )
    response = signed_in(cast.lead).post(
        "/api/v1/organisations/riverton/members",
        {"username": "nadia", "role": "viewer"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert (
        Membership.objects.get(user=cast.admin, organisation=cast.riverton).role == "network_admin"
    )


def test_a_network_admin_may_grant_the_network_admin_role(cast: Cast) -> None:
    from incity.accounts import services
    from tests.personas import SYSTEM

    services.set_membership(
        acting_user=None,
        origin=SYSTEM,
        user=cast.admin,
        organisation=cast.riverton,
        role="network_admin",
    )
    response = signed_in(cast.admin).post(
        "/api/v1/organisations/riverton/members",
        {"username": "vera", "role": "network_admin"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


def test_a_lead_sees_the_sign_ins_of_members_but_not_of_outsiders(cast: Cast) -> None:
    from incity.accounts import services
    from tests.personas import PASSWORD, SYSTEM

    services.create_user(
        acting_user=None,
        origin=SYSTEM,
        username="hana",
        organisation_slug="hillside",
        role="viewer",
        password=PASSWORD,
    )
    Client().post("/accounts/login/", {"login": "rami", "password": PASSWORD})
    Client().post("/accounts/login/", {"login": "hana", "password": PASSWORD})
    rows = signed_in(cast.lead).get("/api/v1/audit?organisation=riverton&kind=auth").json()
    actors = {row["actor"] for row in rows if row["action"] == "auth.sign_in"}
    assert "rami" in actors
    assert "hana" not in actors
    hillside = signed_in(cast.outsider).get("/api/v1/audit?organisation=hillside&kind=auth").json()
    assert "hana" in {row["actor"] for row in hillside}
