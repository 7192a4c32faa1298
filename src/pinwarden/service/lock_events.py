"""What locks report on their own: keypad unlocks, codes changed at the lock, online or offline.

A report only makes the lock due for the engine, which reads the lock and decides; it never
writes the engine's verdicts. Two things are recorded here because only the report knows them:
who came in (`lock.unlocked` with the code that opened the door), and that a slot was changed
outside pinwarden (the ledger's `changed_at`: a lock that masks its PINs cannot show it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from pinwarden.providers.base import LockEvent, LockEventKind
from pinwarden.service import events
from pinwarden.service.deps import Deps
from pinwarden.service.devices import defer_wake, lock_devices
from pinwarden.store.schema import access_codes, devices, slot_writes

# How adapters name the way a lock was worked, in Seam's words (`lock.locked|unlocked.method`).
_METHODS = {
    "keypad": "keycode",
    "keycode": "keycode",
    "manual": "manual",
    "thumbturn": "manual",
    "remote": "remote",
    "rf": "remote",
    "auto": "automatic",
    "automatic": "automatic",
    "rfid": "card",
    "card": "card",
}


def seam_method(method: str | None, slot: int | None = None) -> str:
    if method is None:
        return "keycode" if slot is not None else "unknown"
    return _METHODS.get(method, "unknown")


def receive(deps: Deps, account_id: str, event: LockEvent) -> None:
    """An account's event sink: record what a lock of `account_id` reported."""
    now = deps.clock.now()
    with deps.store.begin() as conn:
        query = select(devices).where(
            devices.c.connected_account_id == account_id,
            func.coalesce(devices.c.lock_ref, devices.c.device_id) == event.lock_ref,
            devices.c.removed_at.is_(None),
        )
        device = conn.execute(query).first()
        if device is None:
            return
        lock_devices(conn, [device.device_id])
        record(conn, device, event, now)
    deps.runner.request_reconcile(device.device_id)


def record(conn: Connection, device: Row[Any], event: LockEvent, now: datetime) -> dict[str, Any]:
    """Record one report of `device` in the caller's transaction; returns what an unlock was
    credited to (`access_code_id`, `is_managed`), for the keypad simulation's answer."""
    at = event.at or now
    credited: dict[str, Any] = {}
    if event.kind == LockEventKind.UNLOCKED and event.slot is None and device.locked is False:
        pass  # the unlock it is known to be in (after a remote unlock, say)
    elif event.kind == LockEventKind.UNLOCKED:
        conn.execute(
            update(devices).where(devices.c.device_id == device.device_id).values(locked=False)
        )
        credited = credit(conn, device, event.slot, event.detail.get("pin"))
        extra = {"method": seam_method(event.method, event.slot)}
        if credited:
            extra.update(
                access_code_id=credited["access_code_id"],
                access_code_is_managed=credited["is_managed"],
            )
        events.record(conn, device.workspace_id, "lock.unlocked", at, device=device, **extra)
    elif event.kind == LockEventKind.LOCKED:
        if device.locked is not True:  # a report of the state it is known to be in is no news
            set_bolt(conn, device, True, seam_method(event.method), at)
    elif event.kind == LockEventKind.ACCESS_DENIED:
        reason = {"reason_code": "unknown_code", "message": "No code on the lock matches."}
        events.record(
            conn, device.workspace_id, "lock.access_denied", at, device=device, reason=reason
        )
    elif event.kind == LockEventKind.SLOT_CHANGED:
        changed = update(slot_writes).where(slot_writes.c.device_id == device.device_id)
        if event.slot is not None:
            changed = changed.where(slot_writes.c.slot == event.slot)
        conn.execute(changed.values(changed_at=at))
    defer_wake(conn, device.device_id, now)
    return credited


def set_bolt(conn: Connection, device: Row[Any], locked: bool, method: str, at: datetime) -> None:
    """The door was locked or unlocked (by `method`: remote, manual, keypad, auto)."""
    conn.execute(
        update(devices).where(devices.c.device_id == device.device_id).values(locked=locked)
    )
    kind = "lock.locked" if locked else "lock.unlocked"
    events.record(conn, device.workspace_id, kind, at, device=device, method=method)


def credit(
    conn: Connection, device: Row[Any], slot: int | None, pin: str | None = None
) -> dict[str, Any]:
    """The code whose PIN in `slot` opened the door: pinwarden's own write there, if the slot
    still holds it and its code still has that slot, else a code found on the lock in that
    slot. With the PIN entered (the sandbox knows it), only a code with that PIN counts."""
    if slot is None:
        return {}
    write = conn.execute(
        select(slot_writes).where(
            slot_writes.c.device_id == device.device_id, slot_writes.c.slot == slot
        )
    ).first()
    candidates = conn.execute(
        select(access_codes.c.access_code_id, access_codes.c.is_managed, access_codes.c.code)
        .where(access_codes.c.device_id == device.device_id, access_codes.c.slot == slot)
        .order_by(access_codes.c.is_managed.desc(), access_codes.c.seq)
    ).all()
    trusted = write is not None and (
        write.changed_at is None
        or (write.acked_at is not None and write.acked_at > write.changed_at)
    )
    for code in candidates:
        if code.is_managed:
            ours = trusted and write is not None and write.access_code_id == code.access_code_id
            if not ours or (pin is not None and write is not None and write.code != pin):
                continue
        elif pin is not None and code.code not in (None, pin):
            continue
        return {"access_code_id": code.access_code_id, "is_managed": bool(code.is_managed)}
    return {}


__all__ = ["credit", "receive", "record"]
