"""A researcher starts an export in chromium, watches its progress bar fill and downloads it."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from incity.cli import main
from tests.exports.helpers import exportable
from tests.personas import PASSWORD, Cast

pytestmark = pytest.mark.browser


def _sign_in(page: Any, username: str) -> None:
    page.goto("/accounts/login/")
    form = page.locator("form:has(input[name=login])")
    form.locator("input[name=login]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("[type=submit]:not([form])").click()


def test_a_researcher_exports_a_form_and_downloads_the_file(
    browser_page: Any, cast: Cast, settings: Any, tmp_path: Path
) -> None:
    settings.EXPORTS_DIR = tmp_path / "exports"
    item = exportable(cast)
    page = browser_page
    # This machine may be busy; a slow first page is not what this test is about.
    page.set_default_timeout(60_000)
    page.set_default_navigation_timeout(60_000)
    _sign_in(page, "rami")
    page.goto(f"/exports/forms/{item.form.pk}/")
    page.get_by_label("Format").select_option("csv")
    page.get_by_label("Choice labels").check()
    with page.expect_navigation():
        page.get_by_test_id("start-export").click()

    entry = page.locator("[data-export-status]").first
    bar = entry.locator("progress")
    assert bar.get_attribute("aria-label").startswith("Progress of export")
    assert entry.locator("[data-role=state]").inner_text() == "Waiting to start"
    assert entry.locator("[data-role=download]").is_hidden()

    # The worker picks the job up; the page's polling moves the bar and shows the link.
    assert main(["worker", "--batch", "--interval", "0"]) == 0
    link = entry.locator("[data-role=download] a")
    link.wait_for(state="visible")
    assert bar.get_attribute("value") == "100"
    assert bar.get_attribute("aria-valuetext") == "3 of 3 submissions"
    assert entry.locator("[data-role=state]").inner_text() == "Ready"

    with page.expect_download() as download_info:
        link.click()
    saved = tmp_path / "download.zip"
    download_info.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        main_table = archive.read("household.csv").decode()
    assert "Private rent" in main_table
