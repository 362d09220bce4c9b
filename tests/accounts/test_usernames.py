from __future__ import annotations

from django.test import Client

from tests.personas import PASSWORD, Cast


def test_a_username_signs_in_whatever_its_letter_case(cast: Cast) -> None:
    client = Client()
    client.post("/accounts/login/", {"login": "RAMI", "password": PASSWORD})
    assert client.session.get("_auth_user_id") == str(cast.researcher.pk)


def test_a_wrong_password_is_refused_whatever_the_letter_case(cast: Cast) -> None:
    client = Client()
    client.post("/accounts/login/", {"login": "Rami", "password": "not it"})
    assert "_auth_user_id" not in client.session


def test_a_multi_organisation_member_starts_where_their_role_is_strongest(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.researcher)
    response = client.get("/")
    # Rami is a researcher in Riverton and only a viewer at the university.
    assert response.context["current_organisation"] == cast.riverton
