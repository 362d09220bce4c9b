"""Domain scores, the two-way view, change between waves and weighted estimates on a demo-like form."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import override_settings

from incity.analysis import scores
from incity.analysis.estimate_queries import EstimateRequest, form_estimates
from incity.analysis.margins_services import MarginRow, replace_margins
from incity.demo.analysis import demo_margins, load_demo_analysis
from incity.demo.surveys import AGE_BANDS
from incity.errors import Conflict, Forbidden
from incity.surveys.models import Form, Submission
from tests.dashboards.data import demo_like_form
from tests.personas import SYSTEM, Cast, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(cast: Cast) -> Form:
    return demo_like_form(cast, count=90)


def _csv(cast: Cast, form: Form, name: str, query: str = "") -> list[list[str]]:
    response = signed_in(cast.lead).get(f"/dashboards/forms/{form.pk}/charts/{name}.csv{query}")
    assert response.status_code == 200, response.content
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def test_the_demo_analysis_refuses_to_load_outside_demo_mode() -> None:
    with pytest.raises(Forbidden):
        load_demo_analysis()


@override_settings(DEMO_MODE=True)
def test_the_demo_analysis_needs_the_demo_form_first(db: None) -> None:
    with pytest.raises(Conflict, match="load the demo surveys first"):
        load_demo_analysis()


def test_the_demo_margins_cover_every_age_band_and_neighbourhood_with_one_total() -> None:
    margins = demo_margins()
    by_age = [m for m in margins if m.variable == "bg_age"]
    by_place = [m for m in margins if m.variable == "home_neighbourhood"]
    assert [m.level for m in by_age] == list(AGE_BANDS)
    assert [m.level for m in by_place] == ["birmingham", "bochum", "gothenburg"]
    assert sum(m.total for m in by_age) == sum(m.total for m in by_place) == 31_900


def test_a_wave_with_only_one_date_range_is_refused(cast: Cast, form: Form) -> None:
    response = signed_in(cast.lead).get(f"/dashboards/forms/{form.pk}/?earlier_since=2026-09-01")
    assert response.status_code == 422
    assert "Give both waves" in response.content.decode()


def test_an_estimate_of_a_multiple_choice_question_is_refused(cast: Cast, form: Form) -> None:
    _margins(cast)
    response = signed_in(cast.lead).get(f"/dashboards/forms/{form.pk}/?estimate=par_barriers")
    assert response.status_code == 422
    assert "multiple choice" in response.content.decode()


def test_domain_scores_equal_the_scores_engine(cast: Cast, form: Form) -> None:
    version = form.latest_version()
    assert version is not None
    items = scores.scored_items(version.definition)
    answer_sets = [s.answers for s in Submission.objects.filter(form=form).order_by("pk")]
    expected = scores.domain_scores(items, answer_sets)
    rows = _csv(cast, form, "domain-scores", "?scope=raw")
    assert rows[0] == ["domain", "score (0-100)", "95% interval low", "95% interval high"]
    assert len([r for r in rows[1:] if not r[0].startswith("Note")]) == len(expected)
    first = next(iter(expected.values()))
    assert first.mean is not None
    assert first.ci_low is not None
    assert rows[1][1] == f"{first.mean:.1f}"
    assert rows[1][2] == f"{first.ci_low:.1f}"


def test_with_sensitive_background_the_two_way_view_uses_time_in_the_neighbourhood(
    cast: Cast, form: Form
) -> None:
    response = signed_in(cast.lead).get(f"/dashboards/forms/{form.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="problem-two-way"' not in page
    assert "living in the neighbourhood for up to five years" in page


def test_the_two_way_view_puts_newcomers_beside_long_standing_residents(cast: Cast) -> None:
    form = demo_like_form(cast, count=90, form_id="open_background", background_sensitive=False)
    rows = _csv(cast, form, "two-way")
    assert rows[0][1:3] == ["newcomers", "newcomers: 95% interval low"]
    assert "long-standing residents" in rows[0]
    # With 90 people, some groups are small: published, they are suppressed, never shown.
    for row in rows[1:]:
        if not row[0].startswith("Note") and row[1] and not row[1][0].isdigit():
            assert row[1].startswith("suppressed (")


def test_change_between_two_date_ranges_says_the_direction_in_words_and_symbol(
    cast: Cast, form: Form
) -> None:
    query = "?earlier_since=2026-09-01&earlier_until=2026-09-30&later_since=2026-11-01&later_until=2026-11-30"
    rows = _csv(cast, form, "change", query + "&scope=raw")
    assert rows[0][0] == "domain"
    assert "change" in rows[0]
    column = rows[0].index("change")
    directions = [r[column] for r in rows[1:] if not r[0].startswith("Note")]
    assert directions
    assert all(
        d.startswith(("▲ better", "▼ worse", "● no clear change", "- not comparable"))
        for d in directions
    ), directions


def _margins(cast: Cast) -> None:
    totals = {
        "age_16_24": 4900,
        "age_25_34": 6800,
        "age_35_44": 5900,
        "age_45_54": 5000,
        "age_55_64": 4100,
        "age_65_plus": 5200,
    }
    replace_margins(
        acting_user=cast.lead,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        rows=[MarginRow("bg_age", band, total) for band, total in totals.items()],
        source="test",
        is_synthetic=True,
    )


def test_without_margins_the_dashboard_shows_no_weighted_estimates(cast: Cast, form: Form) -> None:
    response = signed_in(cast.lead).get(f"/dashboards/forms/{form.pk}/charts/estimates.csv")
    assert response.status_code == 404


def test_weighted_estimates_equal_the_estimates_engine(cast: Cast, form: Form) -> None:
    _margins(cast)
    rows = _csv(cast, form, "estimates", "?estimate=saf_dark")
    expected = form_estimates(
        cast.lead, SYSTEM, form.pk, EstimateRequest(proportion="saf_dark=safe", weights="rake")
    )["estimates"][0]
    safe = next(r for r in rows if r[0] == "Safe")
    assert safe[1] == f"{100 * expected['estimate']:.1f}"
    assert safe[2] == f"{100 * expected['ci_low']:.1f}"
