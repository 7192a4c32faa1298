"""Sandbox devices: the demo workspace and the simulation endpoints of the sandbox contract."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, update

from pinwarden.catalog.brands import BRANDS, brand_profile
from pinwarden.domain.ids import new_id
from pinwarden.providers.base import LockEvent, LockEventKind
from pinwarden.providers.sandbox import SandboxLock, physical
from pinwarden.service import action_attempts, events, lock_events
from pinwarden.service.access_codes import get_code_row, render
from pinwarden.service.deps import Deps
from pinwarden.service.devices import defer_wake, device_to_wire, get_device_row
from pinwarden.service.errors import ServiceError, invalid
from pinwarden.service.unmanaged import record_unmanaged
from pinwarden.store.schema import connected_accounts, devices, sandbox_locks


def sandbox_device_row(
    workspace_id: str, brand: str, name: str, connected_account_id: str, now: datetime
) -> dict[str, Any]:
    """The stored row of a new sandbox lock (due for its first reconcile at once)."""
    return {
        "device_id": new_id(),
        "workspace_id": workspace_id,
        "connected_account_id": connected_account_id,
        "provider": "sandbox",
        "brand": brand,
        "device_type": brand_profile(brand).device_type,
        "name": name,
        "custom_metadata": {},
        "overrides": {},
        "policy": {},
        "online": True,
        "errors": [],
        "warnings": [],
        "backup_pool_enabled": False,
        "failure_count": 0,
        "created_at": now,
        "next_wake_at": now,
    }


def add_sandbox_device(
    deps: Deps,
    conn: Connection,
    workspace_id: str,
    brand: str,
    name: str,
    connected_account_id: str,
    now: datetime,
) -> str:
    row = sandbox_device_row(workspace_id, brand, name, connected_account_id, now)
    device_id = str(row["device_id"])
    conn.execute(devices.insert().values(row))
    lock = SandboxLock.new(brand, rng_seed=deps.rng.randrange(2**31))
    conn.execute(sandbox_locks.insert().values(device_id=device_id, state=lock.state))
    events.record(
        conn,
        workspace_id,
        "device.added",
        now,
        device_id=device_id,
        connected_account_id=connected_account_id,
    )
    return device_id


def add_sandbox_account(conn: Connection, workspace_id: str, brand: str, now: datetime) -> str:
    account_id = new_id()
    display = brand_profile(brand).manufacturer_display_name
    conn.execute(
        connected_accounts.insert().values(
            connected_account_id=account_id,
            workspace_id=workspace_id,
            account_type=brand,
            display_name=f"{display} (sandbox)",
            custom_metadata={},
            created_at=now,
        )
    )
    events.record(
        conn, workspace_id, "connected_account.connected", now, connected_account_id=account_id
    )
    return account_id


def seed_sandbox_devices(deps: Deps, workspace_id: str, per_brand: int = 1) -> dict[str, str]:
    """One sandbox account per brand and `per_brand` locks in it; returns brand -> first device."""
    now = deps.clock.now()
    first: dict[str, str] = {}
    with deps.store.begin() as conn:
        for brand in BRANDS:
            account_id = add_sandbox_account(conn, workspace_id, brand, now)
            for n in range(per_brand):
                label = brand_profile(brand).manufacturer_display_name
                device_id = add_sandbox_device(
                    deps, conn, workspace_id, brand, f"{label} Front Door {n + 1}", account_id, now
                )
                first.setdefault(brand, device_id)
    return first


def _require_sandbox(device: Row[Any]) -> None:
    if device.provider != "sandbox":
        raise ServiceError(
            "invalid_input",
            f"simulation works only on sandbox devices; this is a {device.provider} device",
        )


@contextmanager
def sandbox_lock(conn: Connection, device: Row[Any]) -> Iterator[SandboxLock]:
    """The simulated lock behind `device`, under its row's lock (a write transaction), saved
    back when the block ends without error."""
    _require_sandbox(device)
    with physical.holding(conn, [device.device_id]) as found:
        yield found[device.device_id]


def peek_lock(conn: Connection, device: Row[Any]) -> SandboxLock:
    """The simulated lock behind `device`, to look at only."""
    _require_sandbox(device)
    return physical.peek(conn, [device.device_id])[device.device_id]


def _simulate(deps: Deps, workspace_id: str, device_id: str, change: Any) -> dict[str, Any]:
    now = deps.clock.now()
    with deps.store.begin() as conn:
        device = get_device_row(conn, workspace_id, device_id, lock=True)
        with sandbox_lock(conn, device) as lock:
            result = change(conn, device, lock, now)
        defer_wake(conn, device.device_id, now)
    deps.runner.request_reconcile(device_id)
    return result if isinstance(result, dict) else {}


def _slot_changed(conn: Connection, device: Row[Any], slot: int, now: datetime) -> None:
    """The lock reports a code changed at it, as real locks do (a Z-Wave user-code
    notification, a Zigbee programming event): PINs it masks cannot show the change."""
    lock_events.record(
        conn, device, LockEvent(LockEventKind.SLOT_CHANGED, device.device_id, now, slot=slot), now
    )


def connect(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    return _simulate(deps, workspace_id, p["device_id"], lambda c, d, lock, now: lock.connect())


def disconnect(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    return _simulate(deps, workspace_id, p["device_id"], lambda c, d, lock, now: lock.disconnect())


def _sandbox_device(conn: Connection, workspace_id: str, device_id: str) -> Row[Any]:
    device = get_device_row(conn, workspace_id, device_id)
    if device.provider != "sandbox":
        raise invalid("device_id", "simulation works only on sandbox devices")
    return device


def remove(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    with deps.store.begin() as conn:
        device = _sandbox_device(conn, workspace_id, p["device_id"])
        conn.execute(
            update(devices).where(devices.c.device_id == device.device_id).values(removed_at=now)
        )
        events.record(conn, workspace_id, "device.removed", now, device=device)
    return {}


def set_faults(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    faults = {k: v for k, v in p.items() if k != "device_id"}
    if not faults:
        raise invalid(
            "device_id", "name at least one fault to set (see /devices/simulate/get_faults)"
        )

    def change(conn: Connection, device: Row[Any], lock: SandboxLock, now: datetime) -> None:
        try:
            lock.set_faults(**faults)
        except ValueError as exc:
            raise ServiceError("invalid_input", str(exc)) from None

    _simulate(deps, workspace_id, p["device_id"], change)
    return {
        "device": _device(deps, workspace_id, p["device_id"]),
        "faults": get_faults_of(deps, workspace_id, p["device_id"]),
    }


def _device(deps: Deps, workspace_id: str, device_id: str) -> dict[str, Any]:
    with deps.store.read() as conn:
        return device_to_wire(get_device_row(conn, workspace_id, device_id))


def get_faults_of(deps: Deps, workspace_id: str, device_id: str) -> dict[str, Any]:
    with deps.store.read() as conn:
        device = get_device_row(conn, workspace_id, device_id)
        return dict(peek_lock(conn, device).faults)


def get_faults(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    return {"faults": get_faults_of(deps, workspace_id, p["device_id"])}


def list_device_codes(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    with deps.store.read() as conn:
        device = get_device_row(conn, workspace_id, p["device_id"])
        return {"device_codes": peek_lock(conn, device).list_device_codes(now)}


def create_unmanaged(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    def change(
        conn: Connection, device: Row[Any], lock: SandboxLock, now: datetime
    ) -> dict[str, Any]:
        try:
            slot = lock.add_unmanaged(now, p["name"], p["code"])
        except ValueError as exc:
            raise ServiceError("invalid_input", str(exc)) from None
        _slot_changed(conn, device, slot, now)
        access_code_id = record_unmanaged(conn, device, slot, p["code"], p["name"], now)
        row = get_code_row(conn, workspace_id, access_code_id, managed=False)
        return {"access_code": render(conn, [row])[0]}

    return _simulate(deps, workspace_id, p["device_id"], change)


def modify_external(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    with deps.store.read() as conn:
        row = get_code_row(conn, workspace_id, p["access_code_id"])
    if row.slot is None:
        raise invalid(
            "access_code_id", "this code is not on the lock yet, so nothing can change it there"
        )

    def change(conn: Connection, device: Row[Any], lock: SandboxLock, now: datetime) -> None:
        try:
            lock.modify_external(
                now,
                row.slot,
                code=p.get("code"),
                name=p.get("name"),
                remove=bool(p.get("remove", False)),
            )
        except ValueError as exc:
            raise ServiceError("invalid_input", str(exc)) from None
        _slot_changed(conn, device, row.slot, now)

    return _simulate(deps, workspace_id, row.device_id, change)


def manual_lock_via_keypad(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """Someone locks the door at the keypad (Seam's simulation of the same name)."""
    now = deps.clock.now()
    with deps.store.begin() as conn:
        device = _sandbox_device(conn, workspace_id, p["device_id"])
        events.record(conn, workspace_id, "lock.locked", now, device=device, method="manual")
        attempt = action_attempts.record(
            conn,
            workspace_id,
            "SIMULATE_MANUAL_LOCK_VIA_KEYPAD",
            now,
            result={},
            device_id=device.device_id,
        )
    return {"action_attempt": attempt}


def keypad_code_entry(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """Someone types a PIN at the lock: it opens if a code active now has that PIN, and the
    lock reports it as a real one does (the slot that opened it)."""
    now = deps.clock.now()
    with deps.store.begin() as conn:
        device = get_device_row(conn, workspace_id, p["device_id"], lock=True)
        slot = peek_lock(conn, device).keypad_entry(now, p["code"])
        kind = LockEventKind.ACCESS_DENIED if slot is None else LockEventKind.UNLOCKED
        report = LockEvent(kind, device.device_id, now, slot=slot, method="keycode")
        credited = lock_events.record(conn, device, _with_pin(report, p["code"]), now)
        attempt = action_attempts.record(
            conn,
            workspace_id,
            "SIMULATE_KEYPAD_CODE_ENTRY",
            now,
            result={"unlocked": slot is not None, "access_code_id": credited.get("access_code_id")},
            device_id=device.device_id,
        )
    return {"action_attempt": attempt}


def _with_pin(report: LockEvent, pin: str) -> LockEvent:
    """The sandbox knows the PIN typed, so an unlock is credited only to a code with that PIN
    (the PIN is used for that and nothing else: never stored, never logged)."""
    return LockEvent(
        report.kind, report.lock_ref, report.at, report.slot, report.method, {"pin": pin}
    )
