"""Signing in through the real form in chromium, with and without two-factor."""

from __future__ import annotations

import time

import pyotp
import pytest

from incity.accounts import services
from tests.personas import PASSWORD, SYSTEM, TOTP_SECRET, Cast

pytestmark = pytest.mark.browser


def _fill_sign_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    form = page.locator("form:has(input[name=login])")
    form.locator("input[name=login]").fill(username)
    form.locator("input[name=password]").fill(password)
    # A button with a form= attribute (allauth's Cancel) belongs to another form.
    with page.expect_navigation():
        form.locator("[type=submit]:not([form])").click()


def _path(page) -> str:
    return "/" + page.url.split("/", 3)[3]


def _is_signed_in(page) -> bool:
    # The API answers with the browser's own session cookie.
    return page.request.get("/api/v1/me").status == 200


def test_a_wrong_password_shows_the_error_and_stays_signed_out(browser_page, cast: Cast) -> None:
    page = browser_page

    _fill_sign_in(page, "rami", "not the password")

    assert _path(page) == "/accounts/login/"
    error = page.get_by_text("The username and/or password you specified are not correct.")
    assert error.is_visible()
    assert not _is_signed_in(page)


def test_without_synthetic_organisations_there_is_no_synthetic_banner(
    browser_page, cast: Cast
) -> None:
    page = browser_page

    _fill_sign_in(page, "rami", PASSWORD)

    assert _path(page) == "/"
    assert page.locator("[data-testid=synthetic-banner]").count() == 0


def test_a_researcher_signs_in_and_sees_home_with_the_synthetic_banner(
    browser_page, cast: Cast
) -> None:
    services.create_organisation(
        acting_user=None,
        origin=SYSTEM,
        slug="demo-town",
        name="Demo Town",
        kind="city",
        is_synthetic=True,
    )
    page = browser_page

    _fill_sign_in(page, "rami", PASSWORD)

    assert _path(page) == "/"
    assert page.locator("h1").first.inner_text().strip()
    assert _is_signed_in(page)
    assert page.locator("[data-testid=synthetic-banner]").is_visible()


def test_a_staff_member_completes_two_factor_with_a_totp_code(browser_page, cast: Cast) -> None:
    page = browser_page
    _fill_sign_in(page, "lena", PASSWORD)
    assert _path(page) == "/accounts/2fa/authenticate/"
    assert not _is_signed_in(page)
    if 30 - time.time() % 30 < 3:  # do not type a code in its last seconds
        time.sleep(3.1)

    code = page.locator("form input[name=code]")
    code.fill(pyotp.TOTP(TOTP_SECRET).now())
    with page.expect_navigation():
        code.press("Enter")

    assert _path(page) == "/"
    assert _is_signed_in(page)
