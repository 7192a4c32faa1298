"""PINs pinwarden chooses follow each lock's advertised `code_constraints` and
`supported_code_lengths`; reported constraints change what it chooses."""

from __future__ import annotations

from typing import Any

from pinwarden.domain.codes import code_violations
from pinwarden.domain.model import Capabilities
from tests.api import expect
from tests.support import Api


def _advertised(api: Api, device_id: str) -> Capabilities:
    """The rules a client can read from /devices/get, as the domain's rule checker takes them."""
    device = api.ok("/devices/get", device_id=device_id)["device"]
    props = device["properties"]
    return Capabilities(
        brand=device["device_type"],
        slot_count=int(props["max_active_codes_supported"]),
        native_scheduling=True,
        supported_code_lengths=tuple(props["supported_code_lengths"]),
        code_constraints=tuple(
            c["constraint_type"]
            for c in props["code_constraints"]
            if c["constraint_type"] not in ("name_length", "name_must_be_unique")
        ),
    )


def _choosing_brands(api: Api) -> dict[str, str]:
    """Devices whose PINs pinwarden chooses (not the ones whose lock makes its own)."""
    return {
        brand: device_id
        for brand, device_id in api.devices.items()
        if not any(
            c["constraint_type"] == "cannot_specify_pin_code"
            for c in api.ok("/devices/get", device_id=device_id)["device"]["properties"][
                "code_constraints"
            ]
        )
    }


def test_generated_codes_follow_each_devices_advertised_rules(sqlite_api: Api) -> None:
    for brand, device_id in _choosing_brands(sqlite_api).items():
        rules = _advertised(sqlite_api, device_id)
        for _ in range(15):
            generated = sqlite_api.ok("/access_codes/generate_code", device_id=device_id)
            code = generated["generated_code"]["code"]
            assert generated["generated_code"]["device_id"] == device_id
            assert code_violations(code, rules) == [], (brand, code)


def test_codes_created_without_a_pin_follow_each_devices_rules(sqlite_api: Api) -> None:
    for brand, device_id in _choosing_brands(sqlite_api).items():
        rules = _advertised(sqlite_api, device_id)
        pins = set()
        for n in range(4):
            created = sqlite_api.ok("/access_codes/create", device_id=device_id, name=f"G{n}")
            code = created["access_code"]["code"]
            assert code_violations(code, rules) == [], (brand, code)
            pins.add(code)
        assert len(pins) == 4, f"{brand}: a generated PIN repeated one already on the lock"


def test_a_preferred_length_the_device_takes_is_used(sqlite_api: Api) -> None:
    created = sqlite_api.ok(
        "/access_codes/create", device_id=sqlite_api.devices["yale"], preferred_code_length=7
    )
    assert len(created["access_code"]["code"]) == 7


def test_a_preferred_length_the_device_does_not_take_falls_back_to_the_shortest(
    sqlite_api: Api,
) -> None:
    for brand, preferred, expected in (("august", 8, 4), ("igloohome", 4, 6)):
        created = sqlite_api.ok(
            "/access_codes/create",
            device_id=sqlite_api.devices[brand],
            preferred_code_length=preferred,
        )
        assert len(created["access_code"]["code"]) == expected, brand


def test_reported_code_lengths_are_advertised_and_used(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["smartthings"]
    sqlite_api.ok(
        "/access_codes/report_device_constraints", device_id=device_id, supported_code_lengths=[6]
    )
    props = sqlite_api.ok("/devices/get", device_id=device_id)["device"]["properties"]
    assert props["supported_code_lengths"] == [6]
    assert (
        len(
            sqlite_api.ok("/access_codes/generate_code", device_id=device_id)["generated_code"][
                "code"
            ]
        )
        == 6
    )
    sqlite_api.ok(
        "/access_codes/report_device_constraints",
        device_id=device_id,
        min_code_length=5,
        max_code_length=7,
    )
    props = sqlite_api.ok("/devices/get", device_id=device_id)["device"]["properties"]
    assert props["supported_code_lengths"] == [5, 6, 7]
    created = sqlite_api.ok("/access_codes/create", device_id=device_id)["access_code"]
    assert len(created["code"]) == 5


def test_reported_constraints_must_be_one_form_within_4_to_20(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["smartthings"]
    bad: list[tuple[dict[str, Any], str]] = [
        ({}, "supported_code_lengths"),
        ({"supported_code_lengths": [3]}, "supported_code_lengths"),
        ({"supported_code_lengths": [21]}, "supported_code_lengths"),
        ({"supported_code_lengths": ["6"]}, "supported_code_lengths"),
        ({"min_code_length": 8, "max_code_length": 5}, "min_code_length"),
        ({"max_code_length": 21}, "max_code_length"),
        ({"supported_code_lengths": [6], "min_code_length": 4}, "supported_code_lengths"),
    ]
    for body, field in bad:
        response = sqlite_api.post(
            "/access_codes/report_device_constraints", device_id=device_id, **body
        )
        expect.invalid(response, field)
    props = sqlite_api.ok("/devices/get", device_id=device_id)["device"]["properties"]
    assert props["supported_code_lengths"] == [4, 5, 6, 7, 8]


def test_a_lock_that_makes_its_own_pins_refuses_a_chosen_one(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["salto"]
    expect.invalid(
        sqlite_api.post("/access_codes/create", device_id=device_id, code="482193"), "code"
    )
    expect.error(
        sqlite_api.post("/access_codes/generate_code", device_id=device_id), 400, "invalid_input"
    )
    created = sqlite_api.ok("/access_codes/create", device_id=device_id, name="Guest")
    assert created["access_code"]["code"] is None
    assert created["access_code"]["is_waiting_for_code_assignment"] is True
    sqlite_api.advance()
    assigned = sqlite_api.ok(
        "/access_codes/get", access_code_id=created["access_code"]["access_code_id"]
    )["access_code"]
    assert assigned["code"] and assigned["is_waiting_for_code_assignment"] is False
