"""A published form with a geopoint question, and submissions placed in time and space.

The `field` fixture stores five submissions in the personas' project (threshold 3):

    who       day         channel    status    where
    fatima    2026-03-02  web        received  A (centre)
    fatima    2026-03-03  web        received  B (far away)
    rami      2026-03-03  api        received  A
    (public)  2026-03-03  web        received  A
    rami      2026-03-05  openrosa   flagged   (no location)

Every submission also carries a map mark in cell C: it must never show on the map.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from incity.accounts.audit import Origin
from incity.accounts.models import Project, User
from incity.surveys.models import Form, Submission
from incity.surveys.services import forms as form_services
from incity.surveys.services.submissions import SubmissionInput, submit
from tests.personas import SYSTEM, Cast
from tests.surveys.forms import EN, good_answers, household_definition, new_instance_id

A = (52.4800, -1.8900)
A_NEARBY = (52.4801, -1.8901)
B = (52.6000, -1.7000)
C = (52.3000, -2.1000)
THRESHOLD = 3


def walk_definition(form_id: str = "walk") -> Any:
    definition = household_definition(form_id=form_id, title=f"Neighbourhood walk ({form_id})")
    definition["children"] = [
        *definition["children"],
        {"type": "geopoint", "name": "where", "label": {EN: "Where are you?"}},
    ]
    return definition


def published(cast: Cast, form_id: str = "walk") -> Form:
    form = form_services.create_form(
        acting_user=cast.researcher,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        definition=walk_definition(form_id),
    )
    form_services.publish_form(acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk)
    form.refresh_from_db()
    return form


def collect(
    form: Form,
    user: User | None,
    *,
    at: dt.datetime,
    where: tuple[float, float] | None,
    channel: str = "web",
    device: str = "",
    status: str = "received",
) -> Submission:
    mark = {"geometry": {"type": "Point", "coordinates": [C[1], C[0]]}, "category": "unsafe"}
    answers = good_answers(places=[mark])
    if where is not None:
        answers["where"] = {"type": "Point", "coordinates": [where[1], where[0]]}
    result = submit(
        acting_user=user,
        origin=Origin(channel=channel),
        form_pk=form.pk,
        item=SubmissionInput(
            instance_id=new_instance_id(), answers=answers, language=EN, device_id=device
        ),
    )
    assert result.submission is not None, result.errors
    Submission.objects.filter(pk=result.submission.pk).update(received_at=at, status=status)
    return result.submission


def day(number: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, number, hour, tzinfo=dt.UTC)


@dataclass
class Field:
    cast: Cast
    project: Project
    form: Form
    submissions: list[Submission]


@pytest.fixture
def field(cast: Cast) -> Field:
    Project.objects.filter(pk=cast.survey.pk).update(disclosure_threshold=THRESHOLD)
    cast.survey.refresh_from_db()
    form = published(cast)
    submissions = [
        collect(form, cast.fieldworker, at=day(2), where=A, device="phone-f"),
        collect(form, cast.fieldworker, at=day(3), where=B, device="phone-f"),
        collect(form, cast.researcher, at=day(3, 12), where=A_NEARBY, channel="api",
                device="laptop-r"),
        collect(form, None, at=day(3, 14), where=A),
        collect(form, cast.researcher, at=day(5), where=None, channel="openrosa",
                status="flagged", device="collect:r2"),
    ]  # fmt: skip
    return Field(cast=cast, project=cast.survey, form=form, submissions=submissions)
