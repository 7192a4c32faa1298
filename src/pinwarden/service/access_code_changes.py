"""Changing managed codes: update, delete, and the multi-device variants."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, Row, select, update

from pinwarden.domain.codes import code_violations, generate_code
from pinwarden.domain.model import CodeStatus, Window
from pinwarden.service import action_attempts, events, wire
from pinwarden.service.access_codes import (
    _mutation,
    choose_code,
    find_duplicate,
    get_code_row,
    insert_code,
    render,
    window_from,
)
from pinwarden.service.deps import Deps
from pinwarden.service.devices import capabilities, get_device_row
from pinwarden.service.errors import ServiceError, invalid
from pinwarden.store.schema import access_codes

_FLAG_COLUMNS = {
    "allow_external_modification": "allow_external_modification",
    "is_external_modification_allowed": "allow_external_modification",
    "prefer_native_scheduling": "prefer_native_scheduling",
    "use_backup_access_code_pool": "use_backup_access_code_pool",
    "attempt_for_offline_device": "attempt_for_offline_device",
}


def _changes(row: Row[Any], p: dict[str, Any], window: Window) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "name" in p and p["name"] != row.name:
        values["name"] = p["name"]
    if "code" in p and p["code"] != row.code:
        values["code"] = p["code"]
        values["code_generated"] = False
    if (window.starts_at, window.ends_at) != (row.starts_at, row.ends_at):
        values["starts_at"], values["ends_at"] = window.starts_at, window.ends_at
    for param, column in _FLAG_COLUMNS.items():
        if param in p and bool(p[param]) != getattr(row, column):
            values[column] = bool(p[param])
    return values


def _pending(row: Row[Any], values: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    pending = [
        m
        for m in row.pending_mutations
        if m["mutation_code"] not in ("updating_code", "updating_name", "updating_time_frame")
    ]
    if "code" in values:
        pending.append(
            _mutation(
                "updating_code",
                now,
                "Changing the PIN on the lock.",
                **{"from": {"code": row.code}, "to": {"code": values["code"]}},
            )
        )
    if "name" in values:
        pending.append(
            _mutation(
                "updating_name",
                now,
                "Changing the name on the lock.",
                **{"from": {"name": row.name}, "to": {"name": values["name"]}},
            )
        )
    if "starts_at" in values:
        pending.append(
            _mutation(
                "updating_time_frame",
                now,
                "Changing when the code works.",
                **{
                    "from": {
                        "starts_at": wire.iso(row.starts_at),
                        "ends_at": wire.iso(row.ends_at),
                    },
                    "to": {
                        "starts_at": wire.iso(values["starts_at"]),
                        "ends_at": wire.iso(values["ends_at"]),
                    },
                },
            )
        )
    return pending


def apply_update(
    deps: Deps, conn: Connection, row: Row[Any], p: dict[str, Any], now: datetime
) -> bool:
    """Write the changes asked for; returns whether anything changed."""
    if row.delete_requested_at is not None:
        raise ServiceError("invalid_input", "this access code is being deleted; create a new one")
    window = window_from(p, now, Window(row.starts_at, row.ends_at))
    values = _changes(row, p, window)
    device = get_device_row(conn, row.workspace_id, row.device_id)
    if "code" in values:
        if capabilities(device).pin_generated_by_provider:
            raise invalid("code", "this lock generates its own PINs (cannot_specify_pin_code)")
    pin = values.get("code", row.code)
    if pin is not None and ({"code", "starts_at"} & values.keys()):
        if find_duplicate(conn, row.device_id, pin, window, exclude_id=row.access_code_id):
            raise ServiceError(
                "duplicate_access_code",
                "another access code on this device has this PIN for an overlapping time",
                409,
            )
    if p.get("is_managed") is False:
        values.update(is_managed=False, pending_mutations=[], errors=[], warnings=[])
    if not values:
        return False
    if p.get("is_managed") is not False:
        values["pending_mutations"] = _pending(row, values, now)
    values.update(attempts=0, retry_at=None)
    conn.execute(update(access_codes).where(access_codes.c.seq == row.seq).values(values))
    changed = [
        {
            "property": k,
            "from": wire.iso(getattr(row, k)) if k.endswith("_at") else getattr(row, k),
            "to": wire.iso(v) if k.endswith("_at") else v,
        }
        for k, v in values.items()
        if k in ("name", "code", "starts_at", "ends_at", "is_managed")
    ]
    events.record(
        conn,
        row.workspace_id,
        "access_code.changed",
        now,
        device=device,
        access_code_id=row.access_code_id,
        changed_properties=changed,
    )
    return True


def update_code(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    with deps.store.begin() as conn:
        row = get_code_row(conn, workspace_id, p["access_code_id"])
        apply_update(deps, conn, row, p, now)
        fresh = conn.execute(select(access_codes).where(access_codes.c.seq == row.seq)).one()
        attempt = action_attempts.record(
            conn,
            workspace_id,
            "UPDATE_ACCESS_CODE",
            now,
            result={"access_code": render(conn, [fresh])[0]},
            device_id=row.device_id,
            access_code_id=row.access_code_id,
        )
    deps.runner.request_reconcile(row.device_id)
    return {"action_attempt": attempt}


def update_multiple(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    changes = {k: p[k] for k in ("name", "starts_at", "ends_at") if k in p}
    device_ids: set[str] = set()
    with deps.store.begin() as conn:
        rows = conn.execute(
            select(access_codes).where(
                access_codes.c.workspace_id == workspace_id,
                access_codes.c.common_code_key == p["common_code_key"],
                access_codes.c.is_managed.is_(True),
                access_codes.c.delete_requested_at.is_(None),
            )
        ).all()
        for row in rows:
            if apply_update(deps, conn, row, changes, now):
                device_ids.add(row.device_id)
    for device_id in device_ids:
        deps.runner.request_reconcile(device_id)
    return {}


def request_delete(conn: Connection, row: Row[Any], now: datetime) -> None:
    """Ask the engine to take the code off the lock; the record goes when removal is confirmed."""
    warnings = [w for w in row.warnings if w.get("warning_code") != "being_deleted"]
    warnings.append(
        {
            "warning_code": "being_deleted",
            "message": "The code is being deleted.",
            "created_at": wire.iso(now),
        }
    )
    conn.execute(
        update(access_codes)
        .where(access_codes.c.seq == row.seq)
        .values(
            delete_requested_at=now,
            status=CodeStatus.REMOVING.value,
            warnings=warnings,
            pending_mutations=[_mutation("deleting", now, "Removing the code from the lock.")],
            attempts=0,
            retry_at=None,
        )
    )


def delete_code(
    deps: Deps, workspace_id: str, p: dict[str, Any], *, managed: bool = True
) -> dict[str, Any]:
    now = deps.clock.now()
    with deps.store.begin() as conn:
        row = get_code_row(conn, workspace_id, p["access_code_id"], managed=managed)
        if row.delete_requested_at is None:
            request_delete(conn, row, now)
        attempt = action_attempts.record(
            conn,
            workspace_id,
            "DELETE_ACCESS_CODE",
            now,
            result={},
            device_id=row.device_id,
            access_code_id=row.access_code_id,
        )
    deps.runner.request_reconcile(row.device_id)
    return {"action_attempt": attempt}


def _shared_pin(deps: Deps, devices_rows: list[Row[Any]], p: dict[str, Any]) -> str | None:
    """A PIN every device accepts, or None when the devices cannot share one."""
    caps = [capabilities(d) for d in devices_rows]
    if any(c.pin_generated_by_provider for c in caps):
        return None
    preferred = int(p["preferred_code_length"]) if "preferred_code_length" in p else None
    for _ in range(200):
        candidate = generate_code(caps[0], deps.rng, preferred_length=preferred)
        if all(not code_violations(candidate, c) for c in caps[1:]):
            return candidate
    return None


def create_multiple(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    window = window_from(p, now)
    behavior = p.get("behavior_when_code_cannot_be_shared", "throw")
    if not p["device_ids"]:
        raise invalid("device_ids", "give at least one device")
    created: list[str] = []
    with deps.store.begin() as conn:
        devices_rows = [
            get_device_row(conn, workspace_id, d) for d in dict.fromkeys(p["device_ids"])
        ]
        custom = p.get("code")
        key = None if custom else str(uuid4())
        shared = custom or _shared_pin(deps, devices_rows, p)
        for device in devices_rows:
            caps = capabilities(device)
            pin: str | None = shared
            generated = custom is None
            if caps.pin_generated_by_provider or pin is None or code_violations(pin, caps):
                if behavior == "throw":
                    raise ServiceError(
                        "cannot_share_code",
                        f"device {device.device_id} cannot use a shared PIN; pass "
                        "behavior_when_code_cannot_be_shared=create_random_code to give it its own",
                    )
                pin, generated = choose_code(
                    deps, conn, device, caps, {k: v for k, v in p.items() if k != "code"}
                )
            one = {**p, "common_code_key": key}
            created.append(
                insert_code(
                    deps, conn, device, one, now, code=pin, generated=generated, window=window
                )
            )
        rows = conn.execute(
            select(access_codes)
            .where(access_codes.c.access_code_id.in_(created))
            .order_by(access_codes.c.seq)
        ).all()
        body = render(conn, rows)
    for device in devices_rows:
        deps.runner.request_reconcile(device.device_id)
    return {"access_codes": body}
