"""Every query is scoped to the caller's workspace: another workspace's ids answer 404 or an
empty list, never data, and writes through them change nothing."""

from __future__ import annotations

from typing import Any

from tests.api import expect
from tests.support import Api

SINCE = "2026-01-01T00:00:00Z"


def _mine(api: Api) -> dict[str, Any]:
    """A code, an unmanaged code, an event and an action attempt in `api`'s workspace."""
    created = api.ok(
        "/access_codes/create",
        device_id=api.devices["august"],
        code="4821",
        name="Mine",
        starts_at="2026-12-01T13:00:00Z",
        ends_at="2026-12-04T00:00:00Z",
        use_backup_access_code_pool=True,
    )
    unmanaged = api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=api.devices["august"],
        name="Found",
        code="5511",
    )["access_code"]
    api.advance()
    return {
        "code": created["access_code"],
        "attempt": created["action_attempt"],
        "unmanaged": unmanaged,
        "event": api.ok("/events/list", since=SINCE)["events"][0],
        "account": api.ok("/connected_accounts/list")["connected_accounts"][0],
    }


def test_another_workspaces_ids_are_not_found_on_reads(api: Api, other: Api) -> None:
    mine = _mine(api)
    device_id = api.devices["august"]
    code_id = mine["code"]["access_code_id"]
    reads = [
        ("/access_codes/get", {"access_code_id": code_id}, "access_code_not_found"),
        ("/access_codes/get", {"device_id": device_id, "code": "4821"}, "access_code_not_found"),
        (
            "/access_codes/unmanaged/get",
            {"access_code_id": mine["unmanaged"]["access_code_id"]},
            "access_code_not_found",
        ),
        ("/access_codes/generate_code", {"device_id": device_id}, "device_not_found"),
        ("/devices/get", {"device_id": device_id}, "device_not_found"),
        ("/devices/get", {"name": "August Front Door 1"}, None),
        ("/locks/get", {"device_id": device_id}, "device_not_found"),
        (
            "/connected_accounts/get",
            {"connected_account_id": mine["account"]["connected_account_id"]},
            "connected_account_not_found",
        ),
        (
            "/action_attempts/get",
            {"action_attempt_id": mine["attempt"]["action_attempt_id"]},
            "action_attempt_not_found",
        ),
        ("/events/get", {"event_id": mine["event"]["event_id"]}, "event_not_found"),
        ("/events/get", {"device_id": device_id}, "event_not_found"),
        ("/devices/simulate/list_device_codes", {"device_id": device_id}, "device_not_found"),
    ]
    for path, params, error_type in reads:
        response = other.http.get(path, params=params)
        if error_type is None:  # the other workspace has its own lock of this name
            assert response.json()["device"]["device_id"] == other.devices["august"]
        else:
            expect.error(response, 404, error_type)


def test_another_workspaces_ids_filter_lists_to_nothing(api: Api, other: Api) -> None:
    mine = _mine(api)
    device_id = api.devices["august"]
    lists = [
        ("/access_codes/list", {"device_id": device_id}, "access_codes"),
        (
            "/access_codes/list",
            {"access_code_ids": [mine["code"]["access_code_id"]]},
            "access_codes",
        ),
        ("/access_codes/list", {"search": "Mine"}, "access_codes"),
        ("/access_codes/unmanaged/list", {"device_id": device_id}, "access_codes"),
        ("/devices/list", {"device_ids": [device_id]}, "devices"),
        ("/locks/list", {"device_ids": [device_id]}, "locks"),
        (
            "/action_attempts/list",
            {"action_attempt_ids": [mine["attempt"]["action_attempt_id"]]},
            "action_attempts",
        ),
        ("/action_attempts/list", {"device_id": device_id}, "action_attempts"),
        ("/events/list", {"since": SINCE, "device_id": device_id}, "events"),
        ("/events/list", {"since": SINCE, "event_ids": [mine["event"]["event_id"]]}, "events"),
    ]
    for path, params, key in lists:
        assert other.ok(path, **params)[key] == [], (path, params)
    mine_ids = {d for d in api.devices.values()}
    theirs = other.ok("/devices/list")["devices"]
    assert len(theirs) == len(other.devices) and not mine_ids & {d["device_id"] for d in theirs}


