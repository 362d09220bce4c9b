"""A city lead opens a demo-like dashboard in chromium, reads a chart as a table by keyboard
and downloads the table behind it as CSV."""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.dashboards.data import demo_like_form
from tests.personas import PASSWORD, TOTP_SECRET, Cast

pytestmark = pytest.mark.browser


def _sign_in_with_two_factor(page: Any, username: str) -> None:
    page.goto("/accounts/login/")
    form = page.locator("form:has(input[name=login])")
    form.locator("input[name=login]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("[type=submit]:not([form])").click()
    if 30 - time.time() % 30 < 3:  # do not type a code in its last seconds
        time.sleep(3.1)
    code = page.locator("form input[name=code]")
    code.fill(pyotp.TOTP(TOTP_SECRET).now())
    with page.expect_navigation():
        code.press("Enter")


def test_a_lead_reads_a_chart_as_a_table_by_keyboard_and_downloads_its_csv(
    browser_page: Any, cast: Cast, tmp_path: Path
) -> None:
    form = demo_like_form(cast, count=60)
    page = browser_page
    # This machine may be busy; a slow first page is not what this test is about.
    page.set_default_timeout(90_000)
    page.set_default_navigation_timeout(90_000)
    _sign_in_with_two_factor(page, "lena")
    page.goto(f"/dashboards/forms/{form.pk}/")

    panel = page.get_by_test_id("panel-domain-scores")
    chart = panel.locator("svg[role=img]")
    table = panel.get_by_test_id("table-domain-scores")
    assert chart.is_visible()
    assert table.is_hidden()
    assert "Domain scores" in chart.locator("title").text_content()
    assert chart.get_attribute("aria-labelledby") == "domain-scores-title domain-scores-desc"

    toggle = page.get_by_test_id("toggle-domain-scores")
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-pressed") == "true"
    assert table.is_visible()
    assert chart.is_hidden()
    assert table.locator("th[scope=col]").first.inner_text() == "domain"
    page.keyboard.press("Space")
    assert chart.is_visible()
    assert table.is_hidden()

    with page.expect_download() as download_info:
        panel.get_by_test_id("csv-domain-scores").click()
    saved = tmp_path / "scores.csv"
    download_info.value.save_as(saved)
    assert download_info.value.suggested_filename == "dips_like-domain-scores.csv"
    with saved.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["domain", "score (0-100)", "95% interval low", "95% interval high"]
    assert len(rows) > 3
