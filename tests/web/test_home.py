"""The home page: what visitors see, and each role's view of its current organisation."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from incity.accounts import services
from incity.accounts.models import Organisation, User
from incity.accounts.roles import ProjectState
from tests.personas import PASSWORD, SYSTEM, Cast, signed_in
from tests.web.pages import html, make_project

HOME = reverse("web:home")


def _switch_to(client: Client, organisation: Organisation) -> None:
    response = client.post(reverse("web:switch_organisation"), {"organisation": organisation.slug})
    assert response.status_code == 302


@pytest.fixture
def riverton_draft(cast: Cast) -> str:
    return make_project(cast.riverton, "riverton-plan", "Riverton action plan").name


def test_a_visitor_learns_what_incity_is_and_where_to_sign_in(db: None) -> None:
    page = html(Client().get(HOME))
    assert "evidence for inclusive cities" in page
    assert reverse("account_login") in page
    assert reverse("frameworks:list") in page


def test_a_visitor_sees_no_organisation_or_project(cast: Cast) -> None:
    page = html(Client().get(HOME))
    assert "Riverton survey" not in page
    assert "Hillside" not in page


def test_the_outsider_never_sees_rivertons_projects_on_their_home(cast: Cast) -> None:
    for state in ProjectState:
        make_project(cast.riverton, f"riverton-{state}", f"Riverton secret {state}", state)
    page = html(signed_in(cast.outsider).get(HOME))
    assert "Hillside survey" in page
    assert "Riverton survey" not in page
    assert "Riverton secret" not in page


def test_the_outsider_cannot_switch_to_riverton(cast: Cast) -> None:
    client = signed_in(cast.outsider)
    _switch_to(client, cast.riverton)
    page = html(client.get(HOME))
    assert "<h1>Hillside" in page
    assert "Riverton survey" not in page


def test_switching_organisation_needs_a_post(cast: Cast) -> None:
    response = signed_in(cast.lead).get(reverse("web:switch_organisation"))
    assert response.status_code == 405


def test_a_viewer_sees_no_audit_or_members_links(cast: Cast) -> None:
    page = html(signed_in(cast.viewer).get(HOME))
    assert reverse("web:audit", args=["riverton"]) not in page
    assert reverse("web:members", args=["riverton"]) not in page
    assert 'id="members-heading"' not in page


def test_a_researcher_sees_no_audit_or_members_links(cast: Cast) -> None:
    client = signed_in(cast.researcher)
    _switch_to(client, cast.riverton)
    page = html(client.get(HOME))
    assert reverse("web:audit", args=["riverton"]) not in page
    assert reverse("web:members", args=["riverton"]) not in page


def test_only_a_network_admin_sees_the_network_overview(cast: Cast) -> None:
    for persona in (cast.lead, cast.outsider, cast.viewer, cast.partner, cast.fieldworker):
        page = html(signed_in(persona).get(HOME))
        assert 'id="network-heading"' not in page, persona.username


def test_a_viewer_does_not_see_a_draft_project(cast: Cast, riverton_draft: str) -> None:
    page = html(signed_in(cast.viewer).get(HOME))
    assert "Projects with published results" in page
    assert "Riverton survey" in page
    assert riverton_draft not in page


def test_a_partner_sees_projects_with_published_results_after_switching(
    cast: Cast, riverton_draft: str
) -> None:
    client = signed_in(cast.partner)
    _switch_to(client, cast.riverton)
    page = html(client.get(HOME))
    assert "Projects with published results" in page
    assert "Riverton survey" in page
    assert riverton_draft not in page


def test_a_researcher_sees_projects_with_raw_data_but_not_drafts(
    cast: Cast, riverton_draft: str
) -> None:
    make_project(cast.riverton, "riverton-old", "Riverton old wave", ProjectState.ARCHIVED)
    client = signed_in(cast.researcher)
    _switch_to(client, cast.riverton)
    page = html(client.get(HOME))
    assert "Projects whose raw data you may read" in page
    assert "Riverton survey" in page
    assert riverton_draft not in page
    assert "Riverton old wave" not in page


def test_a_researcher_starts_where_their_role_is_strongest(cast: Cast) -> None:
    # Rami is a researcher in Riverton and only a viewer at Northgate University.
    page = html(signed_in(cast.researcher).get(HOME))
    assert "<h1>Riverton" in page
    assert "Northgate University" in page  # still offered in the switcher


def test_a_citizen_researcher_sees_projects_collecting_now_and_no_fake_assignments(
    cast: Cast, riverton_draft: str
) -> None:
    make_project(cast.riverton, "riverton-done", "Riverton finished wave", ProjectState.CLOSED)
    page = html(signed_in(cast.fieldworker).get(HOME))
    assert "Projects collecting now" in page
    assert "Riverton survey" in page
    assert "Riverton finished wave" not in page
    assert riverton_draft not in page
    assert "does not hand out assignments yet" in page


def test_a_lead_sees_every_project_with_its_state_members_and_tools(
    cast: Cast, riverton_draft: str
) -> None:
    page = html(signed_in(cast.lead).get(HOME))
    assert "Riverton survey" in page
    assert "Collecting" in page
    assert riverton_draft in page
    assert "Draft" in page
    for member in ("rami", "fatima", "paul", "vera", "lena"):
        assert f'<th scope="row">{member}</th>' in page
    assert reverse("web:audit", args=["riverton"]) in page
    assert reverse("web:members", args=["riverton"]) in page


def test_a_network_admin_sees_every_organisation_by_kind(cast: Cast) -> None:
    Organisation.objects.filter(pk=cast.hillside.pk).update(
        size_band="small_town", migration_history="newer", migration_role="transit"
    )
    page = html(signed_in(cast.admin).get(HOME))
    assert 'id="network-heading"' in page
    for name in ("Riverton", "Hillside", "Open Doors", "Northgate University"):
        assert name in page
    assert "<caption>Civil-society organisation</caption>" in page
    assert "Small town (under 50,000)" in page
    assert "Newer history of migration" in page
    assert "Mainly transit" in page
    assert reverse("web:audit", args=["network"]) in page


def test_the_network_overview_links_only_organisations_the_admin_belongs_to(cast: Cast) -> None:
    page = html(signed_in(cast.admin).get(HOME))
    assert reverse("web:organisation", args=["network"]) in page
    assert reverse("web:organisation", args=["riverton"]) not in page


def test_someone_without_a_role_is_told_to_ask_for_one(db: None) -> None:
    loner = User.objects.create_user(username="loner", password=PASSWORD)
    page = html(signed_in(loner).get(HOME))
    assert "You do not have a role in any organisation yet" in page


def test_the_lead_home_takes_a_fixed_number_of_queries(
    cast: Cast, django_assert_max_num_queries
) -> None:
    for number in range(15):
        make_project(cast.riverton, f"extra-{number}", f"Extra {number}", ProjectState.ACTIVE)
        newcomer = User.objects.create_user(username=f"member{number}", password=PASSWORD)
        services.set_membership(
            acting_user=None,
            origin=SYSTEM,
            user=newcomer,
            organisation=cast.riverton,
            role="viewer",
        )
    client = signed_in(cast.lead)
    # session, user, roles, two-factor check, organisations, projects, members, synthetic label
    with django_assert_max_num_queries(8):
        response = client.get(HOME)
    assert html(response).count("Extra ") == 15


def test_the_admin_home_takes_a_fixed_number_of_queries(
    cast: Cast, django_assert_max_num_queries
) -> None:
    for number in range(15):
        services.create_organisation(
            acting_user=None,
            origin=SYSTEM,
            slug=f"town-{number}",
            name=f"Town {number}",
            kind="town",
        )
    client = signed_in(cast.admin)
    # as for a lead, plus one for every organisation in the network
    with django_assert_max_num_queries(9):
        response = client.get(HOME)
    assert html(response).count("Town ") >= 15
