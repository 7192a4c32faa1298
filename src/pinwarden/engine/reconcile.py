"""reconcile_device: observe -> plan -> act -> record, for one lock. Level-triggered.

Everything it needs is in the store (desired codes, last observation, the last PIN written to
each slot, retry counters, issues), so killing the process at any point and running it again
converges: a write is recorded as an intent in `slot_writes` before it is sent, so a crash
between the write and its record cannot turn our own code into an "unmanaged" one.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update

from pinwarden.catalog.brands import brand_profile
from pinwarden.domain.model import CodeStatus, Observation, Window
from pinwarden.engine import records
from pinwarden.planner.plan import plan
from pinwarden.planner.types import (
    CodeState,
    DeviceState,
    Plan,
    Policy,
    RemoveCode,
    SetCode,
    SlotWrite,
)
from pinwarden.providers.base import DeviceUnreachable, Outcome, Provider, WriteResult
from pinwarden.providers.sandbox import SandboxLock
from pinwarden.service import backups
from pinwarden.service.deps import Deps
from pinwarden.service.devices import capabilities
from pinwarden.service.wire import issue_from_wire
from pinwarden.store.schema import access_codes, devices, sandbox_locks, slot_writes, workspaces

log = logging.getLogger("pinwarden.engine")

_MAX_PASSES = 3


@dataclass
class Snapshot:
    device: Row[Any]
    policy: Policy
    state: DeviceState
    codes: list[CodeState]
    writes: dict[int, SlotWrite]
    rows: dict[str, Row[Any]]  # the stored codes, to write only what a plan changes


def backoff(policy: Policy, attempts: int, key: str) -> timedelta:
    """Exponential backoff with a ceiling and +-20 % jitter that is deterministic per key."""
    base = policy.retry_base.total_seconds() * (2 ** max(attempts - 1, 0))
    capped = min(base, policy.retry_max.total_seconds())
    spread = int(hashlib.sha256(f"{key}:{attempts}".encode()).hexdigest()[:4], 16) / 0xFFFF
    return timedelta(seconds=capped * (0.8 + 0.4 * spread))


def _code_state(row: Row[Any]) -> CodeState:
    return CodeState(
        access_code_id=row.access_code_id,
        code=row.code,
        name=row.name,
        window=Window(row.starts_at, row.ends_at),
        created_at=row.created_at,
        is_managed=bool(row.is_managed),
        is_backup=bool(row.is_backup),
        deleting=row.delete_requested_at is not None,
        allow_external_modification=bool(row.allow_external_modification),
        prefer_native_scheduling=bool(row.prefer_native_scheduling),
        code_generated=bool(row.code_generated),
        status=CodeStatus(row.status),
        slot=row.slot,
        written_at=row.written_at,
        removal_sent_at=row.removal_sent_at,
        confirmed_at=row.confirmed_at,
        attempts=row.attempts,
        unconfirmed_writes=row.unconfirmed_writes,
        retry_at=row.retry_at,
        is_scheduled_on_device=bool(row.is_scheduled_on_device),
        pulled_backup_access_code_id=row.pulled_backup_access_code_id,
        issues=tuple(issue_from_wire(i) for i in [*row.errors, *row.warnings]),
        failure=issue_from_wire(row.failure) if row.failure else None,
    )


# Built once: the hot path only binds the device id.
_ID = bindparam("device_id")
_DEVICE = (
    select(devices, workspaces.c.policy.label("workspace_policy"))
    .join(workspaces, workspaces.c.workspace_id == devices.c.workspace_id)
    .where(devices.c.device_id == _ID)
)
_CODES = select(access_codes).where(access_codes.c.device_id == _ID).order_by(access_codes.c.seq)
_WRITES = select(slot_writes).where(slot_writes.c.device_id == _ID)
_PROVIDER = (
    select(devices.c.provider, devices.c.brand, sandbox_locks.c.state)
    .join(sandbox_locks, sandbox_locks.c.device_id == devices.c.device_id, isouter=True)
    .where(devices.c.device_id == _ID, devices.c.removed_at.is_(None))
)


class Engine:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # -- the loop ----------------------------------------------------------------------------

    def reconcile_device(self, device_id: str) -> datetime | None:
        """Make one lock match its desired codes as far as it can now; returns the next wake."""
        now = self.deps.clock.now()
        provider = self._provider(device_id)
        snap = self._snapshot(device_id, provider) if provider is not None else None
        if provider is None or snap is None:
            return None
        if snap.device.backup_pool_enabled:
            with self.deps.store.begin() as conn:
                if backups.refill_pool(self.deps, conn, snap.device, now):
                    snap = None
        wake: datetime | None = None
        for _ in range(_MAX_PASSES):
            snap = snap or self._snapshot(device_id, provider)
            assert snap is not None
            observation = self._observe(snap, provider, now)
            if observation is None or records.was_unreachable(snap.device):
                snap = self._snapshot(device_id, provider)  # reachability changed the device row
                assert snap is not None
            result = plan(snap.state, snap.codes, snap.writes, observation, now, snap.policy)
            wake = result.next_wake_at
            if wake is not None and wake <= now:
                wake = now + timedelta(seconds=1)
            records.apply_plan(self.deps, snap, result, now, wake)
            if not result.operations and not any(c.regenerate_code for c in result.changes):
                break
            self._act(snap, provider, result, now)
            snap = None
        return wake

    def _snapshot(self, device_id: str, provider: Provider) -> Snapshot | None:
        with self.deps.store.read() as conn:
            key = {"device_id": device_id}
            device = conn.execute(_DEVICE, key).first()
            if device is None or device.removed_at is not None:
                return None
            ws_policy = device.workspace_policy
            rows = conn.execute(_CODES, key).all()
            writes = {
                w.slot: SlotWrite(w.slot, w.code, w.name, w.access_code_id, w.written_at)
                for w in conn.execute(_WRITES, key)
            }
        policy = Policy.from_mapping({**ws_policy, **device.policy})
        profile = brand_profile(device.brand)
        state = DeviceState(
            device_id=device_id,
            capabilities=capabilities(device, provider.describe()),
            brand_errors={
                k: getattr(profile.errors, k) for k in profile.errors.__dataclass_fields__
            },
            failure_count=device.failure_count,
            retry_at=device.retry_at,
            unreachable_code=None if device.online else "device_offline",
            programming_delay=timedelta(seconds=device.programming_delay_seconds),
            third_party_detected=any(
                w.get("warning_code") == "third_party_integration_detected" for w in device.warnings
            ),
            issues=tuple(issue_from_wire(i) for i in [*device.errors, *device.warnings]),
        )
        return Snapshot(
            device,
            policy,
            state,
            [_code_state(r) for r in rows],
            writes,
            {r.access_code_id: r for r in rows},
        )

    # -- providers ---------------------------------------------------------------------------

    def _provider(self, device_id: str) -> _Tracked | None:
        with self.deps.store.read() as conn:
            row = conn.execute(_PROVIDER, {"device_id": device_id}).first()
        if row is None:
            return None
        if row.provider != "sandbox":
            raise NotImplementedError(f"provider {row.provider!r} is not available here")
        return _Tracked(row.brand, row.state)

    def _save_provider(self, conn: Connection, device_id: str, provider: Provider) -> None:
        if isinstance(provider, _Tracked) and provider.changed():
            provider.mark_saved()
            conn.execute(
                update(sandbox_locks)
                .where(sandbox_locks.c.device_id == device_id)
                .values(state=provider.state)
            )

    def _observe(self, snap: Snapshot, provider: _Tracked, now: datetime) -> Observation | None:
        try:
            observation = provider.read_codes(now)
        except DeviceUnreachable as exc:
            with self.deps.store.begin() as conn:
                self._save_provider(conn, snap.device.device_id, provider)
                records.device_unreachable(
                    conn,
                    snap,
                    exc.message,
                    now,
                    backoff(snap.policy, snap.device.failure_count + 1, snap.device.device_id),
                )
            return None
        if records.was_unreachable(snap.device) or provider.changed():
            with self.deps.store.begin() as conn:
                self._save_provider(conn, snap.device.device_id, provider)
                records.device_reachable(conn, snap.device, now)
        return observation

    def _act(self, snap: Snapshot, provider: Provider, result: Plan, now: datetime) -> None:
        """Send the plan's commands. Every intended write is durable before the lock is touched
        (write-ahead), and all outcomes are recorded together afterwards."""
        sets = [op for op in result.operations if isinstance(op, SetCode)]
        if sets:
            with self.deps.store.begin() as conn:
                for op in sets:
                    records.intend_write(conn, snap.device.device_id, op, now)
        done: list[tuple[SetCode | RemoveCode, WriteResult]] = []
        for op in result.operations:
            if isinstance(op, SetCode):
                outcome = provider.set_code(
                    now, op.slot, op.code, op.name, op.starts_at, op.ends_at
                )
            else:
                outcome = provider.remove_code(now, op.slot)
            done.append((op, outcome))
            if outcome.outcome == Outcome.UNREACHABLE:
                break
        with self.deps.store.begin() as conn:
            self._save_provider(conn, snap.device.device_id, provider)
            for op, outcome in done:
                self._record(conn, snap, op, outcome, now)

    def _record(
        self,
        conn: Connection,
        snap: Snapshot,
        op: SetCode | RemoveCode,
        outcome: WriteResult,
        now: datetime,
    ) -> None:
        code = next((c for c in snap.codes if c.access_code_id == op.access_code_id), None)
        attempts = (code.attempts if code else 0) + 1
        key = op.access_code_id or f"{snap.device.device_id}:{op.slot}"
        if outcome.outcome == Outcome.UNREACHABLE:
            records.device_unreachable(
                conn,
                snap,
                outcome.message,
                now,
                backoff(snap.policy, snap.device.failure_count + 1, snap.device.device_id),
                write_failed=op.access_code_id,
                write_issue=outcome.issue_code,
            )
        elif outcome.outcome == Outcome.REJECTED:
            wait = (
                snap.policy.retry_max if outcome.terminal else backoff(snap.policy, attempts, key)
            )
            records.write_rejected(conn, op, outcome, attempts, now + wait, now)
        else:
            records.write_accepted(conn, snap.device.device_id, op, outcome, now)


class _Tracked(SandboxLock):
    """A sandbox lock that knows whether its state changed since it was loaded or saved."""

    def __init__(self, brand: str, state: dict[str, Any]) -> None:
        super().__init__(brand, state)
        self._saved = self.fingerprint()

    def changed(self) -> bool:
        return self.fingerprint() != self._saved

    def mark_saved(self) -> None:
        self._saved = self.fingerprint()


__all__ = ["Engine", "backoff"]
