"""The demo's DiPS form: its names, languages and modules, and how it is composed.

The form is built from the module library, with one question added first (which
of the three case neighbourhoods the respondent lives in), and published.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from incity.accounts.audit import Origin
from incity.accounts.models import User
from incity.surveys.definition import Element, FormDefinition
from incity.surveys.models import Form
from incity.surveys.services import forms as form_services

ORIGIN = Origin(channel="demo")
PROJECT_SLUG = "demo-survey"
FORM_ID = "dips_demo"
FORM_TITLE = "DiPS neighbourhood survey (synthetic demo)"
EN = "English (en)"
DE = "Deutsch (de)"
SV = "Svenska (sv)"
LANGUAGES = [EN, DE, SV]
# Short enough to answer in a quarter of an hour; identity and work stay in the library.
# Background questions come last, as in the module library's own order.
MODULES = [
    "housing",
    "neighbourhood",
    "safety",
    "connections",
    "participation",
    "services",
    "language",
    "background",
]
SUBMISSIONS_PER_SITE = 120
LEAD = "demo-lead"
RESEARCHER = "demo-researcher"
FIELDWORKER = "demo-fieldworker"
# Fieldwork window of the synthetic interviews (UTC).
FIELDWORK_START = datetime(2026, 9, 14, tzinfo=UTC)
FIELDWORK_DAYS = 45


# The survey compares three neighbourhoods, so it asks which one the respondent lives in:
# the dashboards break figures down by it (a choice question named *_neighbourhood).
NEIGHBOURHOOD_QUESTION = "home_neighbourhood"
NEIGHBOURHOOD_CHOICES = {
    "birmingham": "Demo Quarter, Birmingham (synthetic)",
    "bochum": "Demo-Viertel, Bochum (synthetic)",
    "gothenburg": "Demokvarteret, Gothenburg (synthetic)",
}


def with_neighbourhood_question(definition: FormDefinition) -> FormDefinition:
    """The composed definition with 'Which neighbourhood do you live in?' first in it."""
    question: Element = {
        "type": "select_one",
        "name": NEIGHBOURHOOD_QUESTION,
        "list_name": NEIGHBOURHOOD_QUESTION,
        "required": True,
        "label": {
            EN: "Which neighbourhood do you live in?",
            DE: "In welchem Viertel wohnen Sie?",
            SV: "I vilket kvarter bor du?",
        },
    }
    choices = [
        {"name": slug, "label": {EN: label, DE: label, SV: label}}
        for slug, label in NEIGHBOURHOOD_CHOICES.items()
    ]
    changed = copy.deepcopy(definition)
    changed["children"].insert(0, question)
    changed["choices"][NEIGHBOURHOOD_QUESTION] = choices  # type: ignore[assignment]
    return changed


def demo_form(lead: User) -> Form:
    """The demo form, created and published on the first load; found as it is after."""
    form = Form.objects.filter(project__slug=PROJECT_SLUG, form_id=FORM_ID).first()
    if form is None:
        form = form_services.create_form_from_modules(
            acting_user=lead,
            origin=ORIGIN,
            project_slug=PROJECT_SLUG,
            form_id=FORM_ID,
            title=FORM_TITLE,
            module_slugs=MODULES,
            languages=LANGUAGES,
            consent_required=True,
        )
    if not form.versions.exists():
        form_services.update_draft(
            acting_user=lead,
            origin=ORIGIN,
            form_pk=form.pk,
            definition=with_neighbourhood_question(form.draft),
        )
        form_services.publish_form(acting_user=lead, origin=ORIGIN, form_pk=form.pk)
        form.refresh_from_db()
    return form
