"""Browser tests: Debian's chromium driven by Playwright's sync API against a live server.

They run with the rest of the suite (`pytest -m browser` picks them alone). Without
/usr/bin/chromium (apt-get install chromium) they are skipped with the reason printed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse
# the ORM calls the tests make (fixtures, assertions) as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Long enough for a cold chromium, short enough that a missing element fails quickly.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        reason = f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        print(f"\nSKIPPED: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def browser_page(browser, live_server, transactional_db: None) -> Iterator[object]:
    """A fresh page (own cookies) whose relative URLs go to the live server."""
    # The live server runs in this process, so it shares the locmem cache and its
    # failed-login counters and used TOTP codes.
    cache.clear()
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()
