"""Fixtures for the OpenRosa tests: a clean lockout cache and the forms phones download."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from incity.surveys.definition import FormDefinition
from incity.surveys.models import Form
from incity.surveys.openrosa.auth import forget_verified_credentials
from incity.surveys.services import forms as form_services
from tests.personas import SYSTEM, Cast
from tests.surveys.forms import published_form

EN = "English (en)"


@pytest.fixture(autouse=True)
def _fresh_sign_ins() -> Iterator[None]:
    # Failed-sign-in counters and remembered sign-ins must not leak from one test to the next.
    cache.clear()
    forget_verified_credentials()
    yield
    cache.clear()
    forget_verified_credentials()


@pytest.fixture
def household(cast: Cast) -> Form:
    """The household test form (groups, a repeat, map marks), asking for consent."""
    return published_form(cast)


FIELD_FORM: FormDefinition = {
    "form_id": "field_walk",
    "title": "Field walk (synthetic test form)",
    "default_language": EN,
    "languages": [EN],
    "settings": {},
    "choices": {
        "feature": [
            {"name": "lights", "label": {EN: "Street lights"}},
            {"name": "bench", "label": {EN: "Benches"}},
            {"name": "trees", "label": {EN: "Trees"}},
        ],
        "kind": [
            {"name": "safe", "label": {EN: "Safe"}},
            {"name": "unsafe", "label": {EN: "Unsafe"}},
        ],
    },
    "children": [
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
        {"type": "deviceid", "name": "deviceid"},
        {
            "type": "group",
            "name": "street",
            "label": {EN: "The street"},
            "children": [
                {"type": "text", "name": "street_name", "label": {EN: "Street"}, "required": True},
                {
                    "type": "select_multiple",
                    "name": "features",
                    "list_name": "feature",
                    "label": {EN: "What is there?"},
                },
                {"type": "geopoint", "name": "spot", "label": {EN: "Where are you?"}},
            ],
        },
        {"type": "geotrace", "name": "route", "label": {EN: "The route walked"}},
        {"type": "geoshape", "name": "block", "label": {EN: "The block"}},
        {
            "type": "repeat",
            "name": "stops",
            "label": {EN: "Stops"},
            "children": [
                {"type": "integer", "name": "minutes", "label": {EN: "Minutes"}},
                {"type": "image", "name": "photo", "label": {EN: "Photo"}},
            ],
        },
        {"type": "image", "name": "overview", "label": {EN: "Overview photo"}},
        {
            "type": "map_marks",
            "name": "marks",
            "list_name": "kind",
            "parameters": "geometry=point",
            "label": {EN: "Mark places"},
        },
    ],
}


@pytest.fixture
def field_walk(cast: Cast) -> Form:
    """A form without consent, with every shape a phone sends: group, repeat, photos, geo."""
    form = form_services.create_form(
        acting_user=cast.researcher,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        definition=FIELD_FORM,
    )
    form_services.publish_form(acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk)
    form.refresh_from_db()
    return form
