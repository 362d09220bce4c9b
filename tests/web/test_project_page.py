"""The project page and the state change form."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from incity.accounts.models import AuditEvent, Project
from incity.accounts.roles import ProjectState
from tests.personas import Cast, signed_in
from tests.web.pages import html, make_project

SURVEY = reverse("web:project", args=["riverton-survey"])
SURVEY_STATE = reverse("web:project_state", args=["riverton-survey"])


def _state(cast: Cast) -> str:
    return Project.objects.get(pk=cast.survey.pk).state


def _allowed(page: str) -> str:
    start = page.index('data-testid="allowed-actions"')
    return page[start : page.index("</ul>", start)]


def test_the_outsider_gets_not_found_for_a_riverton_project(cast: Cast) -> None:
    response = signed_in(cast.outsider).get(SURVEY)
    assert response.status_code == 404
    assert "Riverton survey" not in html(response)


def test_a_viewer_gets_not_found_for_a_draft_project(cast: Cast) -> None:
    make_project(cast.riverton, "riverton-plan", "Riverton action plan")
    response = signed_in(cast.viewer).get(reverse("web:project", args=["riverton-plan"]))
    assert response.status_code == 404


def test_a_visitor_is_sent_to_sign_in(cast: Cast) -> None:
    assert Client().get(SURVEY).status_code == 302


def test_a_viewer_may_only_look(cast: Cast) -> None:
    page = html(signed_in(cast.viewer).get(SURVEY))
    allowed = _allowed(page)
    assert "view_project" in allowed
    assert "view_published" in allowed
    for refused in ("change_state", "edit_project", "collect", "view_raw_data"):
        assert refused not in allowed
    assert SURVEY_STATE not in page


def test_a_researcher_sees_raw_data_rights_but_no_state_form(cast: Cast) -> None:
    page = html(signed_in(cast.researcher).get(SURVEY))
    allowed = _allowed(page)
    assert "view_raw_data" in allowed
    assert "export_raw_data" in allowed
    assert "change_state" not in allowed
    assert SURVEY_STATE not in page


def test_a_citizen_researcher_may_collect_but_not_read_raw_data(cast: Cast) -> None:
    allowed = _allowed(html(signed_in(cast.fieldworker).get(SURVEY)))
    assert "collect" in allowed
    assert "view_raw_data" not in allowed


@pytest.mark.parametrize("role", ["researcher", "citizen_researcher", "partner", "viewer"])
def test_a_state_change_is_refused_for_a_role_without_the_right(cast: Cast, role: str) -> None:
    response = signed_in(cast.by_role(role)).post(SURVEY_STATE, {"state": "closed"})
    assert response.status_code == 403
    assert "does not allow change_state" in html(response)
    assert _state(cast) == ProjectState.ACTIVE
    assert not AuditEvent.objects.filter(action="project.state", channel="web").exists()


def test_the_outsider_cannot_change_a_riverton_state(cast: Cast) -> None:
    response = signed_in(cast.outsider).post(SURVEY_STATE, {"state": "closed"})
    assert response.status_code == 404
    assert _state(cast) == ProjectState.ACTIVE


def test_a_visitor_cannot_change_a_state(cast: Cast) -> None:
    response = Client().post(SURVEY_STATE, {"state": "closed"})
    assert response.status_code == 302
    assert _state(cast) == ProjectState.ACTIVE


def test_a_state_change_needs_a_post(cast: Cast) -> None:
    assert signed_in(cast.lead).get(SURVEY_STATE).status_code == 405


def test_a_state_change_without_the_csrf_token_is_refused(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.lead)
    assert client.post(SURVEY_STATE, {"state": "closed"}).status_code == 403
    assert _state(cast) == ProjectState.ACTIVE


@pytest.mark.parametrize("state", ["draft", "archived", "exploded", ""])
def test_the_lead_is_told_when_a_state_cannot_be_reached(cast: Cast, state: str) -> None:
    response = signed_in(cast.lead).post(SURVEY_STATE, {"state": state}, follow=True)
    page = html(response)
    assert "Not done:" in page
    assert _state(cast) == ProjectState.ACTIVE


def test_the_lead_sees_the_state_form_with_the_reachable_states(cast: Cast) -> None:
    page = html(signed_in(cast.lead).get(SURVEY))
    assert "change_state" in _allowed(page)
    assert SURVEY_STATE in page
    assert '<option value="closed">Closed</option>' in page
    assert '<option value="draft">' not in page


def test_the_lead_closes_the_project_and_the_change_is_audited(cast: Cast) -> None:
    response = signed_in(cast.lead).post(
        SURVEY_STATE, {"state": "closed"}, follow=True, REMOTE_ADDR="203.0.113.9"
    )
    assert "Riverton survey is now Closed." in html(response)
    assert _state(cast) == ProjectState.CLOSED
    event = AuditEvent.objects.get(action="project.state", channel="web")
    assert event.actor_username == "lena"
    assert event.ip_address == "203.0.113.9"
    assert event.detail == {"from": "active", "to": "closed"}


def test_the_project_page_shows_its_facts(cast: Cast) -> None:
    page = html(signed_in(cast.lead).get(SURVEY))
    assert "<h1>Riverton survey" in page
    assert 'data-testid="project-state">Collecting<' in page
    assert "10: published counts below it are suppressed." in page
    assert reverse("web:organisation", args=["riverton"]) in page
    assert "City integration lead" in page
