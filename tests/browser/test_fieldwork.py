"""The fieldwork page in a real browser: a lead sees the map and the table beside it, by keyboard."""

from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings

from incity.accounts.models import User
from tests.fieldwork.fixtures import Field, field

pytestmark = pytest.mark.browser
FIRST_LOAD_MS = 60_000

__all__ = ["field"]


def _sign_in(page, live_server, user: User) -> None:  # type: ignore[no-untyped-def]
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "incity.accounts.backends.IncityModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    page.context.add_cookies(
        [{"name": "sessionid", "value": session.session_key, "url": live_server.url}]
    )


def _open_fieldwork(page) -> None:  # type: ignore[no-untyped-def]
    # The live server's first request warms Django up, which can outlast the default timeout.
    page.goto("/fieldwork/riverton-survey/", timeout=FIRST_LOAD_MS)
    page.locator("[data-testid=fieldwork-map][data-ready=true]").wait_for()


def _focused_testid_or_tag(page) -> str:  # type: ignore[no-untyped-def]
    return str(
        page.evaluate(
            "() => { const e = document.activeElement;"
            " const box = e.closest('[data-testid]');"
            " return (box && box.dataset.testid) || e.tagName.toLowerCase(); }"
        )
    )


# Tiles would come from the internet; the tests have none, and the map must not need them.
@override_settings(MAP_TILE_URL="/static/no-tiles/{z}/{x}/{y}.png")
def test_a_lead_sees_the_map_with_points_and_the_table_alternative(
    browser_page, live_server, field: Field
) -> None:
    page = browser_page
    _sign_in(page, live_server, field.cast.lead)

    _open_fieldwork(page)

    assert page.locator("#fieldwork-map .leaflet-interactive").count() == 4
    assert page.locator("[data-testid=map-table] tbody tr").count() == 4
    assert page.get_by_role("heading", name="Where collection happened").is_visible()
    assert page.locator("[data-testid=arrivals] tbody tr").count() == 5


@override_settings(MAP_TILE_URL="/static/no-tiles/{z}/{x}/{y}.png")
def test_a_viewer_sees_hexagons_not_points(browser_page, live_server, field: Field) -> None:
    page = browser_page
    _sign_in(page, live_server, field.cast.viewer)

    _open_fieldwork(page)

    assert page.locator("#fieldwork-map path.leaflet-interactive").count() == 1
    assert page.locator("[data-testid=map-table] tbody tr").count() == 1
    assert page.locator("[data-testid=arrivals]").count() == 0


@override_settings(MAP_TILE_URL="/static/no-tiles/{z}/{x}/{y}.png")
def test_the_form_filter_the_map_and_its_table_are_reachable_by_keyboard(
    browser_page, live_server, field: Field
) -> None:
    page = browser_page
    _sign_in(page, live_server, field.cast.lead)
    _open_fieldwork(page)

    reached: set[str] = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.add(_focused_testid_or_tag(page))
        if page.evaluate("() => document.activeElement.id") == "fieldwork-form":
            reached.add("form-filter")

    assert "form-filter" in reached
    assert "fieldwork-map" in reached

    page.focus("#fieldwork-form")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "form=walk" in page.url
