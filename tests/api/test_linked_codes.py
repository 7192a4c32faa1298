"""Linked codes: create_multiple, update_multiple and `common_code_key`. Codes that share a key
always share their PIN; `behavior_when_code_cannot_be_shared` decides what happens to a lock
that cannot take the shared PIN."""

from __future__ import annotations

from typing import Any

from tests.api import expect
from tests.support import Api


def _multiple(api: Api, *brands: str, **body: Any) -> list[dict[str, Any]]:
    ids = [api.devices[b] for b in brands]
    codes: list[dict[str, Any]] = api.ok("/access_codes/create_multiple", device_ids=ids, **body)[
        "access_codes"
    ]
    assert [c["device_id"] for c in codes] == ids
    return codes


def test_create_multiple_gives_every_device_the_same_pin_and_key(sqlite_api: Api) -> None:
    codes = _multiple(sqlite_api, "august", "yale", "kwikset", "smartthings", name="Guest")
    assert len({c["code"] for c in codes}) == 1
    assert len({c["common_code_key"] for c in codes}) == 1
    assert codes[0]["common_code_key"] is not None
    assert all(c["name"] == "Guest" for c in codes)
    sqlite_api.advance()
    for brand in ("august", "yale"):
        on_lock = sqlite_api.ok(
            "/devices/simulate/list_device_codes", device_id=sqlite_api.devices[brand]
        )
        assert [c["code"] for c in on_lock["device_codes"]] == [codes[0]["code"]]


def test_the_shared_pin_has_a_length_every_device_takes(sqlite_api: Api) -> None:
    for preferred, expected in ((8, 4), (6, 6)):
        codes = _multiple(sqlite_api, "yale", "august", preferred_code_length=preferred)
        assert {len(c["code"]) for c in codes} == {expected}, preferred


def test_a_custom_pin_is_shared_but_not_linked_by_a_key(sqlite_api: Api) -> None:
    codes = _multiple(sqlite_api, "august", "yale", code="4821")
    assert [c["code"] for c in codes] == ["4821", "4821"]
    assert [c["common_code_key"] for c in codes] == [None, None]


def test_update_multiple_changes_every_code_with_the_key_and_no_other(api: Api) -> None:
    linked = _multiple(api, "august", "yale", name="Guest")
    other = api.ok("/access_codes/create", device_id=api.devices["august"], name="Cleaner")
    window = {"starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-03T00:00:00Z"}
    response = api.http.patch(
        "/access_codes/update_multiple",
        json={"common_code_key": linked[0]["common_code_key"], "name": "Guest 2", **window},
    )
    assert response.status_code == 200 and response.json() == {"ok": True}
    for code in linked:
        got = api.ok("/access_codes/get", access_code_id=code["access_code_id"])["access_code"]
        assert (got["name"], got["type"], got["starts_at"], got["ends_at"]) == (
            "Guest 2",
            "time_bound",
            "2026-12-02T00:00:00.000Z",
            "2026-12-03T00:00:00.000Z",
        )
    untouched = api.ok("/access_codes/get", access_code_id=other["access_code"]["access_code_id"])
    assert untouched["access_code"]["name"] == "Cleaner"


def test_update_multiple_validates_the_time_frame(sqlite_api: Api) -> None:
    linked = _multiple(sqlite_api, "august", "yale")
    response = sqlite_api.post(
        "/access_codes/update_multiple",
        common_code_key=linked[0]["common_code_key"],
        starts_at="2026-12-02T00:00:00Z",
    )
    expect.error(response, 400, "invalid_input")
    expect.invalid(sqlite_api.post("/access_codes/update_multiple", name="x"), "common_code_key")


def test_by_default_no_code_is_created_when_one_device_cannot_share(sqlite_api: Api) -> None:
    response = sqlite_api.http.put(
        "/access_codes/create_multiple",
        json={"device_ids": [sqlite_api.devices["august"], sqlite_api.devices["salto"]]},
    )
    err = expect.error(response, 400, "cannot_share_code")
    assert sqlite_api.devices["salto"] in err["message"]
    for brand in ("august", "salto"):
        listed = sqlite_api.ok("/access_codes/list", device_id=sqlite_api.devices[brand])
        assert listed["access_codes"] == []


def test_create_random_code_gives_an_unshareable_device_its_own_pin_and_no_key(
    sqlite_api: Api,
) -> None:
    august, yale, salto = _multiple(
        sqlite_api,
        "august",
        "yale",
        "salto",
        behavior_when_code_cannot_be_shared="create_random_code",
    )
    assert august["code"] == yale["code"] and august["common_code_key"] == yale["common_code_key"]
    assert august["common_code_key"] is not None
    assert salto["common_code_key"] is None
    assert salto["is_waiting_for_code_assignment"] is True


def test_create_random_code_covers_a_custom_pin_a_device_cannot_take(sqlite_api: Api) -> None:
    yale, august = _multiple(
        sqlite_api,
        "yale",
        "august",
        code="4821937",
        behavior_when_code_cannot_be_shared="create_random_code",
    )
    assert yale["code"] == "4821937"
    assert august["code"] != "4821937" and 4 <= len(august["code"]) <= 6


def test_a_new_code_with_an_existing_key_takes_that_keys_pin(sqlite_api: Api) -> None:
    linked = _multiple(sqlite_api, "august", "yale")
    key, pin = linked[0]["common_code_key"], linked[0]["code"]
    joined = sqlite_api.ok(
        "/access_codes/create", device_id=sqlite_api.devices["kwikset"], common_code_key=key
    )
    assert joined["access_code"]["code"] == pin
    assert joined["access_code"]["common_code_key"] == key


def test_codes_created_with_one_key_share_the_first_pin(sqlite_api: Api) -> None:
    first = sqlite_api.ok(
        "/access_codes/create", device_id=sqlite_api.devices["august"], common_code_key="stay-9"
    )["access_code"]
    second = sqlite_api.ok(
        "/access_codes/create", device_id=sqlite_api.devices["yale"], common_code_key="stay-9"
    )["access_code"]
    assert first["code"] == second["code"]
    assert first["common_code_key"] == second["common_code_key"] == "stay-9"
