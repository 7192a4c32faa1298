"""Backup access codes: a per-lock pool of codes kept on the lock, pulled when a code fails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from pinwarden.domain.codes import generate_code
from pinwarden.domain.ids import new_id
from pinwarden.domain.model import Capabilities, CodeStatus
from pinwarden.service import events, wire
from pinwarden.service.access_codes import get_code_row, render
from pinwarden.service.deps import Deps
from pinwarden.service.devices import capabilities, defer_wake, get_device_row
from pinwarden.service.errors import ServiceError
from pinwarden.store.schema import access_codes

POOL_SIZE = 2


def unpulled_backups(conn: Connection, device_id: str) -> list[Row[Any]]:
    return conn.execute(
        select(access_codes)
        .where(
            access_codes.c.device_id == device_id,
            access_codes.c.is_backup.is_(True),
            access_codes.c.backup_pulled_for.is_(None),
            access_codes.c.delete_requested_at.is_(None),
        )
        .order_by(access_codes.c.seq)
    ).all()


def backup_name(caps: Capabilities, backup_id: str) -> str:
    """A backup code's name as the lock will take it (Kwikset: 2 to 14 characters): a name
    the lock refuses would keep the code off the lock for good."""
    name = f"Backup {backup_id[:8]} (pinwarden)"
    if caps.name_max_length is not None and len(name) > caps.name_max_length:
        name = f"Backup {backup_id[:8]}"[: caps.name_max_length].rstrip()
    return name


def refill_pool(deps: Deps, conn: Connection, device: Row[Any], now: datetime) -> int:
    """Add backup codes (desired state) until the pool has POOL_SIZE; returns how many."""
    caps = capabilities(device)
    if not (device.backup_pool_enabled and caps.supports_backup_pool):
        return 0
    missing = POOL_SIZE - len(unpulled_backups(conn, device.device_id))
    pins = {
        r.code
        for r in conn.execute(
            select(access_codes.c.code).where(access_codes.c.device_id == device.device_id)
        )
    }
    for _ in range(max(missing, 0)):
        code = None if caps.pin_generated_by_provider else generate_code(caps, deps.rng, avoid=pins)
        pins.add(code)
        backup_id = new_id()
        conn.execute(
            access_codes.insert().values(
                access_code_id=backup_id,
                workspace_id=device.workspace_id,
                device_id=device.device_id,
                is_managed=True,
                is_backup=True,
                name=backup_name(caps, backup_id),
                code=code,
                code_generated=True,
                status=CodeStatus.UNSET.value,
                errors=[],
                warnings=[],
                pending_mutations=[],
                created_at=now,
            )
        )
    return max(missing, 0)


def pull(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    with deps.store.begin() as conn:
        original = get_code_row(conn, workspace_id, p["access_code_id"], lock=True)
        backup = pull_for(conn, original, now)
        body = render(conn, [backup])[0]
        defer_wake(conn, original.device_id, now)
    deps.runner.request_reconcile(original.device_id)
    return {"access_code": body, "backup_access_code": body}


def pull_for(conn: Connection, original: Row[Any], now: datetime) -> Row[Any]:
    """Link a programmed backup to `original` (idempotent) and return the backup's row."""
    if original.ends_at is None:
        raise ServiceError(
            "access_code_not_time_bound",
            "backup codes can only stand in for time-bound access codes",
        )
    if original.pulled_backup_access_code_id:
        return get_code_row(conn, original.workspace_id, original.pulled_backup_access_code_id)
    device = get_device_row(conn, original.workspace_id, original.device_id)
    ready = [
        b for b in unpulled_backups(conn, device.device_id) if b.status == CodeStatus.SET.value
    ]
    if not ready:
        raise ServiceError(
            "backup_access_code_not_found",
            "no backup code is programmed on this lock; create codes with "
            "use_backup_access_code_pool=true and wait for the pool to be programmed",
            404,
        )
    backup = ready[0]
    conn.execute(
        update(access_codes)
        .where(access_codes.c.seq == backup.seq)
        .values(backup_pulled_for=original.access_code_id, starts_at=now, ends_at=original.ends_at)
    )
    warnings = wire.with_warning(
        original.warnings,
        "using_backup_access_code",
        f"Backup code {backup.access_code_id} stands in for this code.",
        now,
    )
    conn.execute(
        update(access_codes)
        .where(access_codes.c.seq == original.seq)
        .values(pulled_backup_access_code_id=backup.access_code_id, warnings=warnings)
    )
    events.record(
        conn,
        original.workspace_id,
        "access_code.backup_access_code_pulled",
        now,
        device=device,
        access_code_id=original.access_code_id,
        backup_access_code_id=backup.access_code_id,
    )
    return conn.execute(select(access_codes).where(access_codes.c.seq == backup.seq)).one()
