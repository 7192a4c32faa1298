"""Managed access codes: the desired state users write. The engine makes it true on the lock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, or_, select, update

from pinwarden.domain.codes import generate_code
from pinwarden.domain.ids import new_id
from pinwarden.domain.model import Capabilities, CodeStatus, Window
from pinwarden.planner.types import Policy
from pinwarden.service import action_attempts, code_reads, events, wire
from pinwarden.service.deps import Deps
from pinwarden.service.devices import capabilities, defer_wake, get_device_row, lock_devices
from pinwarden.service.errors import InvalidInput, ServiceError, invalid, not_found
from pinwarden.service.pagination import (
    Page,
    asks_for_foreign,
    empty_page,
    encode_cursor,
    page_request,
    paginate,
)
from pinwarden.store import access_code_wire
from pinwarden.store.prepared import AnyConnection, Prepared, RawConnection
from pinwarden.store.schema import access_codes, devices, utc_from_store
from pinwarden.store.text import holds_text
from pinwarden.store.writes import Writes

_CREATE_FLAGS = {
    "allow_external_modification": "allow_external_modification",
    "is_external_modification_allowed": "allow_external_modification",
    "prefer_native_scheduling": "prefer_native_scheduling",
    "use_backup_access_code_pool": "use_backup_access_code_pool",
    "attempt_for_offline_device": "attempt_for_offline_device",
    "is_offline_access_code": "is_offline_access_code",
    "use_offline_access_code": "is_offline_access_code",
    "is_one_time_use": "is_one_time_use",
}


def window_from(p: dict[str, Any], now: datetime, current: Window | None = None) -> Window:
    """The requested window, validated: both ends or neither, end after start and in the future."""
    if p.get("type") == "ongoing":
        return Window()
    starts_at = p.get("starts_at", current.starts_at if current else None)
    ends_at = p.get("ends_at", current.ends_at if current else None)
    if (starts_at is None) != (ends_at is None) or (p.get("type") == "time_bound" and not ends_at):
        missing = "ends_at" if ends_at is None else "starts_at"
        raise InvalidInput({missing: ["Both starts_at and ends_at must be provided if one is"]})
    if starts_at is not None and ends_at is not None:
        if ends_at <= starts_at:
            raise invalid("ends_at", "must be after starts_at")
        if ends_at <= now:
            raise invalid("ends_at", "must be in the future")
    return Window(starts_at, ends_at)


_SAME_PIN = Prepared(
    select(access_codes.c.access_code_id, access_codes.c.starts_at, access_codes.c.ends_at).where(
        access_codes.c.device_id == bindparam("device_id"),
        access_codes.c.code == bindparam("code"),
        access_codes.c.is_managed.is_(True),
        access_codes.c.delete_requested_at.is_(None),
    )
)


def find_duplicate(
    conn: AnyConnection, device_id: str, code: str, window: Window, exclude_id: str | None = None
) -> str | None:
    """The id of a managed code on the device with the same PIN whose window overlaps
    `window`, if there is one."""
    rows = _SAME_PIN.all(RawConnection.of(conn), {"device_id": device_id, "code": code})
    for access_code_id, starts_at, ends_at in rows:
        other = Window(utc_from_store(starts_at), utc_from_store(ends_at))
        if access_code_id != exclude_id and other.overlaps(window):
            return str(access_code_id)
    return None


_PINS = Prepared(
    select(access_codes.c.code).where(
        access_codes.c.device_id == bindparam("device_id"), access_codes.c.code.is_not(None)
    )
)
_SHARED = Prepared(
    select(access_codes.c.code)
    .where(
        access_codes.c.workspace_id == bindparam("workspace_id"),
        access_codes.c.common_code_key == bindparam("key"),
        access_codes.c.code.is_not(None),
    )
    .order_by(access_codes.c.seq)
    .limit(1)
)


def pins_on_device(conn: AnyConnection, device_id: str) -> set[str]:
    return {r[0] for r in _PINS.all(RawConnection.of(conn), {"device_id": device_id})}


def _shared_code(conn: AnyConnection, workspace_id: str, key: str) -> str | None:
    row = _SHARED.first(RawConnection.of(conn), {"workspace_id": workspace_id, "key": key})
    return None if row is None else str(row[0])


def choose_code(
    deps: Deps, conn: AnyConnection, device: Row[Any], caps: Capabilities, p: dict[str, Any]
) -> tuple[str | None, bool]:
    """The PIN for a new code and whether pinwarden generated it."""
    if caps.pin_generated_by_provider:
        if "code" in p:
            raise invalid(
                "code", "this lock generates its own PINs (cannot_specify_pin_code); omit code"
            )
        return None, True
    if "code" in p:
        return str(p["code"]), False
    if p.get("common_code_key"):
        shared = _shared_code(conn, device.workspace_id, p["common_code_key"])
        if shared is not None:
            return shared, False
    preferred = int(p["preferred_code_length"]) if "preferred_code_length" in p else None
    avoid = pins_on_device(conn, device.device_id)
    return generate_code(caps, deps.rng, preferred_length=preferred, avoid=avoid), True


def _mutation(code: str, now: datetime, message: str, **extra: Any) -> dict[str, Any]:
    return {"mutation_code": code, "created_at": wire.iso(now), "message": message, **extra}


# Every column a new code may set; the others take their defaults.
_INSERT = Prepared(
    access_codes.insert().values(
        {
            c.key: bindparam(c.key)
            for c in access_codes.c
            if c.key
            in {"access_code_id", "workspace_id", "device_id", "is_managed", "name"}
            | {"code", "common_code_key", "starts_at", "ends_at", "status", "code_generated"}
            | {"errors", "warnings", "pending_mutations", "created_at", *_CREATE_FLAGS.values()}
        }
    )
)


_POOL_ON = Prepared(
    update(devices)
    .where(devices.c.device_id == bindparam("device_id"))
    .values(backup_pool_enabled=True)
)


def insert_code(
    deps: Deps,
    conn: AnyConnection,
    device: Row[Any],
    p: dict[str, Any],
    now: datetime,
    *,
    code: str | None,
    generated: bool,
    window: Window,
) -> str:
    if code is not None and find_duplicate(conn, device.device_id, code, window) is not None:
        raise ServiceError(
            "duplicate_access_code",
            "an access code with this PIN already exists on the device for an overlapping time; "
            "choose another code or change the times",
            409,
        )
    if p.get("use_backup_access_code_pool") and window.is_ongoing:
        raise invalid("use_backup_access_code_pool", "Cannot use the backup pool for ongoing codes")
    if p.get("use_backup_access_code_pool") and not capabilities(device).supports_backup_pool:
        raise invalid(
            "use_backup_access_code_pool",
            f"{device.brand} locks do not support a backup access code pool "
            "(properties.supports_backup_access_code_pool is false)",
        )
    access_code_id = new_id()
    values: dict[str, Any] = {
        "access_code_id": access_code_id,
        "workspace_id": device.workspace_id,
        "device_id": device.device_id,
        "is_managed": True,
        "name": p.get("name"),
        "code": code,
        "common_code_key": p.get("common_code_key"),
        "starts_at": window.starts_at,
        "ends_at": window.ends_at,
        "status": CodeStatus.UNSET.value,
        "code_generated": generated,
        "errors": [],
        "warnings": [],
        "pending_mutations": [_mutation("creating", now, "Programming the code onto the lock.")],
        "created_at": now,
    }
    for param, column in _CREATE_FLAGS.items():
        if param in p:
            values[column] = bool(p[param])
    raw = RawConnection.of(conn)
    _INSERT.run(raw, values).close()
    if p.get("use_backup_access_code_pool") and not device.backup_pool_enabled:
        _POOL_ON.run(raw, {"device_id": device.device_id}).close()
    events.record(
        conn,
        device.workspace_id,
        "access_code.created",
        now,
        device=device,
        access_code_id=access_code_id,
    )
    return access_code_id


def get_code_row(
    conn: Connection,
    workspace_id: str,
    access_code_id: str,
    *,
    managed: bool = True,
    device_id: str | None = None,
    lock: bool = False,
) -> Row[Any]:
    """The code, 404 unless it is in the workspace (and on `device_id`, when one is given).
    `lock`: its lock's row is held first (`lock_devices`), and the code read after that."""
    query = select(access_codes).where(
        access_codes.c.access_code_id == access_code_id,
        access_codes.c.workspace_id == workspace_id,
        access_codes.c.is_managed.is_(managed),
    )
    row = conn.execute(query).first()
    if row is not None and lock and conn.dialect.name == "postgresql":
        lock_devices(conn, [row.device_id])
        row = conn.execute(query).first()
    if row is None or (device_id is not None and row.device_id != device_id):
        data = {"access_code_id": access_code_id}
        if device_id is not None:
            data["device_id"] = device_id
        raise not_found("access_code", "Access code not found", **data)
    return row


