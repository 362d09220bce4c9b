"""Fixtures for the frameworks tests: a custom framework and crosswalk owned by Riverton."""

from __future__ import annotations

import pytest

from incity.frameworks import services
from incity.frameworks.models import Crosswalk, Framework
from tests.personas import SYSTEM, Cast


@pytest.fixture
def riverton_plan(cast: Cast) -> Framework:
    """Riverton's own strategy: one heading with one domain, made by the operator."""
    framework = services.create_custom_framework(
        acting_user=None,
        origin=SYSTEM,
        slug="riverton-plan",
        name="Riverton welcome plan",
        owner=cast.riverton,
    )
    services.add_framework_item(
        acting_user=None,
        origin=SYSTEM,
        framework=framework,
        slug="welcome",
        name="Welcome",
        kind="heading",
    )
    services.add_framework_item(
        acting_user=None,
        origin=SYSTEM,
        framework=framework,
        slug="belonging",
        name="Belonging",
        kind="domain",
        parent_slug="welcome",
        definition="Feeling at home in Riverton.",
    )
    return framework


@pytest.fixture
def riverton_crosswalk(cast: Cast, riverton_plan: Framework) -> Crosswalk:
    return services.create_crosswalk(
        acting_user=None,
        origin=SYSTEM,
        slug="riverton-plan-to-ioi",
        name="Riverton plan to IoI",
        from_framework="riverton-plan",
        to_framework="ioi-2019",
        owner=cast.riverton,
    )
