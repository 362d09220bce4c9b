"""The organisation page: details, members and visible projects, for members only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from incity.accounts.roles import ProjectState
from tests.personas import Cast, signed_in
from tests.web.pages import html, make_project

RIVERTON = reverse("web:organisation", args=["riverton"])
RIVERTON_ROLES = ["city_lead", "researcher", "citizen_researcher", "partner", "viewer"]


def test_the_outsider_gets_not_found_for_riverton(cast: Cast) -> None:
    response = signed_in(cast.outsider).get(RIVERTON)
    assert response.status_code == 404
    assert "Riverton survey" not in html(response)


def test_an_unknown_organisation_is_not_found(cast: Cast) -> None:
    response = signed_in(cast.lead).get(reverse("web:organisation", args=["atlantis"]))
    assert response.status_code == 404
    assert "No organisation &#x27;atlantis&#x27; among yours." in html(response)


def test_a_visitor_is_sent_to_sign_in(cast: Cast) -> None:
    response = Client().get(RIVERTON)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_organisation_page_refuses_a_post(cast: Cast) -> None:
    assert signed_in(cast.lead).post(RIVERTON).status_code == 405


def test_a_viewer_does_not_see_a_draft_project_or_the_tools(cast: Cast) -> None:
    make_project(cast.riverton, "riverton-plan", "Riverton action plan")
    page = html(signed_in(cast.viewer).get(RIVERTON))
    assert "Riverton action plan" not in page
    assert reverse("web:audit", args=["riverton"]) not in page
    assert reverse("web:members", args=["riverton"]) not in page


@pytest.mark.parametrize("role", RIVERTON_ROLES)
def test_each_riverton_member_sees_its_details_and_members(cast: Cast, role: str) -> None:
    response = signed_in(cast.by_role(role)).get(RIVERTON)
    assert response.status_code == 200
    page = html(response)
    assert "<h1>Riverton" in page
    assert "City" in page
    for member in ("lena", "rami", "fatima", "paul", "vera"):
        assert f'<th scope="row">{member}</th>' in page
    assert "Riverton survey" in page


def test_the_lead_sees_drafts_and_the_tools(cast: Cast) -> None:
    make_project(cast.riverton, "riverton-plan", "Riverton action plan", ProjectState.DRAFT)
    page = html(signed_in(cast.lead).get(RIVERTON))
    assert "Riverton action plan" in page
    assert reverse("web:audit", args=["riverton"]) in page
    assert reverse("web:members", args=["riverton"]) in page
