"""The members page: leads and admins give existing people roles and remove them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from incity.accounts.models import AuditEvent, Membership, User
from tests.personas import PASSWORD, Cast, signed_in
from tests.web.pages import html

MEMBERS = reverse("web:members", args=["riverton"])
SET = reverse("web:member_set", args=["riverton"])
REMOVE = reverse("web:member_remove", args=["riverton"])
OTHER_ROLES = ["researcher", "citizen_researcher", "partner", "viewer"]


@pytest.fixture
def newcomer(db: None) -> User:
    return User.objects.create_user(username="sam", password=PASSWORD)


def _role(user: User, cast: Cast) -> str | None:
    membership = Membership.objects.filter(user=user, organisation=cast.riverton).first()
    return membership.role if membership else None


def test_the_outsider_gets_not_found(cast: Cast) -> None:
    assert signed_in(cast.outsider).get(MEMBERS).status_code == 404


def test_the_outsider_cannot_give_a_role_in_riverton(cast: Cast, newcomer: User) -> None:
    response = signed_in(cast.outsider).post(SET, {"username": "sam", "role": "viewer"})
    assert response.status_code == 404
    assert _role(newcomer, cast) is None


def test_the_outsider_cannot_remove_a_riverton_member(cast: Cast) -> None:
    response = signed_in(cast.outsider).post(REMOVE, {"username": "vera"})
    assert response.status_code == 404
    assert _role(cast.viewer, cast) == "viewer"


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_a_role_without_member_rights_cannot_see_the_page(cast: Cast, role: str) -> None:
    response = signed_in(cast.by_role(role)).get(MEMBERS)
    assert response.status_code == 403
    assert "manage_members" in html(response)


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_a_role_without_member_rights_cannot_give_a_role(
    cast: Cast, role: str, newcomer: User
) -> None:
    response = signed_in(cast.by_role(role)).post(SET, {"username": "sam", "role": "city_lead"})
    assert response.status_code == 403
    assert _role(newcomer, cast) is None


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_a_role_without_member_rights_cannot_remove_anyone(cast: Cast, role: str) -> None:
    response = signed_in(cast.by_role(role)).post(REMOVE, {"username": "lena"})
    assert response.status_code == 403
    assert _role(cast.lead, cast) == "city_lead"


def test_a_visitor_cannot_change_members(cast: Cast, newcomer: User) -> None:
    response = Client().post(SET, {"username": "sam", "role": "viewer"})
    assert response.status_code == 302
    assert _role(newcomer, cast) is None


def test_changing_members_needs_the_csrf_token(cast: Cast, newcomer: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.lead)
    assert client.post(SET, {"username": "sam", "role": "viewer"}).status_code == 403
    assert _role(newcomer, cast) is None


def test_changing_members_needs_a_post(cast: Cast) -> None:
    client = signed_in(cast.lead)
    assert client.get(SET).status_code == 405
    assert client.get(REMOVE).status_code == 405


def test_an_unknown_username_is_named_in_the_error(cast: Cast) -> None:
    response = signed_in(cast.lead).post(SET, {"username": "nobody", "role": "viewer"})
    assert response.status_code == 200
    assert "No user named &#x27;nobody&#x27;." in html(response)
    assert not Membership.objects.filter(user__username="nobody").exists()


def test_a_lead_cannot_hand_out_the_network_admin_role(cast: Cast, newcomer: User) -> None:
    client = signed_in(cast.lead)
    assert '<option value="network_admin">' not in html(client.get(MEMBERS))
    response = client.post(SET, {"username": "sam", "role": "network_admin"})
    assert 'id="id_role_error"' in html(response)
    assert _role(newcomer, cast) is None


def test_a_lead_cannot_change_their_own_role(cast: Cast) -> None:
    response = signed_in(cast.lead).post(SET, {"username": "lena", "role": "viewer"})
    assert "You cannot change your own role" in html(response)
    assert _role(cast.lead, cast) == "city_lead"


def test_a_lead_cannot_remove_themselves(cast: Cast) -> None:
    response = signed_in(cast.lead).post(REMOVE, {"username": "lena"}, follow=True)
    assert "You cannot remove yourself" in html(response)
    assert _role(cast.lead, cast) == "city_lead"


def test_removing_someone_who_is_not_a_member_is_refused(cast: Cast) -> None:
    response = signed_in(cast.lead).post(REMOVE, {"username": "otto"}, follow=True)
    assert "That person is not a member of this organisation." in html(response)
    assert Membership.objects.filter(user=cast.outsider, organisation=cast.hillside).exists()


def test_the_lead_sees_every_member_with_a_remove_button_but_their_own(cast: Cast) -> None:
    page = html(signed_in(cast.lead).get(MEMBERS))
    for username in ("rami", "fatima", "paul", "vera"):
        assert f"Remove {username}" in page
    assert "Remove lena" not in page
    assert 'for="id_username"' in page
    assert 'for="id_role"' in page


def test_the_lead_gives_an_existing_user_a_role_and_it_is_audited(
    cast: Cast, newcomer: User
) -> None:
    response = signed_in(cast.lead).post(
        SET, {"username": "sam", "role": "researcher"}, follow=True
    )
    assert "sam now has a role in Riverton." in html(response)
    assert _role(newcomer, cast) == "researcher"
    event = AuditEvent.objects.get(action="membership.create", channel="web")
    assert event.actor_username == "lena"


def test_the_lead_changes_a_members_role(cast: Cast) -> None:
    signed_in(cast.lead).post(SET, {"username": "rami", "role": "viewer"})
    assert _role(cast.researcher, cast) == "viewer"


def test_the_lead_removes_a_member(cast: Cast) -> None:
    response = signed_in(cast.lead).post(REMOVE, {"username": "vera"}, follow=True)
    assert "vera is no longer a member of Riverton." in html(response)
    assert _role(cast.viewer, cast) is None
    assert AuditEvent.objects.filter(action="membership.remove", channel="web").exists()


def test_a_network_admin_may_hand_out_the_network_admin_role_in_their_organisation(
    cast: Cast, newcomer: User
) -> None:
    network_set = reverse("web:member_set", args=["network"])
    signed_in(cast.admin).post(network_set, {"username": "sam", "role": "network_admin"})
    assert (
        Membership.objects.get(user=newcomer, organisation=cast.secretariat).role == "network_admin"
    )
