"""The demo's public link for the DiPS demo form."""

from __future__ import annotations

import pytest
from django.test import override_settings

from incity.collect.models import PublicLink
from incity.demo.collect import load_demo_collection
from incity.errors import Conflict, Forbidden

pytestmark = pytest.mark.django_db


@override_settings(DEMO_MODE=False)
def test_the_demo_collection_refuses_to_load_outside_demo_mode() -> None:
    with pytest.raises(Forbidden):
        load_demo_collection()


@override_settings(DEMO_MODE=True)
def test_the_demo_collection_needs_the_demo_form() -> None:
    with pytest.raises(Conflict):
        load_demo_collection()
    assert not PublicLink.objects.exists()
