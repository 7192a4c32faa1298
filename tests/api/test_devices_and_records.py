"""Devices, locks and connected accounts; the action attempts and events writes leave behind."""

from __future__ import annotations

from tests.api import expect
from tests.support import Api

SINCE = "2026-01-01T00:00:00Z"


def test_devices_list_and_locks_list_show_every_lock(sqlite_api: Api) -> None:
    devices = sqlite_api.ok("/devices/list")["devices"]
    locks = sqlite_api.ok("/locks/list")
    assert sorted(d["device_id"] for d in devices) == sorted(sqlite_api.devices.values())
    # Seam's SDKs read `devices` from /locks/list, its docs say `locks`: both are there.
    assert locks["devices"] == locks["locks"] == devices


def test_devices_list_filters_by_ids_type_and_search(api: Api) -> None:
    august, yale = api.devices["august"], api.devices["yale"]
    by_ids = api.ok("/devices/list", device_ids=[august, yale])["devices"]
    assert sorted(d["device_id"] for d in by_ids) == sorted([august, yale])
    assert api.ok("/devices/list", device_ids=[])["devices"] == []
    by_type = api.ok("/devices/list", device_type="kwikset_lock")["devices"]
    assert [d["device_id"] for d in by_type] == [api.devices["kwikset"]]
    by_search = api.ok("/devices/list", search="schlage front")["devices"]
    assert [d["device_id"] for d in by_search] == [api.devices["schlage"]]
    assert api.ok("/devices/list", search="%")["devices"] == []


