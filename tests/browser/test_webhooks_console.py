"""The console's webhooks page in a real browser: the delivery log, resending a delivery, and
an endpoint pinwarden disabled, saying why, enabled again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_console_browser import flash, sign_in
from tests.support import Api
from tests.webhooks.receiver import Receiver
from tests.workspaces import second_workspace

pytestmark = pytest.mark.browser


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The receiving application (tests/webhooks/receiver.py)."""
    with Receiver().running() as receiving:
        yield receiving


def _hook(api: Api, receiver: Receiver) -> str:
    hook = api.ok("/webhooks/create", url=receiver.url, event_types=["lock.access_denied"])
    receiver.secret = hook["webhook"]["secret"]
    return str(hook["webhook"]["webhook_id"])


def _denied(api: Api) -> None:
    api.ok("/locks/simulate/keypad_code_entry", device_id=api.devices["august"], code="9999")


def _one_delivery(api: Api, receiver: Receiver, status: int) -> None:
    """A webhook, and one event sent to it, answered with `status`."""
    _hook(api, receiver)
    receiver.status = status
    _denied(api)
    api.advance(1)


def test_an_operator_reads_the_delivery_log_and_resends_a_delivery(
    page: Page,
    sqlite_api: Api,
    receiver: Receiver,
) -> None:
    _one_delivery(sqlite_api, receiver, 503)
    sign_in(page, sqlite_api.api_key)
    page.get_by_role("link", name="Webhooks").click()
    log = page.get_by_role("table", name="Delivery log")
    expect(log).to_contain_text("HTTP 503")
    expect(log).to_contain_text("pending")
    receiver.status = 200
    log.get_by_role("button", name="Resend").click()
    expect(flash(page)).to_contain_text("Resending it now")
    sqlite_api.advance(0)
    page.reload()
    expect(log).to_contain_text("resent")
    expect(log).to_contain_text("succeeded")
    (delivered,) = receiver.received
    assert {d.webhook_id for d in receiver.refused} == {delivered.webhook_id}


def test_a_disabled_endpoint_says_why_and_is_enabled_again(
    page: Page,
    sqlite_api: Api,
    receiver: Receiver,
) -> None:
    webhook_id = _hook(sqlite_api, receiver)
    receiver.status = 500
    for _ in range(6):
        _denied(sqlite_api)
        sqlite_api.advance(86_400)
    sign_in(page, sqlite_api.api_key)
    page.goto("/console/webhooks")
    endpoint = (
        page.get_by_role("table", name="Endpoints").get_by_role("row").filter(has_text=receiver.url)
    )
    expect(endpoint).to_contain_text("disabled")
    expect(endpoint).to_contain_text("failed for 5 days")
    endpoint.get_by_role("button", name="Enable again").click()
    expect(flash(page)).to_contain_text("Enabled")
    expect(endpoint).to_contain_text("active")
    got = sqlite_api.ok("/webhooks/get", webhook_id=webhook_id)["webhook"]
    assert got["status"] == "active"


def test_another_workspace_sees_none_of_it(
    page: Page,
    sqlite_api: Api,
    receiver: Receiver,
) -> None:
    _one_delivery(sqlite_api, receiver, 200)
    with second_workspace(sqlite_api) as other:
        sign_in(page, other.api_key)
        page.goto("/console/webhooks")
        expect(page.get_by_text("This workspace has no webhooks")).to_be_visible()
        expect(page.get_by_text("Nothing sent yet.")).to_be_visible()
