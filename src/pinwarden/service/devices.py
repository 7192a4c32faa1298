"""Devices and connected accounts: lookups scoped to a workspace, capabilities, wire shape."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    bindparam,
    case,
    false,
    not_,
    or_,
    select,
    true,
    update,
)

from pinwarden.catalog.brands import (
    BRANDS,
    REAL_LOCK_BRANDS,
    brand_profile,
    capabilities_to_seam_properties,
    seam_device_type,
)
from pinwarden.domain.model import Capabilities
from pinwarden.service import wire
from pinwarden.service.deps import Deps
from pinwarden.service.errors import invalid, not_found
from pinwarden.service.pagination import Page, asks_for_foreign, each, empty_page, paginate
from pinwarden.store.prepared import AnyConnection, Prepared, RawConnection
from pinwarden.store.schema import connected_accounts, devices
from pinwarden.store.text import holds_text

_OVERRIDABLE = {f.name for f in dataclasses.fields(Capabilities)}


_DEVICE = Prepared(
    select(devices).where(
        devices.c.device_id == bindparam("device_id"),
        devices.c.workspace_id == bindparam("workspace_id"),
        devices.c.removed_at.is_(None),
    )
)
_DEVICE_HELD = Prepared(
    select(devices)
    .where(
        devices.c.device_id == bindparam("device_id"),
        devices.c.workspace_id == bindparam("workspace_id"),
        devices.c.removed_at.is_(None),
    )
    .with_for_update()
)
_HOLD = Prepared(
    select(devices.c.device_id)
    .where(devices.c.device_id == bindparam("device_id"))
    .with_for_update()
)


def get_device_row(
    conn: AnyConnection, workspace_id: str, device_id: str, *, lock: bool = False
) -> Row[Any]:
    """The device, 404 unless it is in the workspace. `lock`: hold its row until the
    transaction ends (see `lock_devices`)."""
    raw = RawConnection.of(conn)
    held = lock and raw.dialect.name == "postgresql"
    params = {"device_id": device_id, "workspace_id": workspace_id}
    row: Row[Any] | None = (_DEVICE_HELD if held else _DEVICE).record(raw, params)
    if row is None:
        raise not_found("device", device_id=device_id)
    return row


def lock_devices(conn: AnyConnection, device_ids: Iterable[str]) -> None:
    """Hold these devices' rows until the transaction ends, in one order (their ids).

    Every transaction that changes a lock's codes takes its lock's row first, the engine's
    too: two transactions then never hold rows the other waits for (on PostgreSQL; SQLite's
    writers hold the whole database from BEGIN IMMEDIATE)."""
    raw = RawConnection.of(conn)
    if raw.dialect.name != "postgresql":
        return
    for device_id in sorted(set(device_ids)):
        _HOLD.run(raw, {"device_id": device_id}).close()


def defer_wake(conn: AnyConnection, device_id: str, at: datetime) -> None:
    """Have the engine look at the device no later than `at` (wakes only ever move earlier).
    Every ask is counted, even one an earlier wake already covers: the engine may be working
    on the lock right now, and must not drop the ask when it records its own next wake."""
    _DEFER_WAKE.run(RawConnection.of(conn), {"device_id": device_id, "at": at}).close()


def earlier_wake(moment: ColumnElement[Any]) -> ColumnElement[Any]:
    """SQL for the earlier of a device's stored wake and `moment`; a null is no wake at all."""
    wake = devices.c.next_wake_at
    return case(
        (moment.is_(None), wake),
        (wake.is_(None) | (wake > moment), moment),
        else_=wake,
    )


_DEFER_WAKE = Prepared(
    update(devices)
    .where(devices.c.device_id == bindparam("device_id"))
    .values(
        next_wake_at=earlier_wake(bindparam("at", type_=devices.c.next_wake_at.type)),
        wake_asks=devices.c.wake_asks + 1,
    )
)