def test_a_device_is_found_by_id_or_by_name(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["yale"]
    by_id = sqlite_api.ok("/devices/get", device_id=device_id)
    by_name = sqlite_api.ok("/devices/get", name="Yale Front Door 1")
    as_lock = sqlite_api.ok("/locks/get", device_id=device_id)
    assert by_id["device"] == by_name["device"] == as_lock["device"] == as_lock["lock"]
    expect.invalid(sqlite_api.http.get("/devices/get"), "device_id")


def test_renaming_a_device_sets_its_display_name_and_null_clears_it(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["august"]
    sqlite_api.ok("/devices/update", device_id=device_id, name="Back door")
    renamed = sqlite_api.ok("/devices/get", device_id=device_id)["device"]
    assert (renamed["display_name"], renamed["nickname"]) == ("Back door", "Back door")
    sqlite_api.ok("/devices/update", device_id=device_id, properties={"name": "Garage"})
    assert sqlite_api.ok("/devices/get", device_id=device_id)["device"]["display_name"] == "Garage"
    sqlite_api.ok("/devices/update", device_id=device_id, name=None)
    cleared = sqlite_api.ok("/devices/get", device_id=device_id)["device"]
    assert cleared["display_name"] == "August Front Door 1" and "nickname" not in cleared


def test_custom_metadata_takes_strings_and_booleans(api: Api) -> None:
    device_id = api.devices["august"]
    metadata = {"unit": "12B", "cleaned": True, "gone": None}
    api.ok("/devices/update", device_id=device_id, custom_metadata=metadata)
    got = api.ok("/devices/get", device_id=device_id)["device"]["custom_metadata"]
    assert got == {"unit": "12B", "cleaned": True}
    too_many = {f"k{n}": "v" for n in range(51)}
    for bad in (too_many, {"unit": 12}, {"unit": "x" * 501}):
        expect.invalid(
            api.post("/devices/update", device_id=device_id, custom_metadata=bad),
            "custom_metadata",
        )


def test_a_device_cannot_be_unmanaged(sqlite_api: Api) -> None:
    response = sqlite_api.post(
        "/devices/update", device_id=sqlite_api.devices["august"], is_managed=False
    )
    expect.invalid(response, "is_managed")


def test_connected_accounts_are_listed_and_found_by_id(sqlite_api: Api) -> None:
    accounts = sqlite_api.ok("/connected_accounts/list")["connected_accounts"]
    assert len(accounts) == len(sqlite_api.devices)
    device = sqlite_api.ok("/devices/get", device_id=sqlite_api.devices["yale"])["device"]
    got = sqlite_api.ok(
        "/connected_accounts/get", connected_account_id=device["connected_account_id"]
    )["connected_account"]
    assert got in accounts and got["display_name"].startswith("Yale")
    expect.error(
        sqlite_api.post("/connected_accounts/get", email="host@example.com"),
        404,
        "connected_account_not_found",
    )


def test_every_write_returns_a_finished_action_attempt_that_can_be_read_back(
    sqlite_api: Api,
) -> None:
    device_id = sqlite_api.devices["august"]
    created = sqlite_api.ok("/access_codes/create", device_id=device_id, code="4821")
    access_code_id = created["access_code"]["access_code_id"]
    updated = sqlite_api.ok("/access_codes/update", access_code_id=access_code_id, name="Guest")
    deleted = sqlite_api.ok("/access_codes/delete", access_code_id=access_code_id)
    attempts = [created["action_attempt"], updated["action_attempt"], deleted["action_attempt"]]
    assert [a["action_type"] for a in attempts] == [
        "CREATE_ACCESS_CODE",
        "UPDATE_ACCESS_CODE",
        "DELETE_ACCESS_CODE",
    ]
    assert created["action_attempt"]["result"]["access_code"] == created["access_code"]
    assert updated["action_attempt"]["result"]["access_code"]["name"] == "Guest"
    for attempt in attempts:
        assert (attempt["status"], attempt["error"]) == ("success", None)
        got = sqlite_api.ok("/action_attempts/get", action_attempt_id=attempt["action_attempt_id"])
        assert got["action_attempt"] == attempt
    listed = sqlite_api.ok("/action_attempts/list", device_id=device_id)["action_attempts"]
    assert [a["action_attempt_id"] for a in listed] == [a["action_attempt_id"] for a in attempts]
    some = sqlite_api.ok(
        "/action_attempts/list", action_attempt_ids=[attempts[1]["action_attempt_id"]]
    )["action_attempts"]
    assert some == [attempts[1]]


def test_events_record_a_codes_life_in_order(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["august"]
    code = sqlite_api.ok("/access_codes/create", device_id=device_id, code="4821")["access_code"]
    sqlite_api.advance()
    sqlite_api.ok("/access_codes/delete", access_code_id=code["access_code_id"])
    sqlite_api.advance()
    events = sqlite_api.ok("/events/list", since=SINCE, access_code_id=code["access_code_id"])[
        "events"
    ]
    kinds = [e["event_type"] for e in events]
    assert kinds[0] == "access_code.created" and "access_code.set_on_device" in kinds
    assert kinds[-1] == "access_code.deleted"
    for event in events:
        assert event["device_id"] == device_id and event["workspace_id"] == sqlite_api.workspace_id
        assert event["connected_account_id"]


def test_events_list_filters_by_type_time_and_ids(api: Api) -> None:
    device_id = api.devices["august"]
    api.ok("/access_codes/create", device_id=device_id, code="4821")
    api.advance(60)
    api.ok("/access_codes/create", device_id=api.devices["yale"], code="5932")
    created = api.ok("/events/list", since=SINCE, event_type="access_code.created")["events"]
    assert len(created) == 2
    late = api.ok("/events/list", since="2026-12-01T12:00:30Z", event_types=["access_code.created"])
    assert [e["device_id"] for e in late["events"]] == [api.devices["yale"]]
    before = api.ok("/events/list", between=["2026-12-01T11:00:00Z", "2026-12-01T11:59:59Z"])
    assert before["events"] == []
    window = api.ok(
        "/events/list",
        between=["2026-12-01T11:00:00Z", "2026-12-01T12:00:10Z"],
        event_type="access_code.created",
    )
    assert [e["device_id"] for e in window["events"]] == [device_id]
    picked = api.ok("/events/list", since=SINCE, event_ids=[created[1]["event_id"]])["events"]
    assert picked == [created[1]]
    assert api.ok("/events/list", since=SINCE, event_ids=[])["events"] == []
    limited = api.ok("/events/list", since=SINCE, limit=1, unstable_offset=1)["events"]
    assert len(limited) == 1


def test_an_event_is_found_by_id_or_as_the_latest_of_a_type(sqlite_api: Api) -> None:
    sqlite_api.ok("/access_codes/create", device_id=sqlite_api.devices["august"], code="4821")
    sqlite_api.ok("/access_codes/create", device_id=sqlite_api.devices["yale"], code="5932")
    events = sqlite_api.ok("/events/list", since=SINCE)["events"]
    first = sqlite_api.ok("/events/get", event_id=events[0]["event_id"])["event"]
    assert first == events[0]
    latest = sqlite_api.ok("/events/get", event_type="access_code.created")["event"]
    assert latest["device_id"] == sqlite_api.devices["yale"]
    expect.invalid(sqlite_api.http.get("/events/get"), "event_id")


def test_a_wrong_pin_at_the_keypad_records_access_denied_with_a_reason(sqlite_api: Api) -> None:
    sqlite_api.ok(
        "/locks/simulate/keypad_code_entry", device_id=sqlite_api.devices["august"], code="9999"
    )
    denied = sqlite_api.ok("/events/get", event_type="lock.access_denied")["event"]
    assert denied["reason"]["reason_code"] == "unknown_code"
    assert denied["reason"]["message"]


def test_filters_on_things_pinwarden_does_not_have_match_nothing(sqlite_api: Api) -> None:
    august = sqlite_api.devices["august"]
    sqlite_api.ok("/access_codes/create", device_id=august, code="4821")
    sqlite_api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=august,
        name="Cleaner",
        code="5511",
    )
    grant = "3b1cbe0a-0000-4000-8000-000000000000"
    empty = [
        ("/access_codes/list", {"device_id": august, "customer_key": "c-1"}, "access_codes"),
        ("/access_codes/list", {"device_id": august, "access_grant_id": grant}, "access_codes"),
        ("/access_codes/list", {"access_grant_key": "g-1"}, "access_codes"),
        (
            "/access_codes/unmanaged/list",
            {"device_id": august, "user_identifier_key": "u-1"},
            "access_codes",
        ),
        ("/devices/list", {"space_id": grant}, "devices"),
        ("/devices/list", {"customer_key": "c-1"}, "devices"),
        ("/locks/list", {"connect_webview_id": grant}, "locks"),
        ("/connected_accounts/list", {"user_identifier_key": "u-1"}, "connected_accounts"),
        ("/events/list", {"since": SINCE, "access_grant_id": grant}, "events"),
        ("/events/list", {"since": SINCE, "space_ids": [grant]}, "events"),
    ]
    for path, params, key in empty:
        assert sqlite_api.ok(path, **params)[key] == [], (path, params)
    # Seam's serializer writes null as `key=`: no filter at all.
    null = sqlite_api.http.get(f"/access_codes/list?device_id={august}&customer_key=")
    assert len(null.json()["access_codes"]) == 1


def test_devices_list_filters_by_capability_flags(sqlite_api: Api) -> None:
    every = sorted(sqlite_api.devices.values())
    online = sqlite_api.ok("/devices/list", include_if=["can_program_online_access_codes"])
    assert sorted(d["device_id"] for d in online["devices"]) == every
    assert sqlite_api.ok("/devices/list", exclude_if=["can_simulate_removal"])["devices"] == []
    assert sqlite_api.ok("/devices/list", include_if=["can_remotely_unlock"])["devices"] == []
    query = sqlite_api.http.get("/devices/list", params={"exclude_if": "can_remotely_unlock"})
    assert sorted(d["device_id"] for d in query.json()["devices"]) == every


def test_devices_list_filters_by_custom_metadata(sqlite_api: Api) -> None:
    yale, august = sqlite_api.devices["yale"], sqlite_api.devices["august"]
    sqlite_api.ok("/devices/update", device_id=yale, custom_metadata={"unit": "4", "pets": True})
    sqlite_api.ok("/devices/update", device_id=august, custom_metadata={"unit": "5"})
    by_body = sqlite_api.ok("/devices/list", custom_metadata_has={"unit": "4"})["devices"]
    assert [d["device_id"] for d in by_body] == [yale]
    # The SDKs put nested objects in the query as dot paths.
    by_query = sqlite_api.http.get("/devices/list?custom_metadata_has.pets=true&_strict=true")
    assert [d["device_id"] for d in by_query.json()["devices"]] == [yale]
    assert sqlite_api.ok("/devices/list", custom_metadata_has={"unit": "6"})["devices"] == []


def test_connected_accounts_can_be_searched(sqlite_api: Api) -> None:
    found = sqlite_api.ok("/connected_accounts/list", search="kwikset")["connected_accounts"]
    assert [a["display_name"] for a in found] == ["Kwikset (sandbox)"]
    assert sqlite_api.ok("/connected_accounts/list", search="%")["connected_accounts"] == []
