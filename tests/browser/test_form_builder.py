"""A researcher builds a form from modules in chromium, previews it and publishes version 1."""

from __future__ import annotations

import pytest

from incity.surveys.models import Form
from tests.personas import PASSWORD, Cast

pytestmark = pytest.mark.browser


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    form = page.locator("form:has(input[name=login])")
    form.locator("input[name=login]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("[type=submit]:not([form])").click()


def _click(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def test_a_researcher_builds_previews_and_publishes_a_form(browser_page, cast: Cast) -> None:
    page = browser_page
    _sign_in(page, "rami")

    page.goto("/projects/riverton-survey/")
    _click(page, page.get_by_test_id("project-forms"))
    _click(page, page.get_by_test_id("new-form"))
    page.get_by_label("Housing", exact=True).check()
    page.get_by_label("Safety and space", exact=True).check()
    page.get_by_label("Title").fill("Riverton neighbourhood survey")
    page.get_by_label("Form id").fill("riverton_2026")
    _click(page, page.get_by_role("button", name="Make the form"))

    assert page.locator("h1").inner_text().strip() == "Riverton neighbourhood survey"
    tree = page.get_by_test_id("tree")
    assert tree.locator("[data-element=housing]").is_visible()
    assert tree.locator("[data-element=safety]").is_visible()
    assert page.get_by_test_id("latest-version").inner_text().strip() == "not published"

    _click(page, page.get_by_test_id("preview-link"))
    respondent_form = page.get_by_test_id("respondent-form")
    assert respondent_form.get_attribute("dir") == "ltr"
    assert respondent_form.get_by_text("Who owns the home you live in?").is_visible()
    page.get_by_label("Language", exact=True).last.select_option("Deutsch (de)")
    _click(page, page.get_by_role("button", name="Show"))
    assert page.get_by_test_id("respondent-form").get_attribute("lang") == "de"
    page.go_back()
    page.go_back()

    _click(page, page.get_by_test_id("publish"))
    assert page.get_by_text("Version 1 is published").is_visible()
    assert page.get_by_test_id("latest-version").inner_text().strip() == "1"
    assert page.get_by_test_id("versions").get_by_role("rowheader", name="1").is_visible()
    assert Form.objects.get(form_id="riverton_2026").status == "open"
