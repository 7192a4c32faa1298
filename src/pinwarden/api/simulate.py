"""Sandbox simulation endpoints (sandbox-contract.md); real devices answer 400."""

from __future__ import annotations

from pinwarden.api.app import Route
from pinwarden.api.params import P
from pinwarden.service import sandbox

DEVICE = P("device_id", "uuid", required=True)
PIN = P("code", required=True, min_length=4, max_length=8, digits=True)

ROUTES = [
    Route("/devices/simulate/connect", ("POST",), (DEVICE,), sandbox.connect),
    Route("/devices/simulate/disconnect", ("POST",), (DEVICE,), sandbox.disconnect),
    Route("/devices/simulate/remove", ("POST",), (DEVICE,), sandbox.remove),
    Route(
        "/devices/simulate/set_faults",
        ("POST",),
        (
            DEVICE,
            P("programming_delay_seconds", "int", nullable=True),
            P("fail_next_sets", "int", minimum=0, nullable=True),
            P("fail_next_removes", "int", minimum=0, nullable=True),
            P("third_party_manager", nullable=True, choices=("rboy",)),
            P("unconfirmable_sets", "bool", nullable=True),
            P("unconfirmable_removes", "bool", nullable=True),
            P("site_user_limit", "int", minimum=0, nullable=True),
            P("slot_capacity", "int", minimum=1, nullable=True),
            P("drop_rushed_commands", "bool", nullable=True),
        ),
        sandbox.set_faults,
    ),
    Route("/devices/simulate/get_faults", ("POST", "GET"), (DEVICE,), sandbox.get_faults),
    Route(
        "/devices/simulate/list_device_codes", ("POST", "GET"), (DEVICE,), sandbox.list_device_codes
    ),
    Route(
        "/access_codes/simulate/create_unmanaged_access_code",
        ("POST",),
        (
            DEVICE,
            P("name", required=True, max_length=200),
            PIN,
        ),
        sandbox.create_unmanaged,
    ),
    Route(
        "/access_codes/simulate/modify_external",
        ("POST",),
        (
            P("access_code_id", "uuid", required=True),
            P("code", min_length=4, max_length=12, digits=True),
            P("name", max_length=200),
            P("remove", "bool"),
        ),
        sandbox.modify_external,
    ),
    Route("/locks/simulate/keypad_code_entry", ("POST",), (DEVICE, PIN), sandbox.keypad_code_entry),
    Route(
        "/locks/simulate/manual_lock_via_keypad",
        ("POST",),
        (DEVICE,),
        sandbox.manual_lock_via_keypad,
    ),
]
