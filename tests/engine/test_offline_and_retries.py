"""Offline locks, backoff and retries: a code on the lock stays set, a departed guest's code is
never reported as fine, retries never overflow or hide an issue, and a lock whose fault has
cleared gets its codes within the backoff ceiling."""

from __future__ import annotations

from datetime import timedelta

from tests.engine.test_promises import DAY, HOUR, event_types, get, issue_codes, on_lock, stay
from tests.support import Api

from pinwarden.engine.reconcile import backoff
from pinwarden.planner.types import Policy


def _disconnect(api: Api, brand: str) -> None:
    api.ok("/devices/simulate/disconnect", device_id=api.devices[brand])


def _connect(api: Api, brand: str) -> None:
    api.ok("/devices/simulate/connect", device_id=api.devices[brand])


def test_a_code_scheduled_on_a_lock_that_goes_offline_is_set_at_check_in(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    code = stay(api, "august", timedelta(days=5), code="4821")
    api.advance(HOUR)
    assert get(api, code)["is_scheduled_on_device"] is True
    _disconnect(api, "august")
    api.advance(5 * DAY + 60)  # past check-in, the lock still offline
    fresh = get(api, code)
    assert fresh["status"] == "set", fresh
    assert "failed_to_set_on_device" not in issue_codes(fresh)
    assert "device_communication_degraded" not in issue_codes(fresh)
    assert issue_codes(fresh) <= {"august_lock_temporarily_offline", "device_offline"}
    assert "access_code.failed_to_set_on_device" not in event_types(api, code)
    entry = api.ok(
        "/locks/simulate/keypad_code_entry", device_id=api.devices["august"], code="4821"
    )["action_attempt"]
    assert entry["result"]["unlocked"] is True


def test_check_out_on_an_offline_lock_is_removing_with_its_issue_until_it_is_back(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    code = stay(api, "smartthings", timedelta(hours=2), nights=1, code="4821")
    api.advance(2 * HOUR + 60)
    assert get(api, code)["status"] == "set"
    _disconnect(api, "smartthings")
    api.advance(DAY + 6 * HOUR)  # six hours after check-out
    fresh = get(api, code)
    assert fresh["status"] == "removing", fresh
    assert "delay_in_removing_from_device" in issue_codes(fresh)
    assert "4821" in [s["code"] for s in on_lock(api, "smartthings")]
    _connect(api, "smartthings")
    api.advance(HOUR)
    assert api.post("/access_codes/get", access_code_id=code["access_code_id"]).status_code == 404
    assert on_lock(api, "smartthings") == []


def test_backoff_stays_finite_after_thousands_of_attempts() -> None:
    policy = Policy()
    for attempts in (1, 10, 1024, 1025, 5000, 10**6):
        wait = backoff(policy, attempts, "lock")
        assert timedelta(0) < wait <= policy.retry_max * 1.2


def test_a_paused_lock_carries_the_breaker_itself_not_its_codes(sqlite_api: Api) -> None:
    api = sqlite_api
    code = stay(api, "yale", timedelta(days=1), code="4821")
    _disconnect(api, "yale")
    api.advance(2 * DAY)
    device = api.ok("/devices/get", device_id=api.devices["yale"])["device"]
    # The breaker's issue (Seam's device_communication_degraded) is the lock's own.
    assert "device_communication_degraded" in {w["warning_code"] for w in device["warnings"]}
    assert "device_communication_degraded" not in issue_codes(get(api, code))
    listed = api.ok("/access_codes/list", device_id=api.devices["yale"])["access_codes"]
    assert all("device_communication_degraded" not in issue_codes(c) for c in listed)


def test_retry_after_a_third_party_manager_is_disabled_acts_at_once(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["smartthings"]
    api.ok("/devices/simulate/set_faults", device_id=device, third_party_manager="rboy")
    code = api.ok("/access_codes/create", device_id=device, name="Guest", code="4821")[
        "access_code"
    ]
    api.advance(2 * HOUR)  # every write fails while the app fights over the lock
    before = get(api, code)
    (gave_up,) = [
        e
        for e in before["errors"]
        if e["error_code"] == "smartthings_failed_to_set_after_multiple_retries"
    ]
    # The owner disables the app and removes its code; pinwarden has stopped trying.
    api.ok("/devices/simulate/set_faults", device_id=device, third_party_manager=None)
    rboy = [
        c
        for c in api.ok("/access_codes/unmanaged/list", device_id=device)["access_codes"]
        if "RBoy" in (c["name"] or "")
    ]
    api.ok("/access_codes/unmanaged/delete", access_code_id=rboy[0]["access_code_id"])
    api.advance(HOUR)
    still = get(api, code)
    kept = [e for e in still["errors"] if e["error_code"] == gave_up["error_code"]]
    assert kept and kept[0]["created_at"] == gave_up["created_at"]  # not reset, not hidden
    api.ok("/access_codes/retry", access_code_id=code["access_code_id"])
    api.advance(0)
    fresh = get(api, code)
    assert fresh["status"] == "set", fresh
    assert fresh["errors"] == []
    assert [s["code"] for s in on_lock(api, "smartthings")] == ["4821"]


def test_a_code_lands_within_the_backoff_ceiling_after_a_fault_clears(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["yale"]
    api.ok("/devices/simulate/set_faults", device_id=device, programming_delay_seconds=-1)
    code = api.ok("/access_codes/create", device_id=device, name="Guest", code="4821")[
        "access_code"
    ]
    api.advance(14 * HOUR)  # the lock acknowledges every write and lands none
    assert get(api, code)["status"] == "setting"
    api.ok("/devices/simulate/set_faults", device_id=device, programming_delay_seconds=0)
    api.advance(Policy().retry_max.total_seconds() + 120)
    assert get(api, code)["status"] == "set"


def test_kwikset_backup_codes_fit_the_lock_and_never_loop(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["kwikset"]
    guest = stay(api, "kwikset", timedelta(days=2), use_backup_access_code_pool=True)
    other = stay(api, "kwikset", timedelta(days=2), nights=3)
    api.advance(DAY)
    # The pool's codes are on the lock, under names the lock takes.
    backups = [s for s in on_lock(api, "kwikset") if (s["name"] or "").startswith("Backup")]
    assert len(backups) == 2 and all(2 <= len(s["name"]) <= 14 for s in backups), backups
    changed = [
        e
        for e in api.ok("/events/list", since="2000-01-01T00:00:00Z", device_id=device)["events"]
        if e["event_type"] == "access_code.changed"
    ]
    assert changed == []  # no PIN regenerated
    pool = {"empty_backup_access_code_pool", "partial_backup_access_code_pool"}
    assert not issue_codes(get(api, other)) & pool
    assert not issue_codes(get(api, guest)) & pool
