"""Every console page, at 1280 px and at 390 px: screenshots for CI, and no sideways scrolling
on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from pinwarden.service import auth
from pinwarden.service.sandbox import seed_sandbox_devices
from tests.browser.conftest import VIEWPORTS, new_context, screenshot
from tests.browser.scenarios import busy_workspace, create_code
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


def test_the_calendar_stays_legible_at_56_locks(browser: Browser, sqlite_api: Api) -> None:
    deps = sqlite_api.runtime.deps
    workspace_id = auth.create_workspace(deps, "Big portfolio")
    key = auth.create_api_key(deps, workspace_id)
    seed_sandbox_devices(deps, workspace_id, per_brand=8)
    headers = {"Authorization": f"Bearer {key.token}"}
    with httpx.Client(base_url=sqlite_api.url, headers=headers, timeout=30) as http:
        big = Api(sqlite_api.url, key.token, workspace_id, {}, sqlite_api.runtime, http)
        device_ids = [d["device_id"] for d in big.ok("/devices/list")["devices"]]
        assert len(device_ids) == 56
        for n, device_id in enumerate(device_ids):
            create_code(big, device_id, f"Guest {n}", days=1 + n % 10)
    for viewport in VIEWPORTS:
        context = new_context(browser, sqlite_api, viewport)
        page = context.new_page()
        sign_in(page, key.token)
        page.goto("/console/calendar")
        expect(page.locator(".cal-lock")).to_have_count(56)
        screenshot(page, f"calendar-56-locks-{viewport}")
        assert overflow(page) == 0
        # Each lock keeps its own row, tall enough to read, and every stay is drawn.
        heights = page.locator("svg.strip").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().height)"
        )
        assert min(heights) >= 30
        assert page.locator("svg.bar").count() == 56
        sizes = page.locator("svg.bar text").evaluate_all(
            "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))"
        )
        assert min(sizes) >= 11
        context.close()
