"""Devices and connected accounts: lookups scoped to a workspace, capabilities, wire shape."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Connection, Row, and_, select, update

from pinwarden.catalog.brands import BRANDS, brand_profile, capabilities_to_seam_properties
from pinwarden.domain.model import Capabilities
from pinwarden.service import wire
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError, invalid, not_found
from pinwarden.service.pagination import Page, each, paginate
from pinwarden.store.schema import connected_accounts, devices

_OVERRIDABLE = {f.name for f in dataclasses.fields(Capabilities)}


def get_device_row(conn: Connection, workspace_id: str, device_id: str) -> Row[Any]:
    row = conn.execute(
        select(devices).where(
            devices.c.device_id == device_id,
            devices.c.workspace_id == workspace_id,
            devices.c.removed_at.is_(None),
        )
    ).first()
    if row is None:
        raise not_found("device", device_id=device_id)
    return row


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
    properties: dict[str, Any] = {
        "online": bool(row.online),
        "name": row.nickname or row.name,
        "appearance": {"name": row.nickname or row.name},
        **capabilities_to_seam_properties(profile, caps),
        "backup_access_code_pool_enabled": bool(row.backup_pool_enabled),
        "has_native_entry_events": True,
        "native_scheduling_supported": caps.native_scheduling,
    }
    is_sandbox = row.provider == "sandbox"
    return {
        "device_id": row.device_id,
        "device_type": profile.device_type,
        "display_name": row.nickname or row.name,
        "nickname": row.nickname,
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
        "device_provider": {"device_provider_name": row.provider},
        "can_program_online_access_codes": True,
        "can_unlock_with_code": True,
        "can_simulate_connection": is_sandbox,
        "can_simulate_disconnection": is_sandbox,
        "can_simulate_removal": is_sandbox,
    }


def list_devices(deps: Deps, workspace_id: str, p: dict[str, Any]) -> Page:
    conds = [devices.c.workspace_id == workspace_id, devices.c.removed_at.is_(None)]
    ids = p.get("device_ids", [])
    if ids:
        conds.append(devices.c.device_id.in_(ids))
    accounts = p.get("connected_account_ids", []) + (
        [p["connected_account_id"]] if "connected_account_id" in p else []
    )
    if accounts:
        conds.append(devices.c.connected_account_id.in_(accounts))
    types = p.get("device_types", []) + ([p["device_type"]] if "device_type" in p else [])
    if types:
        brands = [b for b, prof in BRANDS.items() if prof.device_type in types]
        conds.append(devices.c.brand.in_(brands))
    if "manufacturer" in p:
        conds.append(devices.c.brand == p["manufacturer"])
    if "search" in p:
        like = f"%{p['search']}%"
        conds.append(devices.c.name.ilike(like) | devices.c.nickname.ilike(like))
    if "created_before" in p:
        conds.append(devices.c.created_at < p["created_before"])
    return paginate(deps, devices, and_(*conds), p, each(device_to_wire), default_limit=500)


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


def update_device(deps: Deps, workspace_id: str, p: dict[str, Any]) -> None:
    values: dict[str, Any] = {}
    if "name" in p:
        values["nickname"] = p["name"]
    if isinstance(p.get("properties"), dict) and "name" in p["properties"]:
        values["nickname"] = p["properties"]["name"]
    if "custom_metadata" in p:
        values["custom_metadata"] = p["custom_metadata"]
    if "backup_access_code_pool_enabled" in p:
        values["backup_pool_enabled"] = p["backup_access_code_pool_enabled"]
    if p.get("is_managed") is False:
        raise ServiceError(
            "invalid_input", "pinwarden manages every device it knows; remove it instead"
        )
    with deps.store.begin() as conn:
        row = get_device_row(conn, workspace_id, p["device_id"])
        if values:
            conn.execute(update(devices).where(devices.c.device_id == row.device_id).values(values))
    if "backup_access_code_pool_enabled" in p:
        deps.runner.request_reconcile(p["device_id"])


def list_connected_accounts(deps: Deps, workspace_id: str, p: dict[str, Any]) -> Page:
    cond = connected_accounts.c.workspace_id == workspace_id
    return paginate(
        deps, connected_accounts, cond, p, each(wire.connected_account), default_limit=11000
    )


def get_connected_account(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    if "connected_account_id" not in p:
        raise invalid("connected_account_id", "Required")
    with deps.store.read() as conn:
        row = conn.execute(
            select(connected_accounts).where(
                connected_accounts.c.workspace_id == workspace_id,
                connected_accounts.c.connected_account_id == p["connected_account_id"],
            )
        ).first()
    if row is None:
        raise not_found("connected_account", connected_account_id=p["connected_account_id"])
    return wire.connected_account(row)
