"""The thirteen error codes of the founding document, each end to end over HTTP.

Every scenario books a stay 10 days out on a sandbox lock of the right brand, injects a
realistic cause, and checks that the code carries the issue (error or warning, as the catalog
says) with `created_at` no later than 3 days before the stay, with its mitigation; then it
removes the cause and checks that the issue clears and the code ends up where it should be.
Run them alone with `pytest -k seed_codes`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support import Api

pytestmark = pytest.mark.seed_codes

DAY, HOUR = 86400, 3600


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Stay:
    """A guest's code for a stay 10 days out, and the checks every scenario makes."""

    def __init__(self, api: Api, brand: str, **extra: Any) -> None:
        self.api = api
        self.brand = brand
        self.device_id = api.devices[brand]
        start = api.now() + timedelta(days=10)
        self.starts_at = start
        body = {
            "device_id": self.device_id,
            "name": "Guest",
            "starts_at": iso(start),
            "ends_at": iso(start + timedelta(days=3)),
            **extra,
        }
        self.code = api.ok("/access_codes/create", **body)["access_code"]
        self.id = self.code["access_code_id"]

    @property
    def deadline(self) -> datetime:
        return self.starts_at - timedelta(days=3)

    def get(self) -> dict[str, Any]:
        return self.api.ok("/access_codes/get", access_code_id=self.id)["access_code"]

    def faults(self, **faults: Any) -> None:
        self.api.ok("/devices/simulate/set_faults", device_id=self.device_id, **faults)

    def until_deadline(self) -> None:
        self.api.advance((self.deadline - self.api.now()).total_seconds())

    def issue(self, code: str, kind: str) -> dict[str, Any]:
        """The issue on the code now; it must have been raised by the deadline."""
        fresh = self.get()
        key = "error_code" if kind == "error" else "warning_code"
        found = [
            i for i in fresh["errors" if kind == "error" else "warnings"] if i.get(key) == code
        ]
        assert found, f"{code} not on the code: {fresh['errors']} {fresh['warnings']}"
        issue = found[0]
        assert parse(issue["created_at"]) <= self.deadline
        assert issue["message"]
        assert set(issue["mitigation"]) == {"action", "automatic", "description"}
        return issue

    def codes_on_lock(self) -> list[str]:
        slots = self.api.ok("/devices/simulate/list_device_codes", device_id=self.device_id)
        return [s["code"] for s in slots["device_codes"]]

    def cleared_and_on_lock(self, code: str, *, within: float = HOUR) -> None:
        """After the cause is gone: the issue clears (within `within` seconds, without anyone
        asking) and the code works at check-in."""
        self.api.advance(within)
        fresh = self.get()
        assert code not in {
            i.get("error_code") or i.get("warning_code")
            for i in fresh["errors"] + fresh["warnings"]
        }
        self.api.advance((self.starts_at - self.api.now()).total_seconds() + 60)
        fresh = self.get()
        assert fresh["status"] == "set", fresh
        assert fresh["errors"] == []
        assert fresh["code"] in self.codes_on_lock()
        entry = self.api.ok(
            "/locks/simulate/keypad_code_entry", device_id=self.device_id, code=fresh["code"]
        )["action_attempt"]
        assert entry["result"]["access_code_id"] == self.id


def after_programming(stay: Stay, inject: Callable[[], None]) -> None:
    """Let the lock take the code at the 9-day horizon, then inject the cause."""
    stay.api.advance(DAY + HOUR)
    assert stay.get()["is_scheduled_on_device"] is True
    inject()


def test_seed_codes_failed_to_set_on_device(sqlite_api: Api) -> None:
    stay = Stay(sqlite_api, "yale")
    stay.faults(fail_next_sets=1000)
    stay.until_deadline()
    issue = stay.issue("failed_to_set_on_device", "error")
    assert issue["mitigation"]["action"] == "pull_backup_access_code"
    stay.faults(fail_next_sets=0)
    stay.cleared_and_on_lock("failed_to_set_on_device")


