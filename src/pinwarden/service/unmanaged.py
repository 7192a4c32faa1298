"""Unmanaged access codes: codes found on a lock that pinwarden did not put there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, update

from pinwarden.domain.ids import new_id
from pinwarden.domain.model import CodeStatus
from pinwarden.service import events
from pinwarden.service.access_code_changes import delete_code
from pinwarden.service.access_codes import get_code_row, list_codes
from pinwarden.service.deps import Deps
from pinwarden.service.devices import capabilities, defer_wake, get_device_row
from pinwarden.service.errors import ServiceError, invalid
from pinwarden.service.pagination import Page
from pinwarden.store.schema import access_codes
from pinwarden.store.slot_writes import remember_write


def record_unmanaged(
    conn: Connection,
    device: Row[Any],
    slot: int,
    code: str | None,
    name: str | None,
    now: datetime,
) -> str:
    """Store a code seen on the lock in `slot` that no managed code explains."""
    access_code_id = new_id()
    conn.execute(
        access_codes.insert().values(
            access_code_id=access_code_id,
            workspace_id=device.workspace_id,
            device_id=device.device_id,
            is_managed=False,
            name=name,
            code=code,
            status=CodeStatus.SET.value,
            slot=slot,
            errors=[],
            warnings=[],
            pending_mutations=[],
            created_at=now,
            confirmed_at=now,
        )
    )
    events.record(
        conn,
        device.workspace_id,
        "access_code.unmanaged.created",
        now,
        device=device,
        access_code_id=access_code_id,
    )
    return access_code_id


def list_unmanaged(deps: Deps, workspace_id: str, p: dict[str, Any]) -> Page:
    return list_codes(deps, workspace_id, p, managed=False)


def convert_to_managed(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    with deps.store.begin() as conn:
        row = get_code_row(conn, workspace_id, p["access_code_id"], managed=False, lock=True)
        device = get_device_row(conn, workspace_id, row.device_id)
        if not capabilities(device).supports_unmanaged_conversion:
            # Refused up front, so nothing is written (not even a failed_to_convert event).
            raise ServiceError(
                "unsupported_conversion",
                "this lock's brand does not let pinwarden take over existing codes; delete the "
                "code and create a managed one instead",
            )
        if row.delete_requested_at is not None:
            raise invalid("access_code_id", "this code is being deleted")
        allow = p.get(
            "allow_external_modification", p.get("is_external_modification_allowed", False)
        )
        conn.execute(
            update(access_codes)
            .where(access_codes.c.seq == row.seq)
            .values(
                is_managed=True,
                status=CodeStatus.SET.value,
                allow_external_modification=allow,
                confirmed_at=now,
                pending_mutations=[],
            )
        )
        if row.slot is not None:
            remember_write(
                conn, row.device_id, row.slot, row.code, row.name, row.access_code_id, now
            )
        events.record(
            conn,
            workspace_id,
            "access_code.unmanaged.converted_to_managed",
            now,
            device=device,
            access_code_id=row.access_code_id,
        )
        defer_wake(conn, row.device_id, now)
    deps.runner.request_reconcile(row.device_id)
    # Seam answers `{ok}`; an action attempt would need a type outside Seam's action_attempt
    # union, which would then break /action_attempts/list for clients that check the schema.
    return {}


def update_unmanaged(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    if not p["is_managed"]:
        raise invalid("is_managed", "Use /access_codes/update to convert access codes to unmanaged")
    convert_to_managed(deps, workspace_id, p)
    return {}


def delete_unmanaged(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    return delete_code(deps, workspace_id, p, managed=False)
