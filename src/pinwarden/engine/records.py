"""Recording what the engine learned and did, with its events, in the caller's transaction."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, bindparam, case, select

from pinwarden.catalog.issues import issue_type
from pinwarden.domain.codes import generate_code
from pinwarden.planner.issues import make
from pinwarden.planner.types import CodeChange, CodeState, Plan, RemoveCode, SetCode
from pinwarden.providers.base import WriteResult
from pinwarden.service import backups, events
from pinwarden.service.access_codes import forget
from pinwarden.service.deps import Deps
from pinwarden.service.devices import capabilities, earlier_wake
from pinwarden.service.errors import ServiceError
from pinwarden.service.unmanaged import record_unmanaged
from pinwarden.service.wire import issue_to_wire
from pinwarden.store.schema import access_codes, devices, slot_writes
from pinwarden.store.slot_writes import forget_slot, remember_write
from pinwarden.store.writes import Writes

# Prepared once; the SET clause follows the keys of the parameters given.
_CODE = access_codes.update().where(access_codes.c.access_code_id == bindparam("b_id"))
_DEVICE = devices.update().where(devices.c.device_id == bindparam("b_id"))
_BUMP = _CODE.values(unconfirmed_writes=access_codes.c.unconfirmed_writes + 1)
# By device too, so SQLite finds the rows by the primary key instead of reading the table.
_FORGET_WRITES = slot_writes.delete().where(
    slot_writes.c.device_id == bindparam("b_device"),
    slot_writes.c.access_code_id == bindparam("b_id"),
)
_READ_DEVICE = select(devices).where(devices.c.device_id == bindparam("b_id"))
# The engine's next wake for a lock; but if a look was asked for since the engine read the
# lock (`service.devices.defer_wake`: a code created meanwhile, say), the earlier of the two,
# so the ask is kept.
_PLANNED = bindparam("w_wake", type_=devices.c.next_wake_at.type)
_WAKE = _DEVICE.values(
    next_wake_at=case(
        (devices.c.wake_asks == bindparam("w_asks"), _PLANNED), else_=earlier_wake(_PLANNED)
    )
)


# The engine writes through a `Writes` buffer; the services call these with a connection.
Sink = Connection | Writes


def _direct(sink: Sink) -> Connection:
    """The connection itself, with everything buffered sent: for the rare paths that read
    and write through the services."""
    if isinstance(sink, Writes):
        sink.flush()
        return sink.conn
    return sink


def update_code(conn: Sink, access_code_id: str, values: dict[str, Any]) -> None:
    conn.execute(_CODE, {"b_id": access_code_id, **values})


def update_device(conn: Sink, device_id: str, values: dict[str, Any]) -> None:
    conn.execute(_DEVICE, {"b_id": device_id, **values})


if TYPE_CHECKING:
    from pinwarden.engine.reconcile import Snapshot, StoredCode


def _split(issues: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    wired = [issue_to_wire(i) for i in issues]
    return [w for w in wired if "error_code" in w], [w for w in wired if "warning_code" in w]


@dataclass
class PlanWrites:
    """What recording a plan changes in the store: device columns and each code's columns."""

    device_values: dict[str, Any]
    changes: list[tuple[CodeChange, dict[str, Any]]]
    wake: tuple[int, datetime | None] | None = None  # (asks for a look as read, next wake)


def plan_writes(snap: Snapshot, result: Plan, wake: datetime | None) -> PlanWrites | None:
    """The writes a plan's verdicts need, compared with the store; None when there are none."""
    device = snap.device
    errors, warnings = _split(result.device_issues)
    device_values: dict[str, Any] = {}
    if (errors, warnings) != (list(device.errors), list(device.warnings)):
        device_values.update(errors=errors, warnings=warnings)
    new_wake = (device.wake_asks, wake) if wake != device.next_wake_at else None
    if result.programming_delay is not None:
        delay = int(result.programming_delay.total_seconds())
        if delay != device.programming_delay_seconds:
            device_values["programming_delay_seconds"] = delay
    # Each change with the columns it really changes, computed once.
    changes = [
        (c, values)
        for c in result.changes
        if (values := _changed_values(c, snap.rows.get(c.access_code_id), snap.by_id))
        or c.forget
        or c.regenerate_code
        or c.pull_backup
    ]
    if not (
        device_values
        or changes
        or result.events
        or result.new_unmanaged
        or result.forget_writes
        or new_wake
    ):
        return None
    return PlanWrites(device_values, changes, new_wake)


def apply_plan(
    deps: Deps, conn: Sink, snap: Snapshot, result: Plan, now: datetime, writes: PlanWrites
) -> None:
    """Record a plan's verdicts (from `plan_writes`) with their events."""
    device = snap.device
    if writes.device_values:
        update_device(conn, device.device_id, writes.device_values)
    if writes.wake is not None:
        asks, wake = writes.wake
        conn.execute(_WAKE, {"b_id": device.device_id, "w_asks": asks, "w_wake": wake})
    events.record_many(
        conn,
        [
            events.event_row(
                device.workspace_id,
                e.event_type,
                now,
                device=device,
                access_code_id=e.access_code_id,
                **dict(e.payload),
            )
            for e in result.events
        ],
    )
    for change, values in writes.changes:
        _apply_change(deps, conn, device, change, values, now)
    for slot in result.forget_writes:
        forget_slot(conn, device.device_id, slot)
    for slot, code, name in result.new_unmanaged:
        record_unmanaged(_direct(conn), device, slot, code, name, now)


