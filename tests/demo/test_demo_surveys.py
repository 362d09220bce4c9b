"""The demo's DiPS survey: a published form and a few hundred synthetic submissions."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import override_settings

from incity.accounts import access
from incity.accounts.models import AuditEvent, User
from incity.accounts.permissions import ProjectAction
from incity.demo.network import load_demo_network
from incity.demo.surveys import (
    DE,
    EN,
    FORM_ID,
    FORM_TITLE,
    SITES,
    SV,
    contains,
    load_demo_surveys,
    mark_points,
    submissions_by_site,
)
from incity.errors import Forbidden
from incity.places.models import Area
from incity.surveys.models import Answer, Form, Respondent, Submission
from incity.surveys.validation import validate_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> Form:
    with override_settings(DEMO_MODE=True):
        load_demo_network()
    return Form.objects.get(project__slug="demo-survey", form_id=FORM_ID)


def test_the_demo_survey_refuses_to_load_outside_demo_mode() -> None:
    with override_settings(DEMO_MODE=False), pytest.raises(Forbidden, match="only in demo mode"):
        load_demo_surveys()
    assert not Form.objects.exists()
    assert not Submission.objects.exists()


def test_the_demo_survey_as_a_newcomer_finds_it(demo: Form) -> None:
    # One load for every check: loading stores 360 submissions through the real service.
    _check_the_form_is_published_in_three_languages_with_consent(demo)
    _check_hundreds_of_synthetic_submissions_across_sites_and_languages(demo)
    _check_every_stored_answer_set_passes_validation(demo)
    _check_the_demo_fieldworker_collected_them_and_may_collect(demo)
    _check_map_marks_lie_inside_their_neighbourhood(demo)
    _check_women_mark_more_unsafe_places_at_night(demo)


def _check_the_form_is_published_in_three_languages_with_consent(demo: Form) -> None:
    assert demo.title == FORM_TITLE
    assert "synthetic" in demo.title
    assert demo.status == "open"
    assert demo.is_synthetic
    version = demo.latest_version()
    assert version is not None
    assert version.definition["languages"] == [EN, DE, SV]
    assert version.consent_required
    assert set(version.consent_sheet) == {EN, DE, SV}
    modules = [group["name"] for group in version.definition["children"]]
    assert {"background", "neighbourhood", "safety", "participation"} <= set(modules)


def _check_hundreds_of_synthetic_submissions_across_sites_and_languages(demo: Form) -> None:
    submissions = list(demo.submissions.all())
    assert len(submissions) >= 300
    assert all(submission.is_synthetic for submission in submissions)
    grouped = submissions_by_site()
    assert set(grouped) == {site.slug for site in SITES}
    assert all(len(items) >= 90 for items in grouped.values())
    languages = Counter(submission.language for submission in submissions)
    assert len(languages) >= 2
    # Each site's own language is the most common interview language there.
    own = {"birmingham": EN, "bochum": DE, "gothenburg": SV}
    for slug, items in grouped.items():
        assert Counter(s.language for s in items).most_common(1)[0][0] == own[slug]
    assert Respondent.objects.filter(submissions__form=demo).distinct().count() == len(submissions)
    assert Answer.objects.filter(form=demo).exists()


def _check_every_stored_answer_set_passes_validation(demo: Form) -> None:
    version = demo.latest_version()
    assert version is not None
    for submission in demo.submissions.all()[:60]:
        assert validate_answers(version.definition, submission.answers).errors == {}


def _check_the_demo_fieldworker_collected_them_and_may_collect(demo: Form) -> None:
    fieldworker = User.objects.get(username="demo-fieldworker")
    assert access.can_project(fieldworker, ProjectAction.COLLECT, demo.project)
    assert set(demo.submissions.values_list("collected_by__username", flat=True)) == {
        "demo-fieldworker"
    }
    statuses = Counter(demo.submissions.values_list("status", flat=True))
    assert statuses["approved"] > 0
    assert statuses["flagged"] > 0
    assert set(
        demo.submissions.exclude(status="received").values_list("reviewed_by__username", flat=True)
    ) == {"demo-researcher"}


def _check_map_marks_lie_inside_their_neighbourhood(demo: Form) -> None:
    marks = 0
    for slug, submissions in submissions_by_site().items():
        area = Area.objects.get(organisation__slug=slug, is_synthetic=True)
        assert area.boundary is not None
        for submission in submissions:
            for lon, lat in mark_points(submission.answers):
                assert contains(area.boundary, lon, lat), (slug, lon, lat)
                marks += 1
    assert marks >= 300


def _check_women_mark_more_unsafe_places_at_night(demo: Form) -> None:
    night = Counter[str]()
    people = Counter[str]()
    unsafe = 0
    for submission in demo.submissions.all():
        gender = submission.answers.get("bg_gender", "")
        people[gender] += 1
        for mark in submission.answers.get("saf_places") or []:
            if mark["category"] == "unsafe":
                unsafe += 1
                night[gender] += mark.get("time_of_day") == "night"
    assert unsafe >= 100
    assert night["woman"] / people["woman"] > night["man"] / people["man"]


@override_settings(DEMO_MODE=True)
def test_loading_twice_changes_nothing_the_second_time(demo: Form) -> None:
    counts = (
        Form.objects.count(),
        Submission.objects.count(),
        Answer.objects.count(),
        Respondent.objects.count(),
        AuditEvent.objects.count(),
    )
    statuses = sorted(Submission.objects.values_list("instance_id", "status"))
    summary = load_demo_surveys()
    assert not summary.created
    assert summary.submissions == counts[1]
    load_demo_network()
    assert counts == (
        Form.objects.count(),
        Submission.objects.count(),
        Answer.objects.count(),
        Respondent.objects.count(),
        AuditEvent.objects.count(),
    )
    assert statuses == sorted(Submission.objects.values_list("instance_id", "status"))
