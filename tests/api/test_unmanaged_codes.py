"""Unmanaged codes: found on a lock, listed apart, converted to managed, or deleted."""

from __future__ import annotations

from typing import Any

from tests.api import expect
from tests.support import Api


def _found(api: Api, brand: str = "august", code: str = "5511") -> dict[str, Any]:
    body = api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=api.devices[brand],
        name="Cleaner",
        code=code,
    )
    found: dict[str, Any] = body["access_code"]
    return found


def test_a_code_found_on_the_lock_is_listed_as_unmanaged_only(sqlite_api: Api) -> None:
    found = _found(sqlite_api)
    assert (found["is_managed"], found["status"], found["code"]) == (False, "set", "5511")
    device_id = sqlite_api.devices["august"]
    unmanaged = sqlite_api.ok("/access_codes/unmanaged/list", device_id=device_id)
    assert [c["access_code_id"] for c in unmanaged["access_codes"]] == [found["access_code_id"]]
    assert sqlite_api.ok("/access_codes/list", device_id=device_id)["access_codes"] == []
    expect.error(
        sqlite_api.post("/access_codes/get", access_code_id=found["access_code_id"]),
        404,
        "access_code_not_found",
    )
    by_pin = sqlite_api.ok("/access_codes/unmanaged/get", device_id=device_id, code="5511")
    assert by_pin["access_code"]["access_code_id"] == found["access_code_id"]


def test_unmanaged_list_needs_a_device_and_searches_within_it(sqlite_api: Api) -> None:
    found = _found(sqlite_api)
    _found(sqlite_api, code="6622")
    expect.invalid(sqlite_api.http.get("/access_codes/unmanaged/list"), "device_id")
    listed = sqlite_api.ok(
        "/access_codes/unmanaged/list", device_id=sqlite_api.devices["august"], search="551"
    )
    assert [c["access_code_id"] for c in listed["access_codes"]] == [found["access_code_id"]]


def test_convert_to_managed_makes_the_code_managed(sqlite_api: Api) -> None:
    found = _found(sqlite_api)
    response = sqlite_api.http.patch(
        "/access_codes/unmanaged/convert_to_managed",
        json={"access_code_id": found["access_code_id"], "allow_external_modification": True},
    )
    assert response.status_code == 200 and response.json()["ok"] is True
    managed = sqlite_api.ok("/access_codes/get", access_code_id=found["access_code_id"])
    code = managed["access_code"]
    assert (code["is_managed"], code["code"], code["is_external_modification_allowed"]) == (
        True,
        "5511",
        True,
    )
    expect.error(
        sqlite_api.post("/access_codes/unmanaged/get", access_code_id=found["access_code_id"]),
        404,
        "access_code_not_found",
    )
    sqlite_api.advance()
    on_lock = sqlite_api.ok(
        "/devices/simulate/list_device_codes", device_id=sqlite_api.devices["august"]
    )
    assert [c["code"] for c in on_lock["device_codes"]] == ["5511"], "taken over, not re-set"


def test_unmanaged_update_with_is_managed_true_converts(sqlite_api: Api) -> None:
    found = _found(sqlite_api)
    sqlite_api.ok(
        "/access_codes/unmanaged/update", access_code_id=found["access_code_id"], is_managed=True
    )
    assert sqlite_api.ok("/access_codes/get", access_code_id=found["access_code_id"])[
        "access_code"
    ]["is_managed"]


def test_unmanaged_update_cannot_unmanage(sqlite_api: Api) -> None:
    found = _found(sqlite_api)
    response = sqlite_api.post(
        "/access_codes/unmanaged/update", access_code_id=found["access_code_id"], is_managed=False
    )
    err = expect.invalid(response, "is_managed")
    assert "/access_codes/update" in err["message"]
    expect.invalid(
        sqlite_api.post("/access_codes/unmanaged/update", access_code_id=found["access_code_id"]),
        "is_managed",
    )


def test_update_with_is_managed_false_hands_a_code_back(sqlite_api: Api) -> None:
    created = sqlite_api.ok(
        "/access_codes/create", device_id=sqlite_api.devices["august"], code="4821"
    )["access_code"]
    sqlite_api.advance()
    sqlite_api.ok(
        "/access_codes/update", access_code_id=created["access_code_id"], is_managed=False
    )
    got = sqlite_api.ok("/access_codes/unmanaged/get", access_code_id=created["access_code_id"])
    assert got["access_code"]["is_managed"] is False
    sqlite_api.advance()
    on_lock = sqlite_api.ok(
        "/devices/simulate/list_device_codes", device_id=sqlite_api.devices["august"]
    )
    assert [c["code"] for c in on_lock["device_codes"]] == ["4821"], "left on the lock"


def test_deleting_an_unmanaged_code_removes_it_from_the_lock(sqlite_api: Api) -> None:
    found = _found(sqlite_api)
    response = sqlite_api.http.delete(
        "/access_codes/unmanaged/delete", params={"access_code_id": found["access_code_id"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["action_attempt"]["action_type"] == "DELETE_ACCESS_CODE"
    sqlite_api.advance()
    on_lock = sqlite_api.ok(
        "/devices/simulate/list_device_codes", device_id=sqlite_api.devices["august"]
    )
    assert on_lock["device_codes"] == []
    assert (
        sqlite_api.ok("/access_codes/unmanaged/list", device_id=sqlite_api.devices["august"])[
            "access_codes"
        ]
        == []
    )
