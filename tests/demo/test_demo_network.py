"""The synthetic demo network: what a newcomer finds after `make demo`."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from incity.accounts import access
from incity.accounts.models import AuditEvent, Membership, Organisation, Project, User
from incity.accounts.permissions import ProjectAction
from incity.demo.network import (
    CASE_SITES,
    DEMO_PASSWORD,
    INCLUSIVE_CITIES,
    load_demo_network,
)
from incity.errors import Forbidden

pytestmark = pytest.mark.django_db


def test_the_demo_refuses_to_load_outside_demo_mode() -> None:
    with override_settings(DEMO_MODE=False), pytest.raises(Forbidden, match="only in demo mode"):
        load_demo_network()
    assert not Organisation.objects.exists()
    assert not User.objects.exists()


@override_settings(DEMO_MODE=True)
def test_loading_the_demo_twice_changes_nothing_the_second_time() -> None:
    load_demo_network()
    counts = (
        Organisation.objects.count(),
        Project.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.count(),
    )
    load_demo_network()
    assert counts == (
        Organisation.objects.count(),
        Project.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.count(),
    )


@override_settings(DEMO_MODE=True)
def test_the_demo_holds_the_case_sites_the_twelve_cities_and_small_towns() -> None:
    load_demo_network()
    case_sites = {spec.slug for spec in CASE_SITES}
    assert case_sites == {"birmingham", "bochum", "gothenburg"}
    inclusive = {spec.slug for spec in INCLUSIVE_CITIES} | {"birmingham"}
    assert len(inclusive) == 12
    assert set(Organisation.objects.values_list("slug", flat=True)) >= case_sites | inclusive
    towns = Organisation.objects.filter(kind="town", size_band="small_town")
    assert towns.count() >= 2
    for organisation in Organisation.objects.filter(kind__in=["city", "town", "region"]):
        assert organisation.size_band, organisation.slug
        assert organisation.migration_history in ("newer", "longer"), organisation.slug
        assert organisation.migration_role in ("transit", "settlement", "both"), organisation.slug
    for slug in case_sites:
        assert Organisation.objects.get(slug=slug).areas.filter(is_synthetic=True).count() == 1


@override_settings(DEMO_MODE=True)
def test_everything_the_demo_makes_is_labelled_synthetic() -> None:
    load_demo_network()
    assert not Organisation.objects.filter(is_synthetic=False).exists()
    assert not Project.objects.filter(is_synthetic=False).exists()
    assert not User.objects.filter(is_demo_account=False).exists()


@override_settings(DEMO_MODE=True)
def test_the_demo_logins_have_the_documented_roles() -> None:
    load_demo_network()
    roles = {
        (m.user.username, m.organisation.slug): m.role
        for m in Membership.objects.select_related("user", "organisation")
    }
    assert roles[("demo-admin", "demo-network")] == "network_admin"
    assert roles[("demo-lead", "birmingham")] == "city_lead"
    assert roles[("demo-researcher", "birmingham")] == "researcher"
    assert roles[("demo-fieldworker", "birmingham")] == "citizen_researcher"
    assert roles[("demo-partner", "birmingham")] == "partner"
    assert roles[("demo-outsider", "bochum")] == "city_lead"
    survey = Project.objects.get(slug="demo-survey")
    assert survey.organisation.slug == "birmingham"
    assert survey.state == "active"


@override_settings(DEMO_MODE=True)
def test_the_demo_outsider_cannot_see_the_demo_survey() -> None:
    load_demo_network()
    outsider = User.objects.get(username="demo-outsider")
    assert not access.visible_projects(outsider).filter(slug="demo-survey").exists()
    lead = User.objects.get(username="demo-lead")
    assert (
        access.visible_projects(lead, ProjectAction.VIEW_RAW_DATA)
        .filter(slug="demo-survey")
        .exists()
    )


@override_settings(DEMO_MODE=True, MFA_ENFORCED=False)
def test_a_demo_login_signs_in_with_the_demo_password_and_sees_the_label() -> None:
    load_demo_network()
    client = Client()
    response = client.post(
        "/accounts/login/", {"login": "demo-lead", "password": DEMO_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.context["user"].username == "demo-lead"
    assert "synthetic demo data" in response.content.decode()


@override_settings(DEMO_MODE=True)
def test_demo_logins_are_refused_once_demo_mode_is_off() -> None:
    load_demo_network()
    with override_settings(DEMO_MODE=False):
        response = Client().post(
            "/accounts/login/", {"login": "demo-lead", "password": DEMO_PASSWORD}
        )
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in Client().session
    assert response.context["user"].is_anonymous