def test_seed_codes_failed_to_remove_from_device(sqlite_api: Api) -> None:
    api = sqlite_api
    stay = Stay(api, "august", code="4821")
    after_programming(stay, lambda: stay.faults(fail_next_removes=1000))
    api.ok("/access_codes/delete", access_code_id=stay.id)
    stay.until_deadline()
    stay.issue("failed_to_remove_from_device", "error")
    assert stay.get()["status"] == "removing"
    assert "4821" in stay.codes_on_lock()
    stay.faults(fail_next_removes=0)
    api.advance(2 * HOUR)
    assert api.post("/access_codes/get", access_code_id=stay.id).status_code == 404
    assert "4821" not in stay.codes_on_lock()


def test_seed_codes_code_modified_external_to_seam(sqlite_api: Api) -> None:
    api = sqlite_api
    stay = Stay(api, "august", code="4821")

    def someone_changes_it_at_the_keypad() -> None:
        stay.faults(fail_next_sets=1000)  # and the lock refuses writes for a while
        api.ok("/access_codes/simulate/modify_external", access_code_id=stay.id, code="7391")

    after_programming(stay, someone_changes_it_at_the_keypad)
    stay.until_deadline()
    issue = stay.issue("code_modified_external_to_seam", "error")
    assert issue["change_type"] == "modified"
    assert issue["mitigation"] == {
        **issue["mitigation"],
        "action": "reset_access_code",
        "automatic": True,
    }
    stay.faults(fail_next_sets=0)
    stay.cleared_and_on_lock("code_modified_external_to_seam")
    assert stay.codes_on_lock() == ["4821"]


def test_seed_codes_august_device_programming_delay(sqlite_api: Api) -> None:
    stay = Stay(sqlite_api, "august")
    stay.faults(programming_delay_seconds=-1)
    stay.until_deadline()
    issue = stay.issue("august_device_programming_delay", "warning")
    assert issue["mitigation"]["action"] == "check_connectivity"
    stay.faults(programming_delay_seconds=0)
    # Resends to a slow lock are spaced out (at most 16 h apart), so it lands on its own ...
    stay.cleared_and_on_lock("august_device_programming_delay", within=DAY)


def test_seed_codes_retry_resends_at_once_after_a_programming_delay(sqlite_api: Api) -> None:
    stay = Stay(sqlite_api, "august")
    stay.faults(programming_delay_seconds=-1)
    stay.until_deadline()
    stay.issue("august_device_programming_delay", "warning")
    stay.faults(programming_delay_seconds=0)
    # ... and the mitigation's Retry sends it again now.
    sqlite_api.ok("/access_codes/retry", access_code_id=stay.id)
    stay.cleared_and_on_lock("august_device_programming_delay", within=60)


def test_seed_codes_august_device_slots_full(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["august"]
    api.ok("/devices/simulate/set_faults", device_id=device, slot_capacity=2)
    others = [
        api.ok(
            "/access_codes/simulate/create_unmanaged_access_code",
            device_id=device,
            name=f"Staff {n}",
            code=f"13{n}7",
        )["access_code"]
        for n in range(2)
    ]
    stay = Stay(api, "august")
    stay.until_deadline()
    stay.issue("august_device_slots_full", "error")
    api.ok("/access_codes/unmanaged/delete", access_code_id=others[0]["access_code_id"])
    stay.cleared_and_on_lock("august_device_slots_full")


def test_seed_codes_august_lock_bad_access_code_format(sqlite_api: Api) -> None:
    api = sqlite_api
    stay = Stay(api, "august", code="12345678")  # August takes 4 to 6 digits
    stay.until_deadline()
    issue = stay.issue("august_lock_bad_access_code_format", "error")
    assert "supported_code_lengths" in issue["message"]
    api.ok("/access_codes/update", access_code_id=stay.id, code="482193")
    stay.cleared_and_on_lock("august_lock_bad_access_code_format")


def test_seed_codes_august_lock_temporarily_offline(sqlite_api: Api) -> None:
    api = sqlite_api
    stay = Stay(api, "august")
    api.ok("/devices/simulate/disconnect", device_id=stay.device_id)
    stay.until_deadline()
    stay.issue("august_lock_temporarily_offline", "warning")
    assert "device_offline" in {e["error_code"] for e in stay.get()["errors"]}
    api.ok("/devices/simulate/connect", device_id=stay.device_id)
    stay.cleared_and_on_lock("august_lock_temporarily_offline")


def test_seed_codes_duplicate_code_on_device(sqlite_api: Api) -> None:
    api = sqlite_api
    stay = Stay(api, "yale", code="4821")
    handyman = api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=stay.device_id,
        name="Handyman",
        code="4821",
    )["access_code"]
    stay.until_deadline()
    issue = stay.issue("duplicate_code_on_device", "error")
    assert issue["unmanaged_access_code_id"] == handyman["access_code_id"]
    api.ok("/access_codes/unmanaged/delete", access_code_id=handyman["access_code_id"])
    stay.cleared_and_on_lock("duplicate_code_on_device")


