"""Loading the demo survey: plan every synthetic submission, store it through the real service.

The answers are stored with `submit_batch`, so they pass the same validation as
any device's; a few are then approved or flagged by the demo researcher.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from incity.accounts.models import Project, User
from incity.demo.surveys.answers import AnswerMaker, valid_answers
from incity.demo.surveys.form import (
    FIELDWORK_DAYS,
    FIELDWORK_START,
    FIELDWORKER,
    FORM_ID,
    LEAD,
    ORIGIN,
    PROJECT_SLUG,
    RESEARCHER,
    SUBMISSIONS_PER_SITE,
    demo_form,
)
from incity.demo.surveys.people import Person, make_person
from incity.demo.surveys.places import SITES, Place, invent_spots, place_of, synthetic_boundary
from incity.errors import Conflict, Forbidden
from incity.places.models import Area
from incity.surveys.definition import FormDefinition
from incity.surveys.models import Form, FormStatus, Submission, SubmissionStatus
from incity.surveys.services import review as review_services
from incity.surveys.services import submissions as submission_services
from incity.surveys.services import typed as typed_services
from incity.surveys.services.submissions import SubmissionInput
from incity.surveys.validation import prepare


@dataclass
class SurveySummary:
    form_id: str = FORM_ID
    created: bool = False
    submissions: int = 0
    map_marks: int = 0
    approved: int = 0
    flagged: int = 0
    by_site: dict[str, int] = field(default_factory=dict)
    by_language: dict[str, int] = field(default_factory=dict)


@dataclass
class _Planned:
    item: SubmissionInput
    site: str
    review: str  # "", "approve" or "flag"
    reason: str = ""


def _times(rng: random.Random, person: Person) -> tuple[datetime, datetime]:
    day = FIELDWORK_START + timedelta(days=rng.randrange(FIELDWORK_DAYS))
    start = day.replace(hour=rng.randint(8, 18), minute=rng.randrange(60), second=rng.randrange(60))
    minutes = rng.uniform(2, 3.8) if person.short_interview else max(7.0, rng.gauss(17, 5))
    return start, start + timedelta(minutes=minutes)


def plan_submissions(
    definition: FormDefinition, rng: random.Random, places: list[Place]
) -> list[_Planned]:
    """Every synthetic submission, in a fixed order, from the seeded generator."""
    maker = AnswerMaker(definition, rng)
    prepared = prepare(definition)
    planned: list[_Planned] = []
    for place in places:
        for number in range(1, SUBMISSIONS_PER_SITE + 1):
            person = make_person(place.site, rng)
            answers = valid_answers(maker, prepared, person, place)
            started, ended = _times(rng, person)
            review, reason = "", ""
            if person.short_interview:
                review = "flag"
                reason = "Interview lasted under four minutes; check with the fieldworker (synthetic demo)."
            elif rng.random() < 0.12:
                review = "approve"
            planned.append(
                _Planned(
                    item=SubmissionInput(
                        instance_id=f"demo:{FORM_ID}:{place.site.slug}:{number:04d}",
                        answers=answers,
                        language=person.language,
                        started_at=started,
                        ended_at=ended,
                        device_id=f"demo-{place.site.slug}-tablet-{1 + number % 3}",
                        consent_accepted=True,
                    ),
                    site=place.site.slug,
                    review=review,
                    reason=reason,
                )
            )
    return planned


def synthetic_answer_sets(
    definition: FormDefinition, count: int, seed: int = 2026
) -> list[tuple[str, dict[str, Any]]]:
    """`count` (language, answers) pairs for a form composed of the demo's modules,
    without a database (boundaries drawn around the sites' centres); for benchmarks."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    places = [invent_spots(site, synthetic_boundary(site), rng) for site in SITES]
    maker = AnswerMaker(definition, rng)
    prepared = prepare(definition)
    sets: list[tuple[str, dict[str, Any]]] = []
    for index in range(count):
        place = places[index % len(places)]
        person = make_person(place.site, rng)
        sets.append((person.language, valid_answers(maker, prepared, person, place)))
    return sets


def _summarise(form: Form, created: bool) -> SurveySummary:
    submissions = list(form.submissions.values_list("device_id", "language", "status", "answers"))
    summary = SurveySummary(created=created, submissions=len(submissions))
    sites: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    for device_id, language, status, answers in submissions:
        sites[device_id.split("-")[1] if device_id.startswith("demo-") else "?"] += 1
        languages[language] += 1
        summary.map_marks += len(answers.get("saf_places") or [])
        summary.approved += status == SubmissionStatus.APPROVED
        summary.flagged += status == SubmissionStatus.FLAGGED
    summary.by_site = dict(sorted(sites.items()))
    summary.by_language = dict(sorted(languages.items()))
    return summary


@transaction.atomic
def load_demo_surveys(rng_seed: int = 2026) -> SurveySummary:
    """Create (or leave as it is) the demo's DiPS form and its synthetic submissions."""
    if not settings.DEMO_MODE:
        raise Forbidden("The demo survey loads only in demo mode (INCITY_DEMO_MODE=true).")
    if not Project.objects.filter(slug=PROJECT_SLUG, is_synthetic=True).exists():
        raise Conflict(
            f"The demo project '{PROJECT_SLUG}' is missing; load the demo network first."
        )
    expected = SUBMISSIONS_PER_SITE * len(SITES)
    existing = Form.objects.filter(project__slug=PROJECT_SLUG, form_id=FORM_ID).first()
    if (
        existing is not None
        and existing.status != FormStatus.DRAFT
        and existing.submissions.count() >= expected
    ):
        return _summarise(existing, created=False)
    users = {
        user.username: user
        for user in User.objects.filter(username__in=[LEAD, RESEARCHER, FIELDWORKER])
    }
    form = demo_form(users[LEAD])
    version = form.latest_version()
    assert version is not None
    rng = random.Random(rng_seed)  # noqa: S311 (synthetic data, not secrets)
    places = [place_of(site, rng) for site in SITES]
    # The demo survey compares the three case neighbourhoods, so its area is all three
    # (answers outside a project's area are refused).
    form.project.areas.add(
        *Area.objects.filter(
            organisation__slug__in=[site.slug for site in SITES], is_synthetic=True
        )
    )
    planned = plan_submissions(version.definition, rng, places)
    results = submission_services.submit_batch(
        acting_user=users[FIELDWORKER],
        origin=ORIGIN,
        form_pk=form.pk,
        items=[plan.item for plan in planned],
        is_synthetic=True,
    )
    invalid = {
        result.instance_id: result.errors for result in results if result.outcome == "invalid"
    }
    if invalid:
        first = next(iter(invalid.items()))
        raise ValueError(f"{len(invalid)} synthetic submissions were refused; first: {first}")
    # Batches leave the typed answers to be derived; the demo's dashboards want them now.
    typed_services.derive_typed_answers(form=form)
    created = {
        result.instance_id: result.submission for result in results if result.outcome == "created"
    }
    for plan in planned:
        submission = created.get(plan.item.instance_id)
        if submission is None or not plan.review:
            continue
        review_services.review_submission(
            acting_user=users[RESEARCHER],
            origin=ORIGIN,
            submission_pk=submission.pk,
            action=plan.review,
            reason=plan.reason,
        )
    return _summarise(form, created=bool(created))


def submissions_by_site() -> dict[str, list[Submission]]:
    """The demo form's submissions grouped by the case site their device id names."""
    grouped: dict[str, list[Submission]] = {site.slug: [] for site in SITES}
    for submission in Submission.objects.filter(form__form_id=FORM_ID, project__slug=PROJECT_SLUG):
        slug = (
            submission.device_id.split("-")[1] if submission.device_id.startswith("demo-") else ""
        )
        grouped.setdefault(slug, []).append(submission)
    return grouped
