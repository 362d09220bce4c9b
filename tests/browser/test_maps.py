"""The map page in a real browser: a lead sees published hexagons and the table beside them."""

from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings

from incity.accounts.models import User
from tests.maps.fixtures import riverton_form
from tests.personas import Cast

pytestmark = pytest.mark.browser
FIRST_LOAD_MS = 60_000


def _sign_in(page, live_server, user: User) -> None:  # type: ignore[no-untyped-def]
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "incity.accounts.backends.IncityModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    page.context.add_cookies(
        [{"name": "sessionid", "value": session.session_key, "url": live_server.url}]
    )


@override_settings(MAP_TILE_URL="")
def test_a_lead_sees_hexagons_and_the_table_alternative(  # type: ignore[no-untyped-def]
    browser_page, live_server, cast: Cast
) -> None:
    form = riverton_form(cast)
    page = browser_page
    _sign_in(page, live_server, cast.lead)
    page.goto(f"/maps/forms/{form.pk}/?resolution=9", timeout=FIRST_LOAD_MS)
    page.locator("[data-testid=map][data-features='1']").wait_for()
    assert page.locator("#maps-map path.leaflet-interactive").count() == 1
    table = page.locator("[data-testid=cells-table] tbody tr")
    assert table.count() == 1
    assert "12" in table.first.inner_text()
    assert "at least 10 marks" in page.locator("[data-testid=disclosure-note]").inner_text()
    assert page.locator("[data-testid=map-downloads] a").count() == 4
    page.locator("[data-testid=embed-form] button").click()
    page.locator("[data-testid=iframe-code]").wait_for()
    assert "<iframe" in page.locator("[data-testid=iframe-code]").inner_text()


@override_settings(MAP_TILE_URL="")
def test_a_bad_filter_is_named_on_the_page(  # type: ignore[no-untyped-def]
    browser_page, live_server, cast: Cast
) -> None:
    form = riverton_form(cast)
    page = browser_page
    _sign_in(page, live_server, cast.viewer)
    page.goto(f"/maps/forms/{form.pk}/?time=dawn", timeout=FIRST_LOAD_MS)
    assert "'dawn' is not a time of day" in page.locator("[data-testid=map-problem]").inner_text()
