"""Browser fixtures: Playwright driving Debian's chromium (never a downloaded browser).

Without /usr/bin/chromium (or $PINWARDEN_CHROMIUM) the browser tests skip on a workstation and
fail in CI (CI=true). Full-page screenshots go to artifacts/screenshots/ (or
$PINWARDEN_SCREENSHOTS), which CI keeps.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.console_client import console, other, signed_in  # noqa: F401 (fixtures)
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
SCREENSHOTS = Path(
    os.environ.get(
        "PINWARDEN_SCREENSHOTS", Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
    )
)
# (name, viewport): a desktop and a phone.
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


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


def new_context(browser: Browser, api: Api, viewport: str = "desktop") -> BrowserContext:
    context = browser.new_context(base_url=api.url, viewport=VIEWPORTS[viewport])  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def page(browser: Browser, sqlite_api: Api) -> Iterator[Page]:
    """A fresh browser tab (own cookies) pointed at the test server, 1280 px wide."""
    context = new_context(browser, sqlite_api)
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot kept as a CI artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
