"""Operator actions the mitigations call for: retry now, and forget a code whose removal the
lock can never confirm (Kwikset)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from pinwarden.service import events
from pinwarden.service.access_codes import forget, get_code_row
from pinwarden.service.deps import Deps
from pinwarden.service.devices import defer_wake, get_device_row
from pinwarden.service.errors import ServiceError
from pinwarden.store.schema import access_codes, devices, slot_writes


def retry(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """Forget backoff and the breaker for this code and its lock, and try again at once."""
    with deps.store.begin() as conn:
        row = get_code_row(conn, workspace_id, p["access_code_id"], lock=True)
        conn.execute(
            update(access_codes)
            .where(access_codes.c.seq == row.seq)
            .values(
                attempts=0,
                retry_at=None,
                failure=None,
                removal_sent_at=None,
                unconfirmed_writes=0,
                written_at=None,
                # Forget that the lock showed it as written: a change made at the lock that
                # pinwarden may not undo alone (a lock choosing its own PINs) is undone now.
                confirmed_at=None,
            )
        )
        conn.execute(
            update(devices)
            .where(devices.c.device_id == row.device_id)
            .values(failure_count=0, retry_at=None)
        )
        defer_wake(conn, row.device_id, deps.clock.now())
    deps.runner.request_reconcile(row.device_id)
    # No action attempt: Seam has no retry action type, and /action_attempts/list must only
    # hold types from Seam's union.
    return {}


def force_forget(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """Drop the record of a code being removed whose removal cannot be confirmed.

    The operator has checked (for Kwikset: in the app, over Bluetooth) that the code is gone.
    If the lock still shows it after all, it is listed as an unmanaged code, never hidden:
    a PIN that opens the door is always somewhere in the lists.
    """
    now = deps.clock.now()
    with deps.store.begin() as conn:
        row = get_code_row(conn, workspace_id, p["access_code_id"], lock=True)
        gone = row.delete_requested_at is not None or (
            row.ends_at is not None and row.ends_at <= now
        )
        if not gone:
            raise ServiceError(
                "access_code_not_being_removed",
                "force_forget is only for codes being removed; delete the code first",
            )
        device = get_device_row(conn, workspace_id, row.device_id)
        conn.execute(
            slot_writes.delete().where(
                slot_writes.c.device_id == row.device_id,
                slot_writes.c.access_code_id == row.access_code_id,
            )
        )
        forget(conn, row.access_code_id)
        events.record(
            conn,
            workspace_id,
            "access_code.deleted",
            now,
            device=device,
            access_code_id=row.access_code_id,
            code=row.code,
            change_reason="forgotten by an operator; removal could not be confirmed",
        )
        defer_wake(conn, row.device_id, now)
    deps.runner.request_reconcile(row.device_id)
    return {}
