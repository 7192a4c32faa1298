"""At-risk situations built through the HTTP API and the sandbox simulators, as a user would."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pinwarden.service import auth
from tests.support import Api


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def create_code(
    api: Api, device_id: str, name: str, *, days: float, **extra: Any
) -> dict[str, Any]:
    """A code for `name` starting `days` from now and lasting two days."""
    starts_at = api.now() + timedelta(days=days)
    created = api.ok(
        "/access_codes/create",
        device_id=device_id,
        name=name,
        starts_at=iso(starts_at),
        ends_at=iso(starts_at + timedelta(days=2)),
        **extra,
    )
    code: dict[str, Any] = created["access_code"]
    return code


def get_code(api: Api, access_code_id: str) -> dict[str, Any]:
    code: dict[str, Any] = api.ok("/access_codes/get", access_code_id=access_code_id)["access_code"]
    return code


def unmanaged_code(api: Api, device_id: str, name: str, pin: str) -> dict[str, Any]:
    created = api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=device_id,
        name=name,
        code=pin,
    )
    code: dict[str, Any] = created["access_code"]
    return code


def slots_full_arrival(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A guest arriving in 2 days on a SmartThings lock whose every slot is taken.

    SmartThings keeps 3 codes of its own, so a capacity of 4 leaves one slot, which an
    unmanaged code takes. Returns (the arrival, the unmanaged code).
    """
    device_id = api.devices["smartthings"]
    api.ok("/devices/simulate/set_faults", device_id=device_id, slot_capacity=4)
    cleaner = unmanaged_code(api, device_id, "Cleaner", "5555")
    api.advance(1)
    arrival = create_code(api, device_id, "Guest Smith", days=2)
    api.advance(1)
    return arrival, cleaner


def failing_arrival(api: Api, *, failures: int, backup_pool: bool = False) -> dict[str, Any]:
    """A guest arriving in 2 days on an August lock that refuses the next `failures` writes.

    With `backup_pool`, the lock's backup pool is programmed first, so a backup can be pulled.
    """
    device_id = api.devices["august"]
    if backup_pool:
        create_code(api, device_id, "Later guest", days=20, use_backup_access_code_pool=True)
        api.advance(120)
    api.ok("/devices/simulate/set_faults", device_id=device_id, fail_next_sets=failures)
    arrival = create_code(
        api, device_id, "Guest Jones", days=2, use_backup_access_code_pool=backup_pool
    )
    api.advance(600)
    return arrival


def duplicate_arrival(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A guest arriving in 2 days whose PIN an unmanaged code on the lock already uses."""
    device_id = api.devices["august"]
    neighbour = unmanaged_code(api, device_id, "Old tenant", "2580")
    api.advance(1)
    arrival = create_code(api, device_id, "Guest Lee", days=2, code="2580")
    api.advance(1)
    return arrival, neighbour


def unconfirmable_removal(api: Api) -> dict[str, Any]:
    """A code deleted from a Kwikset lock whose read-back never confirms the removal."""
    device_id = api.devices["kwikset"]
    code: dict[str, Any] = api.ok(
        "/access_codes/create", device_id=device_id, name="Gone", code="7777"
    )["access_code"]
    api.advance(120)
    api.ok("/devices/simulate/set_faults", device_id=device_id, unconfirmable_removes=True)
    api.ok("/access_codes/delete", access_code_id=code["access_code_id"])
    api.advance(600)
    return code


def flagged_early(api: Api) -> list[dict[str, Any]]:
    """Guests arriving in 4.7 days whose codes already carry errors (the day-0 story): a full
    SmartThings lock and a PIN the igloohome lock refuses."""
    device_id = api.devices["smartthings"]
    api.ok("/devices/simulate/set_faults", device_id=device_id, slot_capacity=4)
    unmanaged_code(api, device_id, "Cleaner", "5555")
    codes = [
        create_code(api, device_id, "Guest Early", days=4.7),
        create_code(api, api.devices["igloohome"], "Guest Short PIN", days=4.7, code="1234"),
    ]
    api.advance(60)
    return codes


def busy_workspace(api: Api) -> dict[str, str]:
    """A workspace with a code in every state the console shows; returns its pages by name."""
    duplicate, _ = duplicate_arrival(api)
    failing = failing_arrival(api, failures=20, backup_pool=True)
    api.ok("/access_codes/pull_backup_access_code", access_code_id=failing["access_code_id"])
    removal = unconfirmable_removal(api)
    flagged_early(api)
    api.ok(
        "/access_codes/create", device_id=api.devices["yale"], name="Cleaning staff", code="9999"
    )
    api.ok("/devices/update", device_id=api.devices["august"], time_zone="Europe/Paris")
    api.ok("/devices/simulate/disconnect", device_id=api.devices["salto"])
    for n in range(6):
        create_code(api, api.devices["yale"], f"Guest {n}", days=1.5 * n + 0.5)
    api.advance(60)
    unmanaged = api.ok("/access_codes/unmanaged/list", device_id=api.devices["august"])
    other = unmanaged["access_codes"][0]["access_code_id"]
    [key] = auth.list_api_keys(api.runtime.deps, api.workspace_id)
    return {
        "at-risk": "/console",
        "calendar": "/console/calendar",
        "devices": "/console/devices",
        "device-august": f"/console/devices/{api.devices['august']}",
        "device-smartthings": f"/console/devices/{api.devices['smartthings']}",
        "device-schlage": f"/console/devices/{api.devices['schlage']}",
        "events": "/console/events",
        "events-filtered": f"/console/events?device={api.devices['august']}&pins=shown",
        "keys": "/console/keys",
        "code-edit": f"/console/codes/{duplicate['access_code_id']}/edit",
        "confirm-delete": f"/console/codes/{failing['access_code_id']}/delete",
        "confirm-forget": f"/console/codes/{removal['access_code_id']}/forget",
        "confirm-convert": f"/console/unmanaged/{other}/convert",
        "confirm-revoke": f"/console/keys/{key.api_key_id}/revoke",
        "not-found": "/console/devices/00000000-0000-4000-8000-000000000000",
    }
