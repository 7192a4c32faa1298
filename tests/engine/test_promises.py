"""The reconciler's promises, end to end over HTTP on the virtual clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.support import Api

DAY = 86400
HOUR = 3600


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def stay(
    api: Api, device: str, starts_in: timedelta, nights: int = 2, **extra: Any
) -> dict[str, Any]:
    start = api.now() + starts_in
    body = {
        "device_id": api.devices[device],
        "name": "Guest",
        "starts_at": iso(start),
        "ends_at": iso(start + timedelta(days=nights)),
        **extra,
    }
    return api.ok("/access_codes/create", **body)["access_code"]


def get(api: Api, code: dict[str, Any]) -> dict[str, Any]:
    return api.ok("/access_codes/get", access_code_id=code["access_code_id"])["access_code"]


def on_lock(api: Api, device: str) -> list[dict[str, Any]]:
    """What is physically on the lock, less the codes SmartThings keeps for itself."""
    slots = api.ok("/devices/simulate/list_device_codes", device_id=api.devices[device])[
        "device_codes"
    ]
    return [s for s in slots if not (s["name"] or "").startswith("SmartThings Code")]


def event_types(api: Api, code: dict[str, Any]) -> list[str]:
    events = api.ok(
        "/events/list", since="2000-01-01T00:00:00Z", access_code_id=code["access_code_id"]
    )["events"]
    return [e["event_type"] for e in events]


def issue_codes(code: dict[str, Any]) -> set[str]:
    return {i.get("error_code") or i["warning_code"] for i in code["errors"] + code["warnings"]}


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_native_lock_gets_code_at_the_programming_horizon_not_before(sqlite_api: Api) -> None:
    api = sqlite_api
    code = stay(api, "august", timedelta(days=20))
    api.advance(0)
    assert on_lock(api, "august") == []
    api.advance(11 * DAY - 60)  # 9 days + 1 minute before the stay
    assert on_lock(api, "august") == []
    api.advance(120)
    slots = on_lock(api, "august")
    assert [s["code"] for s in slots] == [code["code"]]
    assert parse(slots[0]["starts_at"]) == parse(code["starts_at"])
    fresh = get(api, code)
    assert fresh["status"] == "unset" and fresh["is_scheduled_on_device"] is True
    assert "access_code.scheduled_on_device" in event_types(api, code)


def test_code_is_set_at_its_start_and_removed_at_its_end(sqlite_api: Api) -> None:
    api = sqlite_api
    code = stay(api, "yale", timedelta(days=2), nights=3)
    api.advance(2 * DAY)
    assert get(api, code)["status"] == "set"
    assert "access_code.set_on_device" in event_types(api, code)
    api.advance(3 * DAY)
    assert on_lock(api, "yale") == []
    assert api.post("/access_codes/get", access_code_id=code["access_code_id"]).status_code == 404
    assert event_types(api, code)[-2:] == ["access_code.removed_from_device", "access_code.deleted"]


def test_just_in_time_lock_gets_code_an_hour_before_the_stay(sqlite_api: Api) -> None:
    api = sqlite_api
    code = stay(api, "smartthings", timedelta(days=5))
    api.advance(5 * DAY - 2 * HOUR)
    assert on_lock(api, "smartthings") == []
    api.advance(HOUR + 60)
    assert [s["code"] for s in on_lock(api, "smartthings")] == [code["code"]]
    assert get(api, code)["status"] == "set"


def test_keypad_opens_only_inside_the_window(sqlite_api: Api) -> None:
    api = sqlite_api
    code = stay(api, "august", timedelta(days=1), nights=1)
    api.advance(0)
    entry = {"device_id": api.devices["august"], "code": code["code"]}
    api.ok("/locks/simulate/keypad_code_entry", **entry)
    api.advance(DAY + 60)
    api.ok("/locks/simulate/keypad_code_entry", **entry)
    events = api.ok("/events/list", since="2000-01-01T00:00:00Z", device_id=api.devices["august"])[
        "events"
    ]
    kinds = [e["event_type"] for e in events if e["event_type"].startswith("lock.")]
    assert kinds == ["lock.access_denied", "lock.unlocked"]
    assert events[-1]["access_code_id"] == code["access_code_id"]


def test_full_lock_is_reported_three_days_ahead_on_a_just_in_time_lock(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["smartthings"]
    api.ok("/devices/simulate/set_faults", device_id=device, slot_capacity=4)
    api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=device,
        name="Cleaner",
        code="1357",
    )
    code = stay(api, "smartthings", timedelta(days=10))
    api.advance(7 * DAY - 60)
    fresh = get(api, code)
    errors = {e["error_code"]: e for e in fresh["errors"]}
    assert "smartthings_no_free_slots_available" in errors
    deadline = parse(code["starts_at"]) - timedelta(days=3)
    assert parse(errors["smartthings_no_free_slots_available"]["created_at"]) <= deadline
    assert errors["smartthings_no_free_slots_available"]["mitigation"]["action"] == "free_slots"


def test_freeing_a_slot_clears_the_error_and_the_code_lands(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["smartthings"]
    api.ok("/devices/simulate/set_faults", device_id=device, slot_capacity=4)
    cleaner = api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=device,
        name="Cleaner",
        code="1357",
    )["access_code"]
    code = stay(api, "smartthings", timedelta(days=10))
    api.advance(0)
    assert "smartthings_no_free_slots_available" in issue_codes(get(api, code))
    api.ok("/access_codes/unmanaged/delete", access_code_id=cleaner["access_code_id"])
    api.advance(0)
    assert issue_codes(get(api, code)) == set()
    api.advance(10 * DAY)
    assert get(api, code)["status"] == "set"


def test_code_changed_at_the_keypad_is_reset(sqlite_api: Api) -> None:
    api = sqlite_api
    code = api.ok(
        "/access_codes/create", device_id=api.devices["august"], name="Owner", code="2468"
    )["access_code"]
    api.advance(0)
    api.ok(
        "/access_codes/simulate/modify_external", access_code_id=code["access_code_id"], code="9999"
    )
    api.advance(0)
    fresh = get(api, code)
    assert "access_code.modified_external_to_seam" in event_types(api, code)
    assert [s["code"] for s in on_lock(api, "august")] == ["2468"]
    assert fresh["status"] == "set"
    assert issue_codes(fresh) == set()


def test_external_change_is_kept_when_allowed(sqlite_api: Api) -> None:
    api = sqlite_api
    code = api.ok(
        "/access_codes/create",
        device_id=api.devices["august"],
        name="Owner",
        code="2468",
        allow_external_modification=True,
    )["access_code"]
    api.advance(0)
    api.ok(
        "/access_codes/simulate/modify_external", access_code_id=code["access_code_id"], code="9999"
    )
    api.advance(0)
    assert [s["code"] for s in on_lock(api, "august")] == ["9999"]
    assert "external_modification_in_effect" in issue_codes(get(api, code))


def test_code_removed_at_the_lock_is_put_back(sqlite_api: Api) -> None:
    api = sqlite_api
    code = api.ok("/access_codes/create", device_id=api.devices["yale"], name="Owner", code="2468")[
        "access_code"
    ]
    api.advance(0)
    api.ok(
        "/access_codes/simulate/modify_external", access_code_id=code["access_code_id"], remove=True
    )
    api.advance(0)
    assert "access_code.deleted_external_to_seam" in event_types(api, code)
    assert [s["code"] for s in on_lock(api, "yale")] == ["2468"]


def test_offline_lock_gets_its_code_when_it_comes_back(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["august"]
    api.ok("/devices/simulate/disconnect", device_id=device)
    code = api.ok("/access_codes/create", device_id=device, name="Guest", code="4821")[
        "access_code"
    ]
    api.advance(0)
    fresh = get(api, code)
    assert "device_offline" in issue_codes(fresh)
    assert "august_lock_temporarily_offline" in issue_codes(fresh)
    api.ok("/devices/simulate/connect", device_id=device)
    api.advance(0)
    fresh = get(api, code)
    assert fresh["status"] == "set"
    assert issue_codes(fresh) == set()


def test_failed_set_is_retried_with_backoff_and_clears(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["yale"]
    api.ok("/devices/simulate/set_faults", device_id=device, fail_next_sets=2)
    code = api.ok("/access_codes/create", device_id=device, name="Guest", code="4821")[
        "access_code"
    ]
    api.advance(0)
    assert "failed_to_set_on_device" in issue_codes(get(api, code))
    api.advance(600)
    fresh = get(api, code)
    assert fresh["status"] == "set"
    assert issue_codes(fresh) == set()


def test_code_found_on_the_lock_becomes_unmanaged_and_can_be_converted(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["yale"]
    created = api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=device,
        name="Cleaner",
        code="1357",
    )["access_code"]
    api.advance(0)
    listed = api.ok("/access_codes/unmanaged/list", device_id=device)["access_codes"]
    assert [c["access_code_id"] for c in listed] == [created["access_code_id"]]
    api.ok("/access_codes/unmanaged/convert_to_managed", access_code_id=created["access_code_id"])
    api.advance(0)
    managed = api.ok("/access_codes/get", access_code_id=created["access_code_id"])["access_code"]
    assert managed["status"] == "set" and managed["code"] == "1357"
    assert api.ok("/access_codes/unmanaged/list", device_id=device)["access_codes"] == []


def test_code_created_inside_the_deadline_is_evaluated_at_once(sqlite_api: Api) -> None:
    api = sqlite_api
    code = stay(api, "igloohome", timedelta(days=1), code="1234")  # igloohome takes 6 digits
    api.advance(0)
    fresh = get(api, code)
    assert "failed_to_set_on_device" in issue_codes(fresh)
    assert any("supported_code_lengths" in e["message"] for e in fresh["errors"])


def test_slow_just_in_time_lock_gets_later_codes_earlier(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["smartthings"]
    api.ok("/devices/simulate/set_faults", device_id=device, programming_delay_seconds=90 * 60)
    first = stay(api, "smartthings", timedelta(days=1), nights=1, code="2468")
    second = stay(api, "smartthings", timedelta(days=3), nights=1, code="3579")
    api.advance(DAY + 60)
    assert get(api, first)["status"] != "set"  # 60 minutes ahead was not enough for this lock
    api.advance(6 * HOUR)
    assert get(api, first)["status"] == "set"
    # The lock showed how slow it is, so the next code went on it earlier and landed in time.
    api.advance((parse(second["starts_at"]) - api.now()).total_seconds() + 60)
    assert get(api, second)["status"] == "set"
    entry = api.ok("/locks/simulate/keypad_code_entry", device_id=device, code="3579")
    assert entry["action_attempt"]["result"]["access_code_id"] == second["access_code_id"]
