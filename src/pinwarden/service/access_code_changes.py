"""Changing managed codes: update, delete, and the multi-device variants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from pinwarden.domain.codes import code_violations, generate_code
from pinwarden.domain.ids import new_id
from pinwarden.domain.model import Capabilities, CodeStatus, Window
from pinwarden.service import action_attempts, events, wire
from pinwarden.service.access_codes import (
    _mutation,
    choose_code,
    find_duplicate,
    get_code_row,
    insert_code,
    look_again_at,
    pins_on_device,
    render,
    window_from,
)
from pinwarden.service.deps import Deps
from pinwarden.service.devices import capabilities, defer_wake, get_device_row, lock_devices
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
    if "code" in values and capabilities(device).pin_generated_by_provider:
        raise invalid("code", "this lock generates its own PINs (cannot_specify_pin_code)")
    pin = values.get("code", row.code)
    moved = pin is not None and bool({"code", "starts_at"} & values.keys())
    if moved and find_duplicate(conn, row.device_id, pin, window, exclude_id=row.access_code_id):
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
        {"property": k, "from": _as_text(getattr(row, k)), "to": _as_text(v)}
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


def _as_text(value: Any) -> str | None:
    """A changed property as Seam's event carries it: a string or null."""
    if isinstance(value, datetime):
        return wire.iso(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if value is None else str(value)


def update_code(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    with deps.store.begin() as conn:
        row = get_code_row(
            conn, workspace_id, p["access_code_id"], device_id=p.get("device_id"), lock=True
        )
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
        defer_wake(conn, row.device_id, now)
    deps.runner.request_reconcile(row.device_id)
    return {"action_attempt": attempt}


def update_multiple(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    changes = {k: p[k] for k in ("name", "starts_at", "ends_at") if k in p}
    device_ids: set[str] = set()
    linked = select(access_codes).where(
        access_codes.c.workspace_id == workspace_id,
        access_codes.c.common_code_key == p["common_code_key"],
        access_codes.c.is_managed.is_(True),
        access_codes.c.delete_requested_at.is_(None),
    )
    with deps.store.begin() as conn:
        lock_devices(conn, [r.device_id for r in conn.execute(linked)])
        rows = conn.execute(linked).all()
        for row in rows:
            if apply_update(deps, conn, row, changes, now):
                device_ids.add(row.device_id)
        for device_id in device_ids:
            defer_wake(conn, device_id, now)
    for device_id in device_ids:
        deps.runner.request_reconcile(device_id)
    return {}


def request_delete(conn: Connection, row: Row[Any], now: datetime) -> None:
    """Ask the engine to take the code off the lock; the record goes when removal is confirmed."""
    warnings = wire.with_warning(row.warnings, "being_deleted", "The code is being deleted.", now)
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
        row = get_code_row(
            conn,
            workspace_id,
            p["access_code_id"],
            managed=managed,
            device_id=p.get("device_id"),
            lock=True,
        )
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
        defer_wake(conn, row.device_id, now)
    deps.runner.request_reconcile(row.device_id)
    return {"action_attempt": attempt}


def _takes(pin: str, caps: Capabilities, pins_there: set[str]) -> bool:
    """Whether a lock with `caps`, already holding `pins_there`, can take `pin` as well."""
    if pin in pins_there or code_violations(pin, caps):
        return False
    unique_prefix = "unique_first_four_digits" in caps.code_constraints
    return not (unique_prefix and pin[:4] in {other[:4] for other in pins_there})


def _fits(pin: str | None, caps: Capabilities, pins_there: set[str], *, custom: bool) -> bool:
    """Whether the shared PIN can go on this lock; a custom PIN already there is a 409 later."""
    if pin is None or caps.pin_generated_by_provider:
        return False
    return not code_violations(pin, caps) if custom else _takes(pin, caps, pins_there)


def _shared_length(caps: list[Capabilities], preferred: int | None) -> int | None:
    """The PIN length most of the locks take: the preferred one if it is among them, else the
    shortest (Seam's rule for `preferred_code_length`)."""
    counts: dict[int, int] = {}
    for c in caps:
        for length in c.supported_code_lengths:
            counts[length] = counts.get(length, 0) + 1
    if not counts:
        return None
    best = max(counts.values())
    lengths = [n for n, count in counts.items() if count == best]
    return preferred if preferred in lengths else min(lengths)


def _shared_pin(
    deps: Deps, devices_rows: list[Row[Any]], pins: dict[str, set[str]], p: dict[str, Any]
) -> str | None:
    """A PIN for as many of the locks as possible, or None when none of them can share one."""
    sharing = [d for d in devices_rows if not capabilities(d).pin_generated_by_provider]
    preferred = int(p["preferred_code_length"]) if "preferred_code_length" in p else None
    length = _shared_length([capabilities(d) for d in sharing], preferred)
    if length is None:
        return None
    group = [d for d in sharing if length in capabilities(d).supported_code_lengths]
    avoid = set().union(*(pins[d.device_id] for d in group))
    first = None
    for _ in range(50):
        try:
            candidate = generate_code(
                capabilities(group[0]), deps.rng, preferred_length=length, avoid=avoid
            )
        except ValueError:
            break
        first = first or candidate
        if all(_takes(candidate, capabilities(d), pins[d.device_id]) for d in group[1:]):
            return candidate
        avoid.add(candidate)
    return first


def create_multiple(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """One code per device, all with the same PIN and `common_code_key`.

    A device that cannot take the shared PIN fails the whole request (`throw`, the default) or
    gets a PIN of its own and no `common_code_key` (`create_random_code`): codes that share a
    key always share their PIN, as Seam promises.
    """
    now = deps.clock.now()
    window = window_from(p, now)
    behavior = p.get("behavior_when_code_cannot_be_shared", "throw")
    if not p["device_ids"]:
        raise invalid("device_ids", "give at least one device")
    created: list[str] = []
    with deps.store.begin() as conn:
        lock_devices(conn, p["device_ids"])
        devices_rows = [
            get_device_row(conn, workspace_id, d) for d in dict.fromkeys(p["device_ids"])
        ]
        pins = {d.device_id: pins_on_device(conn, d.device_id) for d in devices_rows}
        custom = p.get("code")
        key = None if custom else new_id()
        shared = custom or _shared_pin(deps, devices_rows, pins, p)
        for device in devices_rows:
            caps = capabilities(device)
            one = {**p, "common_code_key": key}
            pin, generated = shared, custom is None
            if not _fits(pin, caps, pins[device.device_id], custom=custom is not None):
                if behavior == "throw":
                    raise ServiceError(
                        "cannot_share_code",
                        f"device {device.device_id} cannot use a shared PIN; pass "
                        "behavior_when_code_cannot_be_shared=create_random_code to give it its own",
                    )
                one = {k: v for k, v in p.items() if k != "code"}
                pin, generated = choose_code(deps, conn, device, caps, one)
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
        later = look_again_at(window, now)
        for device in devices_rows:
            defer_wake(conn, device.device_id, later or now)  # durable, unlike the request below
    if later is None:
        for device in devices_rows:
            deps.runner.request_reconcile(device.device_id)
    return {"access_codes": body}