def capabilities(row: Row[Any], base: Capabilities | None = None) -> Capabilities:
    """The brand profile (or what the lock itself reports, `base`) with this device's overrides
    (reported constraints, slot capacity)."""
    base = base or brand_profile(row.brand).capabilities
    overrides = {k: v for k, v in dict(row.overrides).items() if k in _OVERRIDABLE}
    for key in ("supported_code_lengths", "code_constraints"):
        if key in overrides:
            overrides[key] = tuple(overrides[key])
    return dataclasses.replace(base, **overrides) if overrides else base


def device_to_wire(row: Row[Any]) -> dict[str, Any]:
    profile = brand_profile(row.brand)
    caps = capabilities(row)
    reported = dict(row.provider_metadata)
    properties: dict[str, Any] = {
        "online": bool(row.online),
        "name": row.nickname or row.name,
        "appearance": {"name": row.nickname or row.name},
        **capabilities_to_seam_properties(profile, caps),
        "backup_access_code_pool_enabled": bool(row.backup_pool_enabled),
        "has_native_entry_events": True,
        "native_scheduling_supported": caps.native_scheduling,
    }
    if reported.get("manufacturer") or reported.get("model"):
        properties["model"] = {
            **properties["model"],
            "manufacturer_display_name": reported.get("manufacturer")
            or profile.manufacturer_display_name,
            "display_name": reported.get("model") or profile.model_display_name,
        }
    if row.locked is not None:
        properties["locked"] = bool(row.locked)
    is_sandbox = row.provider == "sandbox"
    body: dict[str, Any] = {
        "device_id": row.device_id,
        "device_type": seam_device_type(profile, reported.get("manufacturer")),
        "display_name": row.nickname or row.name,
        "space_ids": [],
        "capabilities_supported": ["access_code", "lock"],
        "properties": properties,
        "connected_account_id": row.connected_account_id,
        "workspace_id": row.workspace_id,
        "errors": list(row.errors),
        "warnings": list(row.warnings),
        "created_at": wire.iso(row.created_at),
        "is_managed": True,
        "custom_metadata": dict(row.custom_metadata),
        "device_provider": {
            "device_provider_name": row.provider,
            "display_name": f"{profile.manufacturer_display_name} (sandbox)"
            if is_sandbox
            else profile.manufacturer_display_name,
            "provider_category": "sandbox" if is_sandbox else "stable",
        },
        "can_program_online_access_codes": True,
        "can_unlock_with_code": True,
        "can_remotely_lock": True,
        "can_remotely_unlock": True,
        "can_simulate_connection": is_sandbox,
        "can_simulate_disconnection": is_sandbox,
        "can_simulate_removal": is_sandbox,
    }
    if row.nickname is not None:  # optional in Seam's schema, and never null
        body["nickname"] = row.nickname
    if row.time_zone is not None:
        body["location"] = {"time_zone": row.time_zone}
    return body


# Capability flags `include_if` / `exclude_if` can name, as device_to_wire sets them; any other
# flag is false on every pinwarden device.
_ALWAYS = frozenset({"can_program_online_access_codes", "can_unlock_with_code"})
_SANDBOX_ONLY = frozenset(
    {"can_simulate_connection", "can_simulate_disconnection", "can_simulate_removal"}
)


def _has_flag(flag: str) -> ColumnElement[bool]:
    if flag in _ALWAYS:
        return true()
    if flag in _SANDBOX_ONLY:
        return devices.c.provider == "sandbox"
    return false()