def _changed_values(
    change: CodeChange, row: StoredCode | None, known: dict[str, CodeState]
) -> dict[str, Any]:
    """The columns `change` would set that differ from the stored `row` (`known` holds the
    planner's view of the stored codes: issues equal to it need no converting)."""
    values: dict[str, Any] = {}
    if change.status is not None:
        values["status"] = change.status.value
    if change.slot is not None:
        values["slot"] = change.slot
    if change.clear_slot:
        values["slot"] = None
    if change.confirmed_at is not None:
        values.update(confirmed_at=change.confirmed_at, unconfirmed_writes=0)
    if change.is_scheduled_on_device is not None:
        values["is_scheduled_on_device"] = change.is_scheduled_on_device
    state = known.get(change.access_code_id)
    if change.issues is not None and (state is None or tuple(change.issues) != state.issues):
        values["errors"], values["warnings"] = _split(change.issues)
    if change.pending_mutations is not None:
        values["pending_mutations"] = [dict(m) for m in change.pending_mutations]
    if change.clear_failure:
        values.update(failure=None, attempts=0, retry_at=None)
    if row is None:
        return values
    return {k: v for k, v in values.items() if row[k] != v}


def _apply_change(
    deps: Deps,
    conn: Sink,
    device: Row[Any],
    change: CodeChange,
    values: dict[str, Any],
    now: datetime,
) -> None:
    """Write one change; `values` are its columns that differ from the store."""
    if change.forget:
        forget(conn, change.access_code_id)
        conn.execute(_FORGET_WRITES, {"b_device": device.device_id, "b_id": change.access_code_id})
        return
    if change.regenerate_code:
        values.update(_new_pin(deps, _direct(conn), device, change.access_code_id, now))
    if values:
        update_code(conn, change.access_code_id, values)
    if change.pull_backup:
        _pull_backup(_direct(conn), change.access_code_id, now)


def _pull_backup(conn: Connection, access_code_id: str, now: datetime) -> None:
    """Automatic mitigation: stand a programmed backup in for a code that will miss its start.
    The `access_code.backup_access_code_pulled` event tells the app to give the guest the
    backup's PIN. With no backup ready, the code's own errors already say so."""
    row = conn.execute(
        select(access_codes).where(access_codes.c.access_code_id == access_code_id)
    ).one()
    with contextlib.suppress(ServiceError):
        backups.pull_for(conn, row, now)


def _new_pin(
    deps: Deps, conn: Connection, device: Row[Any], access_code_id: str, now: datetime
) -> dict[str, Any]:
    """A PIN pinwarden generated broke a rule of the lock: pick a compliant one (automatic)."""
    row = conn.execute(
        select(access_codes).where(access_codes.c.access_code_id == access_code_id)
    ).one()
    taken = {
        r.code
        for r in conn.execute(
            select(access_codes.c.code).where(access_codes.c.device_id == device.device_id)
        )
    }
    code = generate_code(capabilities(device), deps.rng, avoid=taken)
    events.record(
        conn,
        device.workspace_id,
        "access_code.changed",
        now,
        device=device,
        access_code_id=access_code_id,
        change_reason="regenerated a PIN the lock refused",
        changed_properties=[{"property": "code", "from": row.code, "to": code}],
    )
    return {"code": code, "failure": None, "attempts": 0, "retry_at": None, "confirmed_at": None}


def was_unreachable(device: Row[Any]) -> bool:
    return not device.online or bool(device.failure_count) or device.retry_at is not None


def device_reachable(conn: Sink, device: Row[Any], now: datetime) -> None:
    """The lock answered: clear what its unreachability left (a no-op when nothing did)."""
    if not was_unreachable(device):
        return
    update_device(conn, device.device_id, {"online": True, "failure_count": 0, "retry_at": None})
    if not device.online:
        events.record(conn, device.workspace_id, "device.connected", now, device=device)


def device_unreachable(
    conn: Sink,
    snap: Snapshot,
    message: str,
    now: datetime,
    wait: timedelta,
    *,
    write_failed: str | None = None,
    write_issue: str | None = None,
) -> None:
    conn = _direct(conn)
    device = conn.execute(_READ_DEVICE, {"b_id": snap.device.device_id}).one()
    failures = device.failure_count + 1
    if failures >= snap.policy.breaker_threshold:
        wait = max(wait, snap.policy.breaker_pause)
    update_device(
        conn, device.device_id, {"online": False, "failure_count": failures, "retry_at": now + wait}
    )
    if device.online:
        offline = {
            "error_code": "device_offline",
            "message": message or "The lock is offline.",
            "created_at": now.isoformat(),
        }
        # Seam's schema allows only these three codes; a lock that stops answering is the device.
        events.record(
            conn,
            device.workspace_id,
            "device.disconnected",
            now,
            device=device,
            error_code="device_disconnected",
            device_errors=[offline],
            device_warnings=[],
            connected_account_errors=[],
            connected_account_warnings=[],
        )
    if write_failed and write_issue and issue_type(write_issue).scope == "access_code":
        update_code(
            conn, write_failed, {"failure": issue_to_wire(make(write_issue, now, message or None))}
        )


