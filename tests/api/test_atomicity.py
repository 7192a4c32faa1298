"""A request that fails leaves nothing behind: no code, no event, no action attempt, nothing
sent to a lock. Checked on both databases, since each rolls back its own way."""

from __future__ import annotations

from typing import Any

from tests.api import expect
from tests.support import Api

SINCE = "2026-01-01T00:00:00Z"


def _trace(api: Api) -> dict[str, Any]:
    """Everything a request could have written, as the API shows it."""
    codes = {
        brand: [
            c["access_code_id"] for c in api.ok("/access_codes/list", device_id=d)["access_codes"]
        ]
        for brand, d in api.devices.items()
    }
    return {
        "codes": codes,
        "events": [e["event_id"] for e in api.ok("/events/list", since=SINCE)["events"]],
        "attempts": [
            a["action_attempt_id"] for a in api.ok("/action_attempts/list")["action_attempts"]
        ],
    }


def _on_lock(api: Api, brand: str) -> list[str]:
    listed = api.ok("/devices/simulate/list_device_codes", device_id=api.devices[brand])
    return sorted(c["code"] for c in listed["device_codes"])


def test_a_409_leaves_no_code_no_event_and_no_action_attempt(api: Api) -> None:
    api.ok("/access_codes/create", device_id=api.devices["august"], code="4821")
    before = _trace(api)
    response = api.post("/access_codes/create", device_id=api.devices["august"], code="4821")
    expect.error(response, 409, "duplicate_access_code")
    assert _trace(api) == before
    api.advance()
    assert _on_lock(api, "august") == ["4821"]


def test_create_multiple_that_cannot_share_a_pin_creates_nothing(api: Api) -> None:
    before = _trace(api)
    response = api.http.put(
        "/access_codes/create_multiple",
        json={"device_ids": [api.devices["august"], api.devices["salto"]], "name": "Guest"},
    )
    expect.error(response, 400, "cannot_share_code")
    assert _trace(api) == before
    api.advance()
    assert _on_lock(api, "august") == []


def test_create_multiple_stopped_by_a_duplicate_on_its_last_device_creates_nothing(
    api: Api,
) -> None:
    api.ok("/access_codes/create", device_id=api.devices["yale"], code="4821")
    before = _trace(api)
    response = api.http.put(
        "/access_codes/create_multiple",
        json={"device_ids": [api.devices["august"], api.devices["yale"]], "code": "4821"},
    )
    expect.error(response, 409, "duplicate_access_code")
    assert _trace(api) == before
    api.advance()
    assert _on_lock(api, "august") == []


def test_a_refused_update_changes_nothing(api: Api) -> None:
    code = api.ok("/access_codes/create", device_id=api.devices["august"], code="4821", name="A")
    access_code_id = code["access_code"]["access_code_id"]
    api.ok("/access_codes/create", device_id=api.devices["august"], code="5932")
    before = _trace(api)
    response = api.post(
        "/access_codes/update", access_code_id=access_code_id, name="B", code="5932"
    )
    expect.error(response, 409, "duplicate_access_code")
    assert _trace(api) == before
    got = api.ok("/access_codes/get", access_code_id=access_code_id)["access_code"]
    assert (got["name"], got["code"]) == ("A", "4821")


def test_update_multiple_that_fails_on_one_device_changes_no_device(api: Api) -> None:
    first = {"starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-03T00:00:00Z"}
    linked = api.ok(
        "/access_codes/create_multiple",
        device_ids=[api.devices["august"], api.devices["yale"]],
        **first,
    )["access_codes"]
    pin, key = linked[0]["code"], linked[0]["common_code_key"]
    later = {"starts_at": "2026-12-05T00:00:00Z", "ends_at": "2026-12-06T00:00:00Z"}
    api.ok("/access_codes/create", device_id=api.devices["yale"], code=pin, **later)
    before = _trace(api)
    response = api.post("/access_codes/update_multiple", common_code_key=key, **later)
    expect.error(response, 409, "duplicate_access_code")
    assert _trace(api) == before
    for code in linked:
        got = api.ok("/access_codes/get", access_code_id=code["access_code_id"])["access_code"]
        assert got["starts_at"] == "2026-12-02T00:00:00.000Z"


def test_a_refused_conversion_to_managed_writes_nothing(sqlite_api: Api) -> None:
    unmanaged = sqlite_api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=sqlite_api.devices["kwikset"],
        name="Cleaner",
        code="4821",
    )["access_code"]
    before = _trace(sqlite_api)
    response = sqlite_api.post(
        "/access_codes/unmanaged/convert_to_managed", access_code_id=unmanaged["access_code_id"]
    )
    expect.error(response, 400, "unsupported_conversion")
    assert _trace(sqlite_api) == before
    still = sqlite_api.ok("/access_codes/unmanaged/get", access_code_id=unmanaged["access_code_id"])
    assert still["access_code"]["is_managed"] is False


def test_a_request_refused_for_bad_input_writes_nothing(sqlite_api: Api) -> None:
    before = _trace(sqlite_api)
    response = sqlite_api.http.put(
        "/access_codes/create_multiple",
        json={
            "device_ids": [sqlite_api.devices["august"], sqlite_api.devices["yale"]],
            "ends_at": "soon",
        },
    )
    expect.invalid(response, "ends_at")
    assert _trace(sqlite_api) == before
