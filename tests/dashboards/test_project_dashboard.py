"""The project dashboard: its forms' response counts through the gate, and its margins."""

from __future__ import annotations

import pytest

from incity.analysis.margins_services import MarginRow, replace_margins
from incity.surveys.models import Form
from tests.personas import SYSTEM, Cast, signed_in
from tests.surveys.forms import good_answers, published_form, stored

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(cast: Cast) -> Form:
    form = published_form(cast)
    for _ in range(3):
        stored(form, cast.fieldworker)
    return form


def test_another_citys_lead_cannot_tell_the_project_exists(cast: Cast, form: Form) -> None:
    response = signed_in(cast.outsider).get(f"/dashboards/projects/{cast.survey.slug}/")
    assert response.status_code == 404


def test_an_unknown_project_is_not_found(cast: Cast) -> None:
    assert signed_in(cast.lead).get("/dashboards/projects/nowhere/").status_code == 404


def test_a_viewer_sees_a_small_response_count_suppressed(cast: Cast, form: Form) -> None:
    page = signed_in(cast.viewer).get(f"/dashboards/projects/{cast.survey.slug}/").content.decode()
    assert f'href="/dashboards/forms/{form.pk}/"' in page
    row = page.split('data-testid="project-forms"')[1].split("</table>")[0]
    assert "suppressed (fewer than 10)" in row
    assert "<td>3</td>" not in row


def test_synthetic_margins_are_labelled_synthetic(cast: Cast, form: Form) -> None:
    assert good_answers()["tenure"] == "private_rent"
    replace_margins(
        acting_user=cast.lead,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        rows=[MarginRow("tenure", "owner", 40.0), MarginRow("tenure", "private_rent", 60.0)],
        source="invented",
        is_synthetic=True,
    )
    page = signed_in(cast.viewer).get(f"/dashboards/projects/{cast.survey.slug}/").content.decode()
    margins = page.split('data-testid="margins"')[1].split("</table>")[0]
    assert "private_rent" in margins
    assert "synthetic" in margins
