"""The controls every page carries: skip link, language switcher, organisation switcher."""

from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from incity.accounts.models import User
from tests.personas import Cast

pytestmark = pytest.mark.browser


def _sign_in_without_the_form(page, live_server, user: User) -> None:
    """Give the browser a session cookie for `user`, as Client.force_login does."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "incity.accounts.backends.IncityModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    page.context.add_cookies(
        [{"name": "sessionid", "value": session.session_key, "url": live_server.url}]
    )


def _active_element(page) -> dict[str, str]:
    return page.evaluate(
        "() => ({tag: document.activeElement.tagName.toLowerCase(),"
        " id: document.activeElement.id,"
        " href: document.activeElement.getAttribute('href') || ''})"
    )


def _on_screen(box: dict[str, float] | None) -> bool:
    if box is None or box["width"] <= 1 or box["height"] <= 1:
        return False
    return box["x"] + box["width"] > 0 and box["y"] + box["height"] > 0


def _submit_form_of(page, control_selector: str) -> None:
    form = page.locator(f"form:has({control_selector})")
    with page.expect_navigation():
        form.locator("[type=submit]").click()


def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(
    browser_page, live_server, cast: Cast
) -> None:
    page = browser_page
    _sign_in_without_the_form(page, live_server, cast.researcher)
    page.goto("/")

    page.keyboard.press("Tab")
    first_stop = _active_element(page)
    page.keyboard.press("Enter")

    assert first_stop == {"tag": "a", "id": "", "href": "#main"}
    assert page.locator("a[href='#main']").is_visible()
    assert _active_element(page)["id"] == "main"
    assert page.evaluate("() => document.activeElement.tagName") == "MAIN"


def test_the_skip_link_is_hidden_until_it_has_focus(browser_page, live_server, cast: Cast) -> None:
    page = browser_page
    _sign_in_without_the_form(page, live_server, cast.researcher)
    page.goto("/")
    skip_link = page.locator("a[href='#main']")

    box_before = skip_link.bounding_box()
    page.keyboard.press("Tab")
    box_focused = skip_link.bounding_box()

    # Hidden visually (off-screen or clipped) until focused, then on screen.
    assert not _on_screen(box_before)
    assert _on_screen(box_focused)


def test_the_sign_in_page_has_the_skip_link_as_its_first_tab_stop(browser_page) -> None:
    page = browser_page
    page.goto("/accounts/login/")

    page.keyboard.press("Tab")

    assert _active_element(page)["href"] == "#main"


def test_switching_the_language_to_deutsch_changes_the_page_language(
    browser_page, live_server, cast: Cast
) -> None:
    page = browser_page
    _sign_in_without_the_form(page, live_server, cast.researcher)
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"

    page.select_option("select[name=language]", "de")
    _submit_form_of(page, "select[name=language]")

    assert page.locator("html").get_attribute("lang") == "de"
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "de"


def test_the_organisation_switcher_changes_the_current_organisation(
    browser_page, live_server, cast: Cast
) -> None:
    page = browser_page
    _sign_in_without_the_form(page, live_server, cast.researcher)
    page.goto("/")
    switcher = page.locator("select[name=organisation]")
    options = switcher.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert sorted(options) == ["northgate-university", "riverton"]
    before = switcher.input_value()
    other = next(slug for slug in options if slug != before)

    switcher.select_option(other)
    _submit_form_of(page, "select[name=organisation]")

    assert page.locator("select[name=organisation]").input_value() == other
    page.goto("/")
    assert page.locator("select[name=organisation]").input_value() == other


def test_a_single_organisation_member_gets_no_organisation_switcher(
    browser_page, live_server, cast: Cast
) -> None:
    page = browser_page
    _sign_in_without_the_form(page, live_server, cast.viewer)

    page.goto("/")

    assert page.locator("select[name=organisation]").count() == 0
