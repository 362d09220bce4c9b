"""A small published form in the personas' project, used by the API, CLI and service tests."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from incity.accounts.models import User
from incity.surveys.definition import FormDefinition
from incity.surveys.models import Form
from incity.surveys.services import forms as form_services
from incity.surveys.services.submissions import SubmissionInput, SubmitResult, submit
from tests.personas import SYSTEM, Cast

EN = "English (en)"
DE = "Deutsch (de)"

HOUSEHOLD_FORM: FormDefinition = {
    "form_id": "household",
    "title": "Household and neighbourhood (synthetic test form)",
    "default_language": EN,
    "languages": [EN, DE],
    "settings": {},
    "choices": {
        "tenure": [
            {"name": "owner", "label": {EN: "Owner", DE: "Eigentum"}},
            {"name": "private_rent", "label": {EN: "Private rent", DE: "Privat gemietet"}},
            {"name": "social_rent", "label": {EN: "Social rent", DE: "Sozialwohnung"}},
        ],
        "barrier": [
            {"name": "no_time", "label": {EN: "No time", DE: "Keine Zeit"}},
            {"name": "childcare", "label": {EN: "Childcare", DE: "Kinderbetreuung"}},
            {"name": "language", "label": {EN: "Language", DE: "Sprache"}},
        ],
        "yes_no": [
            {"name": "yes", "label": {EN: "Yes", DE: "Ja"}},
            {"name": "no", "label": {EN: "No", DE: "Nein"}},
        ],
        "mark_category": [
            {"name": "safe", "label": {EN: "Safe", DE: "Sicher"}},
            {"name": "unsafe", "label": {EN: "Unsafe", DE: "Unsicher"}},
        ],
    },
    "children": [
        {
            "type": "integer",
            "name": "age",
            "label": {EN: "How old are you?", DE: "Wie alt sind Sie?"},
            "required": True,
            "constraint": ". >= 16 and . <= 120",
            "constraint_message": {EN: "Answers from people aged 16 or over only."},
            "tags": {"domains": ["ioi-2019:stability"]},
        },
        {
            "type": "select_one",
            "name": "tenure",
            "list_name": "tenure",
            "label": {EN: "Do you own or rent your home?", DE: "Wohnen Sie zur Miete?"},
            "tags": {"domains": ["ioi-2019:housing"]},
        },
        {
            "type": "decimal",
            "name": "rent",
            "label": {EN: "Monthly rent", DE: "Monatsmiete"},
            "relevant": "${tenure} = 'private_rent' or ${tenure} = 'social_rent'",
            "tags": {"domains": ["ioi-2019:housing"]},
        },
        {
            "type": "select_multiple",
            "name": "barriers",
            "list_name": "barrier",
            "label": {EN: "What keeps you from meetings?", DE: "Was hält Sie ab?"},
            "tags": {"domains": ["ioi-2019:links"]},
        },
        {
            "type": "select_one",
            "name": "born_here",
            "list_name": "yes_no",
            "label": {EN: "Were you born in this country?", DE: "Hier geboren?"},
            "tags": {"domains": ["ioi-2019:rights_responsibilities"], "sensitive": True},
        },
        {
            "type": "repeat",
            "name": "household",
            "label": {EN: "People you live with", DE: "Haushalt"},
            "children": [
                {
                    "type": "integer",
                    "name": "member_age",
                    "label": {EN: "Age", DE: "Alter"},
                    "tags": {"domains": ["ioi-2019:stability"]},
                }
            ],
        },
        {
            "type": "map_marks",
            "name": "places",
            "list_name": "mark_category",
            "label": {EN: "Mark places", DE: "Orte markieren"},
            "tags": {"domains": ["ioi-2019:safety"]},
        },
        {
            "type": "text",
            "name": "comment",
            "label": {EN: "Anything else?", DE: "Sonst noch etwas?"},
            "tags": {"domains": ["ioi-2019:bridges"]},
        },
    ],
}

CONSENT_SHEET = {
    EN: "Synthetic test information sheet: what, why, who sees it, how to withdraw.",
    DE: "Synthetisches Informationsblatt für Tests.",
}


def household_definition(**changes: Any) -> FormDefinition:
    definition = copy.deepcopy(HOUSEHOLD_FORM)
    definition.update(changes)  # type: ignore[typeddict-item]
    return definition


def published_form(cast: Cast, *, consent: bool = True, form_id: str = "household") -> Form:
    form = form_services.create_form(
        acting_user=cast.researcher,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        definition=household_definition(form_id=form_id),
        consent_required=consent,
        consent_sheet=CONSENT_SHEET,
    )
    form_services.publish_form(acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk)
    form.refresh_from_db()
    return form


def good_answers(**changes: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "age": 34,
        "tenure": "private_rent",
        "rent": 640.5,
        "barriers": ["no_time", "childcare"],
        "born_here": "no",
        "household": [{"member_age": 7}, {"member_age": 41}],
        "places": [
            {
                "geometry": {"type": "Point", "coordinates": [-1.89, 52.48]},
                "category": "unsafe",
                "time_of_day": "night",
                "comment": "no street lights",
            },
            {"description": "the underpass by the station", "category": "unsafe"},
        ],
        "comment": "synthetic",
    }
    answers.update(changes)
    return answers


def new_instance_id() -> str:
    return f"uuid:{uuid.uuid4()}"


def payload(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "instance_id": new_instance_id(),
        "answers": good_answers(),
        "language": EN,
        "started_at": "2026-11-01T10:00:00Z",
        "ended_at": "2026-11-01T10:12:00Z",
        "device_id": "test-phone-1",
        "consent": {"accepted": True},
    }
    body.update(changes)
    return body


def stored(form: Form, user: User, **answer_changes: Any) -> SubmitResult:
    """A submission stored through the service, as a citizen researcher would send it."""
    return submit(
        acting_user=user,
        origin=SYSTEM,
        form_pk=form.pk,
        item=SubmissionInput(
            instance_id=new_instance_id(),
            answers=good_answers(**answer_changes),
            language=EN,
            consent_accepted=True,
        ),
    )