def test_writes_through_another_workspaces_ids_change_nothing(api: Api, other: Api) -> None:
    mine = _mine(api)
    device_id = api.devices["august"]
    code_id = mine["code"]["access_code_id"]
    unmanaged_id = mine["unmanaged"]["access_code_id"]
    writes = [
        ("/access_codes/create", {"device_id": device_id, "code": "1357"}),
        ("/access_codes/create_multiple", {"device_ids": [other.devices["yale"], device_id]}),
        ("/access_codes/update", {"access_code_id": code_id, "name": "Stolen"}),
        ("/access_codes/delete", {"access_code_id": code_id}),
        ("/access_codes/pull_backup_access_code", {"access_code_id": code_id}),
        (
            "/access_codes/report_device_constraints",
            {"device_id": device_id, "supported_code_lengths": [6]},
        ),
        ("/access_codes/unmanaged/convert_to_managed", {"access_code_id": unmanaged_id}),
        ("/access_codes/unmanaged/update", {"access_code_id": unmanaged_id, "is_managed": True}),
        ("/access_codes/unmanaged/delete", {"access_code_id": unmanaged_id}),
        (
            "/access_codes/simulate/create_unmanaged_access_code",
            {"device_id": device_id, "name": "x", "code": "2468"},
        ),
        ("/devices/update", {"device_id": device_id, "name": "Stolen"}),
        ("/locks/simulate/keypad_code_entry", {"device_id": device_id, "code": "4821"}),
        ("/devices/simulate/disconnect", {"device_id": device_id}),
    ]
    events_before = api.ok("/events/list", since=SINCE)["events"]
    code_before = api.ok("/access_codes/get", access_code_id=code_id)["access_code"]
    for path, body in writes:
        response = other.post(path, **body)
        assert response.status_code == 404, (path, response.text)
    assert api.ok("/events/list", since=SINCE)["events"] == events_before
    assert other.ok("/access_codes/list", device_id=other.devices["yale"])["access_codes"] == []
    assert api.ok("/access_codes/get", access_code_id=code_id)["access_code"] == code_before
    device = api.ok("/devices/get", device_id=device_id)["device"]
    assert device["display_name"] == "August Front Door 1"
    assert device["properties"]["supported_code_lengths"] == [4, 5, 6]
    assert device["properties"]["online"] is True
    unmanaged = api.ok("/access_codes/unmanaged/get", access_code_id=unmanaged_id)
    assert unmanaged["access_code"]["status"] == "set"


def test_a_common_code_key_does_not_reach_into_another_workspace(api: Api, other: Api) -> None:
    api.ok(
        "/access_codes/create",
        device_id=api.devices["august"],
        code="4821",
        name="Mine",
        common_code_key="booking-17",
    )
    # Had the key crossed over, this would take PIN 4821 and collide with the code already there.
    other.ok("/access_codes/create", device_id=other.devices["august"], code="4821")
    theirs = other.ok(
        "/access_codes/create", device_id=other.devices["august"], common_code_key="booking-17"
    )["access_code"]
    assert theirs["code"] != "4821"
    other.ok("/access_codes/update_multiple", common_code_key="booking-17", name="Theirs")
    mine = api.ok("/access_codes/list", device_id=api.devices["august"])["access_codes"]
    assert [c["name"] for c in mine] == ["Mine"]


def test_a_page_cursor_shows_only_the_callers_codes(api: Api, other: Api) -> None:
    for pin in ("4821", "4932", "4043"):
        api.ok("/access_codes/create", device_id=api.devices["yale"], code=pin)
    other.ok("/access_codes/create", device_id=other.devices["yale"], code="4154")
    first = api.ok("/access_codes/list", search="4", limit=1)
    cursor = first["pagination"]["next_page_cursor"]
    assert cursor is not None
    page = other.ok("/access_codes/list", search="4", limit=1, page_cursor=cursor)
    assert [c["code"] for c in page["access_codes"]] == ["4154"]
