"""The console in a real browser: an operator signs in, sees what is at risk and fixes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.scenarios import (
    duplicate_arrival,
    failing_arrival,
    get_code,
    slots_full_arrival,
    unconfirmable_removal,
    unmanaged_code,
)
from tests.support import Api

pytestmark = pytest.mark.browser


def sign_in(page: Page, api_key: str) -> None:
    page.goto("/console")
    page.get_by_label("API key").fill(api_key)
    page.get_by_role("button", name="Sign in").click()


def card(page: Page, guest: str) -> Locator:
    return page.get_by_role("article").filter(has=page.get_by_role("heading", name=guest))


def row(page: Page, name: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))


def flash(page: Page) -> Locator:
    return page.locator(".flash")


def test_wrong_api_key_shows_an_error_and_no_data(page: Page, sqlite_api: Api) -> None:
    sign_in(page, "seam_notakey_123")
    expect(page.get_by_role("alert")).to_have_text("That API key is not valid.")
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page.get_by_role("navigation")).to_have_count(0)


def test_all_clear_when_no_arrival_needs_attention(page: Page, sqlite_api: Api) -> None:
    sign_in(page, sqlite_api.api_key)
    expect(page.get_by_role("heading", name="Which arrivals are at risk?")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("All clear")


def test_slots_full_arrival_is_fixed_by_deleting_the_unmanaged_code(
    page: Page, sqlite_api: Api
) -> None:
    arrival, _ = slots_full_arrival(sqlite_api)
    sign_in(page, sqlite_api.api_key)

    guest = card(page, "Guest Smith")
    expect(guest).to_contain_text("SmartThings Front Door 1")
    expect(guest).to_contain_text(arrival["code"])
    expect(guest).to_contain_text("smartthings_no_free_slots_available")
    expect(guest).to_contain_text("Delete access codes you no longer need from this lock")
    expect(guest).to_contain_text("2026-12-03T12:00:01Z")

    guest.get_by_role("link", name="See this lock's codes").click()
    row(page, "Cleaner").get_by_role("link", name="Delete").click()
    expect(page.get_by_role("main")).to_contain_text("whoever uses it can no longer open the door")
    page.get_by_role("button", name="Delete from the lock").click()
    expect(flash(page)).to_contain_text("Deleting “Cleaner”")

    sqlite_api.advance(60)
    page.get_by_role("navigation").get_by_role("link", name="At risk").click()
    expect(page.get_by_role("status")).to_contain_text("All clear")
    assert get_code(sqlite_api, arrival["access_code_id"])["errors"] == []


def test_pull_backup_code_for_an_arrival_the_lock_refuses(page: Page, sqlite_api: Api) -> None:
    arrival = failing_arrival(sqlite_api, failures=20, backup_pool=True)
    sign_in(page, sqlite_api.api_key)

    guest = card(page, "Guest Jones")
    expect(guest).to_contain_text("failed_to_set_on_device")
    expect(guest).to_contain_text("pull a backup access code")
    guest.get_by_role("button", name="Pull backup code").click()

    expect(flash(page)).to_contain_text("Pulled a backup code for “Guest Jones”")
    backup_id = get_code(sqlite_api, arrival["access_code_id"])["pulled_backup_access_code_id"]
    backup_pin = get_code(sqlite_api, backup_id)["code"]
    guest = card(page, "Guest Jones")
    expect(guest.locator(".backup")).to_contain_text(f"PIN {backup_pin}")
    expect(guest.locator(".backup")).to_contain_text("give this PIN to the guest")
    expect(guest).to_contain_text("using_backup_access_code")
    expect(guest.get_by_role("button", name="Pull backup code")).to_have_count(0)


def test_retry_programs_an_arrival_once_the_lock_accepts_again(page: Page, sqlite_api: Api) -> None:
    arrival = failing_arrival(sqlite_api, failures=5)
    assert get_code(sqlite_api, arrival["access_code_id"])["errors"], "the lock gave up"
    sign_in(page, sqlite_api.api_key)

    card(page, "Guest Jones").get_by_role("button", name="Retry").click()
    expect(flash(page)).to_contain_text("Retrying “Guest Jones” now.")

    sqlite_api.advance(300)
    page.reload()
    expect(page.get_by_role("status")).to_contain_text("All clear")
    assert get_code(sqlite_api, arrival["access_code_id"])["is_scheduled_on_device"] is True


def test_deleting_the_unmanaged_duplicate_lets_the_arrival_be_set(
    page: Page, sqlite_api: Api
) -> None:
    arrival, _ = duplicate_arrival(sqlite_api)
    sign_in(page, sqlite_api.api_key)

    guest = card(page, "Guest Lee")
    expect(guest).to_contain_text("duplicate_code_on_device")
    expect(guest.get_by_role("link", name="Convert duplicate to managed")).to_be_visible()
    guest.get_by_role("link", name="Delete duplicate").click()
    page.get_by_role("button", name="Delete from the lock").click()
    expect(flash(page)).to_contain_text("Deleting “Old tenant”")

    sqlite_api.advance(300)
    page.reload()
    expect(page.get_by_role("status")).to_contain_text("All clear")
    assert get_code(sqlite_api, arrival["access_code_id"])["errors"] == []


def test_forget_a_removal_the_kwikset_lock_cannot_confirm(page: Page, sqlite_api: Api) -> None:
    code = unconfirmable_removal(sqlite_api)
    sign_in(page, sqlite_api.api_key)

    removals = page.get_by_role("region", name="Removals not yet confirmed")
    gone = card(page, "Gone")
    expect(removals).to_contain_text("Gone")
    expect(gone).to_contain_text("kwikset_unable_to_confirm_deletion")
    expect(gone).to_contain_text("Check in the lock maker's app that the code is gone")
    gone.get_by_role("link", name="Forget").click()
    expect(page.get_by_role("main")).to_contain_text("it keeps opening the door")
    page.get_by_role("button", name="Forget the code").click()

    expect(flash(page)).to_contain_text("Forgot “Gone”")
    expect(page.get_by_role("status").filter(has_text="All clear")).to_be_visible()
    missing = sqlite_api.post("/access_codes/get", access_code_id=code["access_code_id"])
    assert missing.status_code == 404


def test_convert_an_unmanaged_code_to_managed(page: Page, sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["yale"]
    unmanaged_code(sqlite_api, device_id, "Front desk", "8642")
    sqlite_api.advance(1)
    sign_in(page, sqlite_api.api_key)

    page.get_by_role("navigation").get_by_role("link", name="Devices").click()
    page.get_by_role("link", name="Yale Front Door 1").click()
    unmanaged = page.get_by_role("region", name="Unmanaged codes")
    row(page, "Front desk").get_by_role("link", name="Convert to managed").click()
    page.get_by_role("button", name="Convert to managed").click()

    expect(flash(page)).to_contain_text("“Front desk” is now managed by pinwarden.")
    expect(unmanaged).to_contain_text("No unmanaged codes on this lock.")
    managed = page.get_by_role("region", name="Managed codes")
    expect(managed.get_by_role("row").filter(has_text="Front desk")).to_contain_text("8642")


def test_create_a_code_then_delete_it(page: Page, sqlite_api: Api) -> None:
    sign_in(page, sqlite_api.api_key)
    page.goto(f"/console/devices/{sqlite_api.devices['august']}")
    page.get_by_label("Name", exact=True).fill("Walk-in")
    page.get_by_label("PIN").fill("97531")
    page.get_by_label("Starts at, UTC").fill("2026-12-02T15:00")
    page.get_by_label("Ends at, UTC").fill("2026-12-04T11:00")
    page.get_by_role("button", name="Create code").click()

    expect(flash(page)).to_contain_text("Created “Walk-in”")
    walk_in = row(page, "Walk-in")
    expect(walk_in).to_contain_text("97531")
    expect(walk_in).to_contain_text("2026-12-02T15:00:00Z")

    sqlite_api.advance(60)
    page.reload()
    walk_in.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("main")).to_contain_text("pinwarden removes PIN 97531")
    page.get_by_role("button", name="Delete code").click()
    expect(flash(page)).to_contain_text("Deleting “Walk-in”")
    expect(walk_in).to_contain_text("removing")

    sqlite_api.advance(60)
    page.reload()
    expect(walk_in).to_have_count(0)


def test_a_refused_form_shows_the_reason_and_keeps_what_was_typed(
    page: Page, sqlite_api: Api
) -> None:
    sign_in(page, sqlite_api.api_key)
    page.goto(f"/console/devices/{sqlite_api.devices['august']}")
    page.get_by_label("Name", exact=True).fill("Backwards")
    page.get_by_label("Starts at, UTC").fill("2026-12-04T11:00")
    page.get_by_label("Ends at, UTC").fill("2026-12-02T15:00")
    page.get_by_role("button", name="Create code").click()

    expect(page.get_by_role("alert")).to_contain_text("ends_at: must be after starts_at")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Backwards")


def test_sign_out_returns_to_the_sign_in_form(page: Page, sqlite_api: Api) -> None:
    sign_in(page, sqlite_api.api_key)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    page.goto("/console/events")
    expect(page.get_by_label("API key")).to_be_visible()


def test_after_converting_a_duplicate_a_new_pin_gets_the_guest_in(
    page: Page, sqlite_api: Api
) -> None:
    arrival, _ = duplicate_arrival(sqlite_api)
    sign_in(page, sqlite_api.api_key)

    card(page, "Guest Lee").get_by_role("link", name="Convert duplicate to managed").click()
    expect(page.get_by_role("main")).to_contain_text("It still has the same PIN as “Guest Lee”")
    page.get_by_role("button", name="Convert to managed").click()
    expect(flash(page)).to_contain_text("give “Guest Lee” another PIN")

    sqlite_api.advance(60)
    page.reload()
    guest = card(page, "Guest Lee")
    expect(guest.get_by_role("link", name="Delete “Old tenant”")).to_be_visible()
    guest.get_by_role("link", name="Change PIN").click()
    page.get_by_label("PIN").fill("7391")
    page.get_by_role("button", name="Save changes").click()
    expect(flash(page)).to_contain_text("Saved “Guest Lee”")

    sqlite_api.advance(300)
    page.reload()
    expect(page.get_by_role("status").filter(has_text="All clear")).to_be_visible()
    code = get_code(sqlite_api, arrival["access_code_id"])
    assert (code["code"], code["errors"]) == ("7391", [])
