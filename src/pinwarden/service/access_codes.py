"""Managed access codes: the desired state users write. The engine makes it true on the lock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, or_, select, update

from pinwarden.domain.codes import generate_code
from pinwarden.domain.ids import new_id
from pinwarden.domain.model import Capabilities, CodeStatus, Window
from pinwarden.planner.types import Policy
from pinwarden.service import action_attempts, events, wire, wire_sql
from pinwarden.service.deps import Deps
from pinwarden.service.devices import capabilities, defer_wake, get_device_row, lock_devices
from pinwarden.service.errors import InvalidInput, ServiceError, invalid, not_found
from pinwarden.service.pagination import Page, asks_for_foreign, empty_page, paginate
from pinwarden.store.schema import access_codes, devices
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


def _live(device_id: str) -> Any:
    return and_(
        access_codes.c.device_id == device_id,
        access_codes.c.is_managed.is_(True),
        access_codes.c.delete_requested_at.is_(None),
    )


def find_duplicate(
    conn: Connection, device_id: str, code: str, window: Window, exclude_id: str | None = None
) -> Row[Any] | None:
    """A managed code on the device with the same PIN whose window overlaps `window`."""
    rows = conn.execute(
        select(access_codes).where(_live(device_id), access_codes.c.code == code)
    ).all()
    for row in rows:
        if row.access_code_id != exclude_id and Window(row.starts_at, row.ends_at).overlaps(window):
            return row
    return None


def pins_on_device(conn: Connection, device_id: str) -> set[str]:
    rows = conn.execute(
        select(access_codes.c.code).where(
            access_codes.c.device_id == device_id, access_codes.c.code.is_not(None)
        )
    )
    return {r.code for r in rows}


def _shared_code(conn: Connection, workspace_id: str, key: str) -> str | None:
    row = conn.execute(
        select(access_codes.c.code)
        .where(
            access_codes.c.workspace_id == workspace_id,
            access_codes.c.common_code_key == key,
            access_codes.c.code.is_not(None),
        )
        .order_by(access_codes.c.seq)
        .limit(1)
    ).first()
    return None if row is None else str(row.code)


def choose_code(
    deps: Deps, conn: Connection, device: Row[Any], caps: Capabilities, p: dict[str, Any]
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


def insert_code(
    deps: Deps,
    conn: Connection,
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
    conn.execute(access_codes.insert().values(values))
    if p.get("use_backup_access_code_pool") and not device.backup_pool_enabled:
        conn.execute(
            update(devices)
            .where(devices.c.device_id == device.device_id)
            .values(backup_pool_enabled=True)
        )
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
    """Wire form of codes, with device issues copied on and backup availability computed."""
    device_ids = {r.device_id for r in rows}
    if not device_ids:
        return []
    device_rows = conn.execute(
        select(devices.c.device_id, devices.c.errors, devices.c.backup_pool_enabled).where(
            devices.c.device_id.in_(device_ids)
        )
    ).all()
    errors = {d.device_id: list(d.errors) for d in device_rows}
    pool_devices = [d.device_id for d in device_rows if d.backup_pool_enabled]
    with_backup: set[str] = set()
    if pool_devices:
        with_backup = {
            r.device_id
            for r in conn.execute(
                select(access_codes.c.device_id).where(
                    access_codes.c.device_id.in_(pool_devices),
                    access_codes.c.is_backup.is_(True),
                    access_codes.c.backup_pulled_for.is_(None),
                    access_codes.c.status == CodeStatus.SET.value,
                )
            )
        }
    return [
        wire.access_code(
            r,
            errors.get(r.device_id),
            backup_available=r.ends_at is not None and r.device_id in with_backup,
        )
        for r in rows
    ]


def create(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    window = window_from(p, now)
    with deps.store.begin() as conn:
        device = get_device_row(conn, workspace_id, p["device_id"], lock=True)
        code, generated = choose_code(deps, conn, device, capabilities(device), p)
        access_code_id = insert_code(
            deps, conn, device, p, now, code=code, generated=generated, window=window
        )
        body = render(conn, [get_code_row(conn, workspace_id, access_code_id)])[0]
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
    deps: Deps, workspace_id: str, p: dict[str, Any], *, managed: bool = True
) -> dict[str, Any]:
    with deps.store.read() as conn:
        if "access_code_id" in p:
            row = get_code_row(conn, workspace_id, p["access_code_id"], managed=managed)
        elif "device_id" in p and "code" in p:
            row = conn.execute(
                select(access_codes)
                .where(
                    access_codes.c.workspace_id == workspace_id,
                    access_codes.c.device_id == p["device_id"],
                    access_codes.c.code == p["code"],
                    access_codes.c.is_managed.is_(managed),
                )
                .order_by(access_codes.c.seq.desc())
                .limit(1)
            ).first()
            if row is None:
                raise not_found("access_code", "Access code not found", device_id=p["device_id"])
        else:
            raise invalid("access_code_id", "give access_code_id, or both device_id and code")
        return render(conn, [row])[0]


def list_codes(
    deps: Deps,
    workspace_id: str,
    p: dict[str, Any],
    *,
    managed: bool = True,
    for_wire: bool = False,
) -> Page:
    """`for_wire`: the items only go out as JSON (the API), so on SQLite the database renders
    them (service/wire_sql.py)."""
    if asks_for_foreign(p):
        return empty_page()
    conds = [access_codes.c.workspace_id == workspace_id, access_codes.c.is_managed.is_(managed)]
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
    default = 55_000 if managed else 300_000
    if for_wire and managed and deps.store.is_sqlite:
        return paginate(
            deps,
            access_codes,
            and_(*conds),
            p,
            wire_sql.render,
            default_limit=default,
            columns=wire_sql.COLUMNS,
        )
    return paginate(deps, access_codes, and_(*conds), p, render, default_limit=default)


def generate(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    with deps.store.read() as conn:
        device = get_device_row(conn, workspace_id, p["device_id"])
        caps = capabilities(device)
        if caps.pin_generated_by_provider:
            raise ServiceError(
                "invalid_input", "this lock generates its own PINs (cannot_specify_pin_code)"
            )
        code = generate_code(caps, deps.rng, avoid=pins_on_device(conn, device.device_id))
    now = deps.clock.now()
    return {
        "generated_code": {
            "device_id": device.device_id,
            "code": code,
            "access_code_id": new_id(),
            "workspace_id": workspace_id,
            "name": None,
            "common_code_key": None,
            "type": "ongoing",
            "status": "unset",
            "created_at": wire.iso(now),
            "errors": [],
            "warnings": [],
            "is_managed": True,
            "is_backup_access_code_available": False,
            "is_external_modification_allowed": False,
            "is_one_time_use": False,
            "is_offline_access_code": False,
            "pending_mutations": [],
        }
    }


_FORGET = delete(access_codes).where(access_codes.c.access_code_id == bindparam("b_id"))


def forget(conn: Connection | Writes, access_code_id: str) -> None:
    conn.execute(_FORGET, {"b_id": access_code_id})
