"""Browser fixtures: Playwright driving Debian's chromium (never a downloaded browser).

Without /usr/bin/chromium (or $PINWARDEN_CHROMIUM) the browser tests skip on a workstation and
fail in CI (CI=true).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support import Api

CHROMIUM = Path(os.environ.get("PINWARDEN_CHROMIUM", "/usr/bin/chromium"))
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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"Debian's chromium is needed at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, sqlite_api: Api) -> Iterator[Page]:
    """A fresh browser tab (own cookies) pointed at the test server."""
    context = browser.new_context(base_url=sqlite_api.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()
