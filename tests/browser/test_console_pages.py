"""Every console page, at 1280 px and at 390 px: screenshots for CI, and no sideways scrolling
on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import VIEWPORTS, new_context, screenshot
from tests.browser.scenarios import (
    busy_workspace,
)
from tests.support import Api

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Busy:
    api: Api
    pages: dict[str, str]  # name: path


@pytest.fixture
def busy(sqlite_api: Api) -> Busy:
    return Busy(sqlite_api, busy_workspace(sqlite_api))


def sign_in(page: Page, api_key: str) -> None:
    page.goto("/console")
    page.get_by_label("API key").fill(api_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation")).to_be_visible()


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return int(
        page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - document.documentElement.clientWidth"
        )
    )


@pytest.fixture(params=list(VIEWPORTS))
def tab(request: pytest.FixtureRequest, browser: Browser, busy: Busy) -> Iterator[tuple[str, Page]]:
    context = new_context(browser, busy.api, request.param)
    yield request.param, context.new_page()
    context.close()


def test_every_page_fits_the_window_and_is_captured(tab: tuple[str, Page], busy: Busy) -> None:
    viewport, page = tab
    page.goto("/console")
    assert overflow(page) == 0, "the sign-in page scrolls sideways"
    screenshot(page, f"sign-in-{viewport}")
    sign_in(page, busy.api.api_key)
    wide = []
    for name, path in busy.pages.items():
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        assert page.title().endswith("· pinwarden")
        screenshot(page, f"{name}-{viewport}")
        if overflow(page) > 0:
            wide.append(f"{name} ({path}): {overflow(page)} px")
    assert wide == [], "pages wider than the window: " + "; ".join(wide)


def test_pages_carry_a_favicon(page: Page, busy: Busy) -> None:
    page.goto("/console")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon is not None
    response = page.request.get(icon)
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg")
