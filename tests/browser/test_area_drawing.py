"""Drawing an area in a real browser: an editor clicks a triangle on the map and saves it."""

from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings

from incity.accounts.models import Project, User
from incity.places.geometry import assign_area
from incity.places.models import Area, NamedPlace
from tests.personas import Cast
from tests.places.geo import riverton_areas

pytestmark = pytest.mark.browser
FIRST_LOAD_MS = 60_000
PAGE = "/places/projects/riverton-survey/"


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
def test_too_few_corners_are_named_and_nothing_is_saved(  # type: ignore[no-untyped-def]
    browser_page, live_server, cast: Cast
) -> None:
    riverton_areas(cast)
    page = browser_page
    _sign_in(page, live_server, cast.lead)
    page.goto(PAGE, timeout=FIRST_LOAD_MS)
    page.locator("[data-testid=places-map][data-ready=true]").wait_for()
    canvas = page.locator(".incity-map-canvas")
    canvas.click(position={"x": 60, "y": 60})
    canvas.click(position={"x": 160, "y": 60})
    page.locator("[data-testid=finish-area]").click()
    assert "at least 3 corners; 2 drawn" in page.locator(".incity-map-status").inner_text()
    page.fill("#area-name", "Two corners")
    page.locator("[data-testid=area-form] button[type=submit]").click()
    assert "Draw the area on the map" in page.locator("[data-testid=area-problem]").inner_text()
    assert not Area.objects.filter(name="Two corners").exists()


@override_settings(MAP_TILE_URL="")
def test_an_editor_draws_a_triangle_names_it_and_sees_it_in_the_table(  # type: ignore[no-untyped-def]
    browser_page, live_server, cast: Cast
) -> None:
    riverton_areas(cast)
    page = browser_page
    _sign_in(page, live_server, cast.lead)
    page.goto(PAGE, timeout=FIRST_LOAD_MS)
    holder = page.locator("[data-testid=places-map][data-ready=true]")
    holder.wait_for()
    assert page.locator("#places-map path.leaflet-interactive").count() == 2  # Riverton N and S
    canvas = page.locator(".incity-map-canvas")
    for x, y in ((80, 80), (240, 80), (160, 200)):
        canvas.click(position={"x": x, "y": y})
    page.locator("[data-testid=places-map][data-vertices='3']").wait_for()
    page.get_by_role("button", name="Undo the last corner").click()
    page.locator("[data-testid=places-map][data-vertices='2']").wait_for()
    canvas.click(position={"x": 160, "y": 200})
    page.locator("[data-testid=finish-area]").click()
    assert page.evaluate("document.activeElement.id") == "area-name"
    page.keyboard.type("Lamplight triangle")
    page.fill("#area-code", "LT")
    page.locator("[data-testid=area-form] button[type=submit]").click()
    row = page.locator("[data-testid=areas-table] tbody tr", has_text="Lamplight triangle")
    row.wait_for()
    assert "LT" in row.inner_text()
    area = Area.objects.get(name="Lamplight triangle")
    assert area.boundary is not None
    ring = area.boundary["coordinates"][0]
    assert len(ring) == 4
    assert cast.survey.areas.filter(pk=area.pk).exists()
    # Answers inside the triangle are assigned to it ("Lamplight..." sorts before "Riverton...",
    # so a point the triangle shares with Riverton North goes to the triangle too).
    centre = [sum(p[0] for p in ring[:3]) / 3, sum(p[1] for p in ring[:3]) / 3]
    project = Project.objects.get(pk=cast.survey.pk)
    assert assign_area(project, {"type": "Point", "coordinates": centre}) == area


@override_settings(MAP_TILE_URL="")
def test_an_editor_places_a_named_place_by_clicking_the_map(  # type: ignore[no-untyped-def]
    browser_page, live_server, cast: Cast
) -> None:
    riverton_areas(cast)
    page = browser_page
    _sign_in(page, live_server, cast.lead)
    page.goto(PAGE, timeout=FIRST_LOAD_MS)
    page.locator("[data-testid=places-map][data-ready=true]").wait_for()
    page.get_by_label("place the named place").check()
    page.locator(".incity-map-canvas").click(position={"x": 150, "y": 120})
    assert page.input_value("#place-lon") != ""
    assert page.input_value("#area-geometry") == ""  # the area drawing is left alone
    page.fill("#place-name", "Night bus stop")
    page.select_option("#place-kind", "service")
    page.locator("[data-testid=place-form] button[type=submit]").click()
    page.locator("[data-testid=places-table] tbody tr", has_text="Night bus stop").wait_for()
    place = NamedPlace.objects.get(name="Night bus stop")
    assert (
        str(place.lon) == page.locator("[data-testid=places-table] tbody tr td").nth(1).inner_text()
    )