def metadata_matches(metadata: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """`custom_metadata_has`: every key present with the value (a query string spells a
    boolean `true`/`false`)."""
    for key, value in wanted.items():
        have = metadata.get(key)
        if isinstance(have, bool) and isinstance(value, str):
            have = "true" if have else "false"
        if key not in metadata or have != value:
            return False
    return True


def list_devices(deps: Deps, workspace_id: str, p: dict[str, Any]) -> Page:
    if asks_for_foreign(p):
        return empty_page()
    conds = [devices.c.workspace_id == workspace_id, devices.c.removed_at.is_(None)]
    conds += [_has_flag(flag) for flag in p.get("include_if", [])]
    conds += [not_(_has_flag(flag)) for flag in p.get("exclude_if", [])]
    if p.get("custom_metadata_has"):
        with deps.store.read() as conn:
            rows = conn.execute(
                select(devices.c.device_id, devices.c.custom_metadata).where(and_(*conds))
            ).all()
        matching = [
            r.device_id
            for r in rows
            if metadata_matches(dict(r.custom_metadata), p["custom_metadata_has"])
        ]
        conds.append(devices.c.device_id.in_(matching))
    if "device_ids" in p:
        # An empty list asks for no devices, not for every device.
        conds.append(devices.c.device_id.in_(p["device_ids"]))
    accounts = p.get("connected_account_ids", []) + (
        [p["connected_account_id"]] if "connected_account_id" in p else []
    )
    if accounts:
        conds.append(devices.c.connected_account_id.in_(accounts))
    types = p.get("device_types", []) + ([p["device_type"]] if "device_type" in p else [])
    if types:
        conds.append(_shown_as(deps, conds, lambda b, t, _: t in types))
    if "manufacturer" in p:
        maker = p["manufacturer"].lower()
        conds.append(
            _shown_as(
                deps,
                conds,
                lambda b, _, m: b == maker or (bool(maker) and maker in (m or "").lower()),
            )
        )
    if "search" in p:
        term = p["search"]
        conds.append(holds_text(devices.c.name, term) | holds_text(devices.c.nickname, term))
    if "created_before" in p:
        conds.append(devices.c.created_at < p["created_before"])
    return paginate(deps, devices, and_(*conds), p, each(device_to_wire), default_limit=500)


def _shown_as(
    deps: Deps, conds: list[ColumnElement[bool]], wanted: Callable[[str, str, str | None], bool]
) -> ColumnElement[bool]:
    """The devices (among those `conds` select) whose (brand, device type shown, maker
    reported) is `wanted`: a sandbox lock's type is its brand's, a real lock's comes from
    the maker it reports (a Yale lock on Zigbee2MQTT is a `yale_lock`)."""
    sandbox = [b for b, prof in BRANDS.items() if wanted(b, prof.device_type, None)]
    with deps.store.read() as conn:
        rows = conn.execute(
            select(devices.c.device_id, devices.c.brand, devices.c.provider_metadata).where(
                and_(*conds), devices.c.brand.in_(list(REAL_LOCK_BRANDS))
            )
        ).all()
    real = []
    for r in rows:
        maker = dict(r.provider_metadata).get("manufacturer")
        if wanted(r.brand, seam_device_type(brand_profile(r.brand), maker), maker):
            real.append(r.device_id)
    return or_(devices.c.brand.in_(sandbox), devices.c.device_id.in_(real))


def get_device(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    with deps.store.read() as conn:
        if "device_id" in p:
            return device_to_wire(get_device_row(conn, workspace_id, p["device_id"]))
        if "name" in p:
            row = conn.execute(
                select(devices).where(
                    devices.c.workspace_id == workspace_id,
                    devices.c.removed_at.is_(None),
                    (devices.c.name == p["name"]) | (devices.c.nickname == p["name"]),
                )
            ).first()
            if row is None:
                raise not_found("device", name=p["name"])
            return device_to_wire(row)
    raise invalid("device_id", "give device_id or name")


_MAX_NAME = 200
_MAX_METADATA_KEYS = 50
_MAX_METADATA_VALUE = 500


def _nickname(value: Any, field: str) -> str | None:
    """A device name as Seam takes it: a string up to 200 characters, or null to clear it."""
    if value is None:
        return None
    if not isinstance(value, str) or "\x00" in value or len(value) > _MAX_NAME:
        raise invalid(field, f"must be a string of at most {_MAX_NAME} characters, or null")
    return value


def _custom_metadata(value: dict[str, Any]) -> dict[str, Any]:
    """Seam's limits: up to 50 keys, each a string of at most 500 characters or a boolean."""
    if len(value) > _MAX_METADATA_KEYS:
        raise invalid("custom_metadata", f"must have at most {_MAX_METADATA_KEYS} keys")
    for key, item in value.items():
        text_ok = isinstance(item, str) and len(item) <= _MAX_METADATA_VALUE and "\x00" not in item
        if "\x00" in key or not (text_ok or isinstance(item, bool) or item is None):
            raise invalid(
                "custom_metadata",
                f"{key!r} must be a string of at most {_MAX_METADATA_VALUE} characters, "
                "a boolean or null",
            )
    return {k: v for k, v in value.items() if v is not None}


def time_zone(value: str | None) -> str | None:
    """An IANA time zone name (`Europe/Paris`), or None to forget the lock's zone."""
    if value is not None and value not in available_timezones():
        raise invalid("time_zone", "must be an IANA time zone such as Europe/Paris")
    return value


def update_device(deps: Deps, workspace_id: str, p: dict[str, Any]) -> None:
    values: dict[str, Any] = {}
    if "time_zone" in p:  # pinwarden's addition: Seam reads it as `location.time_zone`
        values["time_zone"] = time_zone(p["time_zone"])
    if "name" in p:
        values["nickname"] = _nickname(p["name"], "name")
    if "name" in p.get("properties", {}):
        values["nickname"] = _nickname(p["properties"]["name"], "properties")
    if "custom_metadata" in p:
        values["custom_metadata"] = _custom_metadata(p["custom_metadata"])
    if "backup_access_code_pool_enabled" in p:
        values["backup_pool_enabled"] = p["backup_access_code_pool_enabled"]
    if p.get("is_managed") is False:
        raise invalid("is_managed", "pinwarden manages every device it knows; remove it instead")
    with deps.store.begin() as conn:
        row = get_device_row(conn, workspace_id, p["device_id"])
        if values:
            conn.execute(update(devices).where(devices.c.device_id == row.device_id).values(values))
        if "backup_access_code_pool_enabled" in p:
            defer_wake(conn, row.device_id, deps.clock.now())
    if "backup_access_code_pool_enabled" in p:
        deps.runner.request_reconcile(p["device_id"])


def list_connected_accounts(deps: Deps, workspace_id: str, p: dict[str, Any]) -> Page:
    if asks_for_foreign(p):
        return empty_page()
    conds = [
        connected_accounts.c.workspace_id == workspace_id,
        connected_accounts.c.removed_at.is_(None),
    ]
    if "search" in p:
        conds.append(holds_text(connected_accounts.c.display_name, p["search"]))
    if p.get("custom_metadata_has"):
        with deps.store.read() as conn:
            rows = conn.execute(
                select(
                    connected_accounts.c.connected_account_id,
                    connected_accounts.c.custom_metadata,
                ).where(and_(*conds))
            ).all()
        matching = [
            r.connected_account_id
            for r in rows
            if metadata_matches(dict(r.custom_metadata), p["custom_metadata_has"])
        ]
        conds.append(connected_accounts.c.connected_account_id.in_(matching))
    return paginate(
        deps,
        connected_accounts,
        and_(*conds),
        p,
        each(wire.connected_account),
        default_limit=11000,
    )


def get_connected_account(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    if "connected_account_id" not in p:
        if "email" in p:  # pinwarden keeps no account emails, so no account has this one
            raise not_found("connected_account", email=p["email"])
        raise invalid("connected_account_id", "give connected_account_id or email")
    with deps.store.read() as conn:
        row = conn.execute(
            select(connected_accounts).where(
                connected_accounts.c.workspace_id == workspace_id,
                connected_accounts.c.connected_account_id == p["connected_account_id"],
                connected_accounts.c.removed_at.is_(None),
            )
        ).first()
    if row is None:
        raise not_found("connected_account", connected_account_id=p["connected_account_id"])
    return wire.connected_account(row)