def intend_write(conn: Sink, snap: Snapshot, op: SetCode, now: datetime) -> None:
    """Write-ahead: the slot's ledger says what is about to be written there (not yet
    acknowledged), with the acknowledged write it follows, and the code holds the slot,
    before the command goes."""
    before = snap.writes.get(op.slot)
    prior = None
    if before is not None and before.access_code_id is not None:
        prior = (
            before.prior
            if before.acked_at is None
            else (
                before.code,
                before.name,
                before.access_code_id,
            )
        )
    remember_write(
        conn, snap.device.device_id, op.slot, op.code, op.name, op.access_code_id, now, prior=prior
    )
    update_code(conn, op.access_code_id, {"slot": op.slot})


_ACK = slot_writes.update().where(
    slot_writes.c.device_id == bindparam("w_device"), slot_writes.c.slot == bindparam("w_slot")
)


def acknowledge(conn: Connection, acks: list[dict[str, Any]]) -> None:
    """Mark the ledger entries of acknowledged writes (from `write_accepted`), all at once."""
    by_shape: dict[frozenset[str], list[dict[str, Any]]] = {}
    for ack in acks:
        by_shape.setdefault(frozenset(ack), []).append(ack)
    for rows in by_shape.values():
        conn.execute(_ACK, rows)


def write_accepted(
    conn: Sink,
    device_id: str,
    op: SetCode | RemoveCode,
    outcome: WriteResult,
    sent_at: datetime,
    acks: list[dict[str, Any]],
) -> None:
    """Record a write the lock took; its ledger entry's acknowledgement goes into `acks`."""
    if isinstance(op, RemoveCode):
        # The ledger keeps the slot's last write until the removal is confirmed: a masked
        # lock's slot is known to be ours only by it.
        if op.access_code_id:
            conn.execute(_BUMP, {"b_id": op.access_code_id, "removal_sent_at": sent_at})
        acks.append({"w_device": device_id, "w_slot": op.slot, "removal_sent_at": sent_at})
        return
    conn.execute(_BUMP, {"b_id": op.access_code_id, "written_at": sent_at})
    if outcome.assigned_code is not None:
        update_code(conn, op.access_code_id, {"code": outcome.assigned_code})
    acks.append(
        {
            "w_device": device_id,
            "w_slot": op.slot,
            "acked_at": sent_at,
            "prior_code": None,
            "prior_name": None,
            "prior_access_code_id": None,
            **({"code": outcome.assigned_code} if outcome.assigned_code is not None else {}),
        }
    )


def pin_chosen_by_lock(
    conn: Sink, snap: Snapshot, op: SetCode, outcome: WriteResult, now: datetime
) -> None:
    """A lock that chooses its own PINs gave the code a PIN other than the one it had: say so
    (`access_code.changed`), since the guest needs the new one."""
    before = snap.by_id.get(op.access_code_id)
    chosen = outcome.assigned_code
    if before is None or before.code is None or chosen is None or chosen == before.code:
        return
    events.record(
        _direct(conn),
        snap.device.workspace_id,
        "access_code.changed",
        now,
        device=snap.device,
        access_code_id=op.access_code_id,
        change_reason="the lock chose a new PIN when the code was programmed again",
        changed_properties=[{"property": "code", "from": before.code, "to": chosen}],
    )


def write_not_sent(conn: Sink, snap: Snapshot, op: SetCode) -> None:
    """The lock did not take the write (refused, or its slot no longer held what the plan
    expected): the slot's ledger and the code's slot go back to what they were."""
    before = snap.writes.get(op.slot)
    if before is None:
        forget_slot(conn, snap.device.device_id, op.slot)
    else:
        remember_write(
            conn,
            snap.device.device_id,
            op.slot,
            before.code,
            before.name,
            before.access_code_id,
            before.written_at,
            acked_at=before.acked_at,
            changed_at=before.changed_at,
            removal_sent_at=before.removal_sent_at,
            prior=before.prior,
        )
    code = snap.by_id.get(op.access_code_id)
    update_code(conn, op.access_code_id, {"slot": code.slot if code else None})


def write_rejected(
    conn: Sink,
    snap: Snapshot,
    op: SetCode | RemoveCode,
    outcome: WriteResult,
    attempts: int,
    retry_at: datetime,
    now: datetime,
) -> None:
    if isinstance(op, SetCode):
        write_not_sent(conn, snap, op)
    if op.access_code_id is None:
        return
    issue = make(outcome.issue_code or "failed_to_set_on_device", now, outcome.message or None)
    values: dict[str, Any] = {
        "failure": issue_to_wire(issue),
        "attempts": attempts,
        "retry_at": retry_at,
    }
    if isinstance(op, SetCode):
        values["written_at"] = None
    update_code(conn, op.access_code_id, values)