def render(conn: Connection, rows: list[Row[Any]]) -> list[dict[str, Any]]:
    """Codes this connection has read (or written), for a response."""
    return [_read(conn, r.workspace_id, r.access_code_id, managed=r.is_managed) for r in rows]


def _read(
    conn: AnyConnection, workspace_id: str, access_code_id: str, *, managed: bool = True
) -> dict[str, Any]:
    params = {"workspace_id": workspace_id, "managed": managed, "access_code_id": access_code_id}
    body: dict[str, Any] = _body(code_reads.BY_ID.first(RawConnection.of(conn), params))
    return body


def _body(read: Any, embed: bool = False) -> Any:
    """A code as service/code_reads reads it: (wire, lock errors, pool ready, time-bound, uses
    the pool, ...)."""
    wire_text, lock_errors, pool_ready, time_bound, uses_pool = read[:5]
    shown = wire.lock_errors_shown(lock_errors, bool(uses_pool))
    return wire.access_code(wire_text, shown, pool_ready and time_bound, embed=embed)


def create(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    window = window_from(p, now)
    with deps.store.raw_begin() as conn:
        device = get_device_row(conn, workspace_id, p["device_id"], lock=True)
        code, generated = choose_code(deps, conn, device, capabilities(device), p)
        access_code_id = insert_code(
            deps, conn, device, p, now, code=code, generated=generated, window=window
        )
        body = _read(conn, workspace_id, access_code_id)
        attempt = action_attempts.record(
            conn,
            workspace_id,
            "CREATE_ACCESS_CODE",
            now,
            result={"access_code": body},
            device_id=device.device_id,
            access_code_id=access_code_id,
        )
        later = look_again_at(window, now)
        defer_wake(conn, device.device_id, later or now)  # durable, unlike the request below
    if later is None:
        deps.runner.request_reconcile(device.device_id)
    return {"access_code": body, "action_attempt": attempt}


# A code that cannot be programmed for more than this long is looked at within a minute rather
# than at once: its preflight verdict is still days ahead of the issue deadline, and a burst of
# bookings for one lock costs one reconcile instead of one each.
_FAR = Policy().horizon + timedelta(days=1)
_BATCH = timedelta(seconds=60)


def look_again_at(window: Window, now: datetime) -> datetime | None:
    """When the engine must first look at a new code: None is at once."""
    if window.starts_at is None or window.starts_at - now <= _FAR:
        return None
    return now + _BATCH


def get(
    deps: Deps,
    workspace_id: str,
    p: dict[str, Any],
    *,
    managed: bool = True,
    for_wire: bool = False,
) -> Any:
    """One code, by id or by lock and PIN. `for_wire`: it only goes out as JSON (the API), so
    it is embedded as the database keeps it (wire.access_code)."""
    params = {"workspace_id": workspace_id, "managed": managed, **p}
    if "access_code_id" in p:
        query, missing = code_reads.BY_ID, {"access_code_id": p["access_code_id"]}
    elif "device_id" in p and "code" in p:
        query, missing = code_reads.BY_PIN, {"device_id": p["device_id"]}
    else:
        raise invalid("access_code_id", "give access_code_id, or both device_id and code")
    with deps.store.raw_read() as raw:
        row = query.first(raw, params)
    if row is None:
        raise not_found("access_code", "Access code not found", **missing)
    return _body(row, for_wire)


def list_codes(
    deps: Deps,
    workspace_id: str,
    p: dict[str, Any],
    *,
    managed: bool = True,
    for_wire: bool = False,
) -> Page:
    """`for_wire`: the items only go out as JSON (the API): codes are embedded as the
    database keeps them (wire.access_code)."""
    if asks_for_foreign(p):
        return empty_page()
    default = 55_000 if managed else 300_000
    if "access_code_ids" in p or "search" in p:
        return _filtered(deps, workspace_id, p, managed, for_wire, default)
    limit, query_hash, after = page_request(access_codes, p, default)
    query = code_reads.PAGES[(managed, "device_id" in p, after is not None)]
    params = {
        "workspace_id": workspace_id,
        "device_id": p.get("device_id"),
        "after": after[0] if after else None,
        "limit": limit + 1,
    }
    with deps.store.raw_read() as raw:
        rows = query.all(raw, params)
    has_next = len(rows) > limit
    items = [_body(row, for_wire) for row in rows[:limit]]
    cursor = encode_cursor(query_hash, [rows[limit - 1][5]]) if has_next else None
    return Page(
        items, {"has_next_page": has_next, "next_page_cursor": cursor, "next_page_url": None}
    )


def _filtered(
    deps: Deps, workspace_id: str, p: dict[str, Any], managed: bool, for_wire: bool, default: int
) -> Page:
    """A list filtered by ids or a search term."""
    conds = [
        access_codes.c.workspace_id == workspace_id,
        access_codes.c.is_managed.is_(managed),
        code_reads.ON_LOCK,
    ]
    if managed:
        conds.append(access_codes.c.is_backup.is_(False))
    if "device_id" in p:
        conds.append(access_codes.c.device_id == p["device_id"])
    if "access_code_ids" in p:
        # An empty list asks for no codes, not for every code.
        conds.append(access_codes.c.access_code_id.in_(p["access_code_ids"]))
    if "search" in p:
        # A partial match on the literal text: `%` and `_` are not wildcards here.
        term = p["search"]
        conds.append(
            or_(
                holds_text(access_codes.c.name, term),
                holds_text(access_codes.c.code, term, any_case=False),
                holds_text(access_codes.c.access_code_id, term, any_case=False),
            )
        )

    def render_rows(_conn: Connection, rows: list[Row[Any]]) -> list[Any]:
        return [_body(r, for_wire) for r in rows]

    return paginate(
        deps,
        access_codes,
        and_(*conds),
        p,
        render_rows,
        default_limit=default,
        columns=code_reads.COLUMNS,
    )


def generate(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """A PIN the lock would take, shown as the access code it would make (not stored)."""
    with deps.store.read() as conn:
        device = get_device_row(conn, workspace_id, p["device_id"])
        caps = capabilities(device)
        if caps.pin_generated_by_provider:
            raise ServiceError(
                "invalid_input", "this lock generates its own PINs (cannot_specify_pin_code)"
            )
        code = generate_code(caps, deps.rng, avoid=pins_on_device(conn, device.device_id))
        values = {
            "access_code_id": new_id(),
            "workspace_id": workspace_id,
            "device_id": device.device_id,
            "is_managed": True,
            "code": code,
            "status": CodeStatus.UNSET.value,
            "created_at": deps.clock.now(),
        }
        rendered = access_code_wire.render_values(conn, values)
    return {"generated_code": wire.access_code(rendered)}


_FORGET = delete(access_codes).where(access_codes.c.access_code_id == bindparam("b_id"))


def forget(conn: Connection | Writes, access_code_id: str) -> None:
    conn.execute(_FORGET, {"b_id": access_code_id})