def test_seed_codes_salto_site_user_not_subscribed(sqlite_api: Api) -> None:
    stay = Stay(sqlite_api, "salto")
    stay.faults(site_user_limit=0)
    stay.until_deadline()
    stay.issue("salto_site_user_not_subscribed", "error")
    stay.faults(site_user_limit=None)
    stay.cleared_and_on_lock("salto_site_user_not_subscribed")


def test_seed_codes_smartthings_failed_to_set_after_multiple_retries(sqlite_api: Api) -> None:
    api = sqlite_api
    stay = Stay(api, "smartthings")
    stay.faults(third_party_manager="rboy")
    stay.until_deadline()
    issue = stay.issue("smartthings_failed_to_set_after_multiple_retries", "error")
    assert "RBoy" in issue["message"]
    assert issue["mitigation"]["action"] == "disable_third_party_manager"
    device = api.ok("/devices/get", device_id=stay.device_id)["device"]
    assert "third_party_integration_detected" in {w["warning_code"] for w in device["warnings"]}
    # The owner disables RBoy Apps and deletes the code it wrote.
    stay.faults(third_party_manager=None)
    rboy = [
        c
        for c in api.ok("/access_codes/unmanaged/list", device_id=stay.device_id)["access_codes"]
        if "RBoy" in (c["name"] or "")
    ]
    api.ok("/access_codes/unmanaged/delete", access_code_id=rboy[0]["access_code_id"])
    stay.cleared_and_on_lock("smartthings_failed_to_set_after_multiple_retries")


def test_seed_codes_smartthings_no_free_slots_available(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["smartthings"]
    api.ok("/devices/simulate/set_faults", device_id=device, slot_capacity=4)  # 3 are its own
    cleaner = api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=device,
        name="Cleaner",
        code="1357",
    )["access_code"]
    stay = Stay(api, "smartthings")
    stay.until_deadline()
    issue = stay.issue("smartthings_no_free_slots_available", "error")
    assert "3 codes of its own" in issue["mitigation"]["description"]
    api.ok("/access_codes/unmanaged/delete", access_code_id=cleaner["access_code_id"])
    stay.cleared_and_on_lock("smartthings_no_free_slots_available")


def test_seed_codes_kwikset_unable_to_confirm_code(sqlite_api: Api) -> None:
    stay = Stay(sqlite_api, "kwikset")
    stay.faults(unconfirmable_sets=True)
    stay.until_deadline()
    issue = stay.issue("kwikset_unable_to_confirm_code", "error")
    assert issue["mitigation"]["action"] == "change_pin"
    stay.faults(unconfirmable_sets=False)
    stay.cleared_and_on_lock("kwikset_unable_to_confirm_code", within=DAY)


def test_seed_codes_kwikset_unable_to_confirm_deletion(sqlite_api: Api) -> None:
    api = sqlite_api
    stay = Stay(api, "kwikset", code="4821")
    after_programming(stay, lambda: stay.faults(unconfirmable_removes=True))
    api.ok("/access_codes/delete", access_code_id=stay.id)
    stay.until_deadline()
    issue = stay.issue("kwikset_unable_to_confirm_deletion", "error")
    assert issue["mitigation"]["action"] == "force_forget"
    stay.faults(unconfirmable_removes=False)
    api.advance(DAY)
    assert api.post("/access_codes/get", access_code_id=stay.id).status_code == 404
    assert "4821" not in stay.codes_on_lock()
