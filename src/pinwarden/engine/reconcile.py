"""reconcile_devices: observe -> plan -> act -> record, for a batch of locks. Level-triggered.

Everything it needs is in the store (desired codes, last observation, the last PIN written to
each slot, retry counters, issues), so killing the process at any point and running it again
converges: a write is recorded as an intent in `slot_writes` before it is sent, so a crash
between the write and its record cannot turn our own code into an "unmanaged" one.

Locks are independent, but most of them wake at the same moments (stays share check-in and
check-out times), so a batch of locks goes through each step together: one read for all their
snapshots, one transaction for all their verdicts and write-ahead intents, then the commands
(paced per lock, the locks taking turns), with one transaction for the outcomes of each turn.
A batch of one is the plain single-lock reconcile.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Connection, Row, bindparam, select, type_coerce, update
from sqlalchemy.types import NullType

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
from pinwarden.providers.base import DeviceUnreachable, Outcome, WriteResult
from pinwarden.providers.sandbox import SandboxLock
from pinwarden.service import backups
from pinwarden.service.deps import Deps
from pinwarden.service.devices import capabilities
from pinwarden.service.wire import issue_from_wire
from pinwarden.store.schema import (
    UTCDateTime,
    access_codes,
    devices,
    sandbox_locks,
    slot_writes,
    utc_from_store,
    workspaces,
)
from pinwarden.store.writes import Writes

log = logging.getLogger("pinwarden.engine")

_MAX_PASSES = 3
# A lock's last command this far ahead of the clock was not paced by this clock: a data dir
# run on the virtual clock, then on the system clock. Paced commands run ahead by seconds.
_FOREIGN_STAMP = timedelta(hours=1)

Done = list[tuple[SetCode | RemoveCode, WriteResult]]


@dataclass
class Snapshot:
    device: Row[Any]
    policy: Policy
    state: DeviceState
    codes: list[CodeState]
    writes: dict[int, SlotWrite]
    rows: dict[str, StoredCode]  # the stored codes, to write only what a plan changes
    by_id: dict[str, CodeState]  # `codes` by access code id


def backoff(policy: Policy, attempts: int, key: str) -> timedelta:
    """Exponential backoff with a ceiling and +-20 % jitter that is deterministic per key."""
    base = policy.retry_base.total_seconds() * (2 ** max(attempts - 1, 0))
    capped = min(base, policy.retry_max.total_seconds())
    spread = int(hashlib.sha256(f"{key}:{attempts}".encode()).hexdigest()[:4], 16) / 0xFFFF
    return timedelta(seconds=capped * (0.8 + 0.4 * spread))


def _code_state(row: dict[str, Any]) -> CodeState:
    return CodeState(
        access_code_id=row["access_code_id"],
        code=row["code"],
        name=row["name"],
        window=Window(row["starts_at"], row["ends_at"]),
        created_at=row["created_at"],
        is_managed=row["is_managed"],
        is_backup=row["is_backup"],
        deleting=row["delete_requested_at"] is not None,
        allow_external_modification=row["allow_external_modification"],
        prefer_native_scheduling=row["prefer_native_scheduling"],
        code_generated=row["code_generated"],
        status=CodeStatus(row["status"]),
        slot=row["slot"],
        written_at=row["written_at"],
        removal_sent_at=row["removal_sent_at"],
        confirmed_at=row["confirmed_at"],
        attempts=row["attempts"],
        unconfirmed_writes=row["unconfirmed_writes"],
        retry_at=row["retry_at"],
        is_scheduled_on_device=row["is_scheduled_on_device"],
        pulled_backup_access_code_id=row["pulled_backup_access_code_id"],
        issues=tuple(issue_from_wire(i) for i in [*row["errors"], *row["warnings"]]),
        failure=issue_from_wire(row["failure"]) if row["failure"] else None,
    )


# Built once: the hot path only binds the device ids.
_IDS = bindparam("device_ids", expanding=True)
_DEVICES = (
    select(devices, workspaces.c.policy.label("workspace_policy"))
    .join(workspaces, workspaces.c.workspace_id == devices.c.workspace_id)
    .where(devices.c.device_id.in_(_IDS), devices.c.removed_at.is_(None))
)
# What the planner and the change records read of a code, and no more.
_CODE_COLUMNS = [
    "access_code_id",
    "device_id",
    "code",
    "name",
    "starts_at",
    "ends_at",
    "created_at",
    "is_managed",
    "is_backup",
    "delete_requested_at",
    "allow_external_modification",
    "prefer_native_scheduling",
    "code_generated",
    "status",
    "slot",
    "written_at",
    "removal_sent_at",
    "confirmed_at",
    "attempts",
    "unconfirmed_writes",
    "retry_at",
    "is_scheduled_on_device",
    "pulled_backup_access_code_id",
    "errors",
    "warnings",
    "failure",
    "pending_mutations",
]
# How each read column is decoded, from its type in the schema.
_DATETIMES, _BOOLEANS, _JSON = (
    {name for name in _CODE_COLUMNS if isinstance(access_codes.c[name].type, kind)}
    for kind in (UTCDateTime, Boolean, JSON)
)
# Read as the driver gives them (no per-value conversion): most codes have not changed since
# the last reconcile, and only a changed row is decoded (`_CodeStates`).
_CODES = (
    select(*(type_coerce(access_codes.c[name], NullType()).label(name) for name in _CODE_COLUMNS))
    .where(access_codes.c.device_id.in_(_IDS))
    .order_by(access_codes.c.seq)
)
_WRITES = select(slot_writes).where(slot_writes.c.device_id.in_(_IDS))
_PROVIDERS = (
    select(devices.c.device_id, devices.c.provider, devices.c.brand, sandbox_locks.c.state)
    .join(sandbox_locks, sandbox_locks.c.device_id == devices.c.device_id, isouter=True)
    .where(devices.c.device_id.in_(_IDS), devices.c.removed_at.is_(None))
)
_SAVE_LOCK = update(sandbox_locks).where(sandbox_locks.c.device_id == bindparam("b_id"))


class Engine:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._code_states = _CodeStates()

    # -- the loop ----------------------------------------------------------------------------

    def reconcile_device(self, device_id: str) -> datetime | None:
        """Make one lock match its desired codes as far as it can now; returns the next wake."""
        return self.reconcile_devices([device_id]).get(device_id)

    def reconcile_devices(self, device_ids: Sequence[str]) -> dict[str, datetime | None]:
        """Reconcile a batch of locks, each exactly as if alone; returns their next wakes.
        Removed or unknown devices are left out of the answer."""
        now = self.deps.clock.now()
        providers, active = self._load(device_ids)
        refilled = self._refill_pools(active, now)
        if refilled:
            active.update(self._snapshots(refilled, providers))
        wakes: dict[str, datetime | None] = {}
        for _ in range(_MAX_PASSES):
            observations = self._observe(active, providers, now)
            stale = [
                device_id
                for device_id, snap in active.items()
                if observations[device_id] is None or records.was_unreachable(snap.device)
            ]
            if stale:  # reachability changed the device row
                active.update(self._snapshots(stale, providers))
            plans: dict[str, Plan] = {}
            for device_id, snap in active.items():
                result = plan(
                    snap.state, snap.codes, snap.writes, observations[device_id], now, snap.policy
                )
                wake = result.next_wake_at
                if wake is not None and wake <= now:
                    wake = now + timedelta(seconds=1)
                wakes[device_id] = wake
                plans[device_id] = result
            acting = [
                device_id
                for device_id, result in plans.items()
                if result.operations or any(c.regenerate_code for c in result.changes)
            ]
            self._record_plans(active, plans, wakes, now)
            if not acting:
                break
            for sent in self._send(
                {device_id: plans[device_id].operations for device_id in acting},
                {device_id: _command_interval(active[device_id]) for device_id in acting},
                providers,
            ):
                self._record_outcomes(active, providers, sent, now)
            active = self._snapshots(acting, providers)
        return wakes

    # -- reading -----------------------------------------------------------------------------

    def _load(self, device_ids: Sequence[str]) -> tuple[dict[str, _Tracked], dict[str, Snapshot]]:
        with self.deps.store.read() as conn:
            providers: dict[str, _Tracked] = {}
            for row in conn.execute(_PROVIDERS, {"device_ids": list(device_ids)}).all():
                if row.provider != "sandbox":
                    raise NotImplementedError(f"provider {row.provider!r} is not available here")
                providers[row.device_id] = _Tracked(row.device_id, row.brand, row.state)
            return providers, self._read_snapshots(conn, list(providers), providers)

    def _snapshots(
        self, device_ids: Sequence[str], providers: dict[str, _Tracked]
    ) -> dict[str, Snapshot]:
        with self.deps.store.read() as conn:
            return self._read_snapshots(conn, device_ids, providers)

    def _read_snapshots(
        self, conn: Connection, device_ids: Sequence[str], providers: dict[str, _Tracked]
    ) -> dict[str, Snapshot]:
        if not device_ids:
            return {}
        key = {"device_ids": list(device_ids)}
        found = {d.device_id: d for d in conn.execute(_DEVICES, key).all()}
        rows: dict[str, list[Row[Any]]] = {device_id: [] for device_id in found}
        for row in conn.execute(_CODES, key).all():
            if row.device_id in rows:
                rows[row.device_id].append(row)
        writes: dict[str, dict[int, SlotWrite]] = {device_id: {} for device_id in found}
        for w in conn.execute(_WRITES, key).all():
            if w.device_id in writes:
                writes[w.device_id][w.slot] = SlotWrite(
                    w.slot, w.code, w.name, w.access_code_id, w.written_at
                )
        # In the order asked for, so a batch acts on its locks in a stable order.
        return {
            device_id: _snapshot(
                found[device_id],
                providers[device_id],
                rows[device_id],
                writes[device_id],
                self._code_states,
            )
            for device_id in device_ids
            if device_id in found
        }

    def _refill_pools(self, active: dict[str, Snapshot], now: datetime) -> list[str]:
        pooled = [snap for snap in active.values() if snap.device.backup_pool_enabled]
        if not pooled:
            return []
        with self.deps.store.begin() as conn:
            return [
                snap.device.device_id
                for snap in pooled
                if backups.refill_pool(self.deps, conn, snap.device, now)
            ]

    # -- observing ---------------------------------------------------------------------------

    def _observe(
        self, active: dict[str, Snapshot], providers: dict[str, _Tracked], now: datetime
    ) -> dict[str, Observation | None]:
        """Read every lock back; record what changed in their reachability, all together."""
        observations: dict[str, Observation | None] = {}
        lost: list[tuple[Snapshot, str]] = []
        answered: list[Snapshot] = []
        for device_id, snap in active.items():
            provider = providers[device_id]
            try:
                observations[device_id] = provider.read_codes(now)
            except DeviceUnreachable as exc:
                observations[device_id] = None
                lost.append((snap, exc.message))
                continue
            if records.was_unreachable(snap.device) or provider.changed():
                answered.append(snap)
        if not (lost or answered):
            return observations
        with self.deps.store.begin() as conn, Writes(conn) as w:
            for snap, message in lost:
                self._save_provider(w, providers[snap.device.device_id])
                records.device_unreachable(
                    w,
                    snap,
                    message,
                    now,
                    backoff(snap.policy, snap.device.failure_count + 1, snap.device.device_id),
                )
            for snap in answered:
                self._save_provider(w, providers[snap.device.device_id])
                records.device_reachable(w, snap.device, now)
        return observations

    # -- acting ------------------------------------------------------------------------------

    def _record_plans(
        self,
        active: dict[str, Snapshot],
        plans: dict[str, Plan],
        wakes: dict[str, datetime | None],
        now: datetime,
    ) -> None:
        """Every plan's verdicts, and every intended write (write-ahead), durable in one
        transaction before any lock is touched."""
        pending = [
            (active[device_id], result, writes)
            for device_id, result in plans.items()
            if (writes := records.plan_writes(active[device_id], result, wakes[device_id]))
            or result.operations
        ]
        if not pending:
            return
        with self.deps.store.begin() as conn, Writes(conn) as w:
            for snap, result, writes in pending:
                if writes:
                    records.apply_plan(self.deps, w, snap, result, now, writes)
                for op in result.operations:
                    if isinstance(op, SetCode):
                        records.intend_write(w, snap.device.device_id, op, now)

    def _send(
        self,
        operations: dict[str, Sequence[SetCode | RemoveCode]],
        intervals: dict[str, timedelta],
        providers: dict[str, _Tracked],
    ) -> Iterator[dict[str, Done]]:
        """Send each lock its operations in order, paced: a lock gets a command no sooner than
        its interval after the one before (`Clock.sleep_until`; a virtual clock does not wait,
        the command carries the paced time). The locks take turns, the first command of each,
        then the second, so one lock's wait overlaps the others' commands; each turn is
        yielded to be recorded before the next one waits. A lock that turns out unreachable
        gets no more commands in this pass."""
        queues = {device_id: list(ops) for device_id, ops in operations.items() if ops}
        while queues:
            sent: dict[str, Done] = {}
            for device_id, queue in list(queues.items()):
                provider = providers[device_id]
                at = self.deps.clock.now()
                last = provider.last_command_at()
                if last is not None and last > at + _FOREIGN_STAMP:
                    last = None  # stamped on another clock (a virtual one, since reset)
                if last is not None and last + intervals[device_id] > at:
                    at = last + intervals[device_id]
                    self.deps.clock.sleep_until(at)
                op = queue.pop(0)
                if isinstance(op, SetCode):
                    outcome = provider.set_code(
                        at, op.slot, op.code, op.name, op.starts_at, op.ends_at
                    )
                else:
                    outcome = provider.remove_code(at, op.slot)
                sent[device_id] = [(op, outcome)]
                if outcome.outcome == Outcome.UNREACHABLE or not queue:
                    del queues[device_id]
            yield sent

    def _record_outcomes(
        self,
        active: dict[str, Snapshot],
        providers: dict[str, _Tracked],
        sent: dict[str, Done],
        now: datetime,
    ) -> None:
        with self.deps.store.begin() as conn, Writes(conn) as w:
            for device_id, done in sent.items():
                self._save_provider(w, providers[device_id])
                for op, outcome in done:
                    self._record(w, active[device_id], op, outcome, now)

    @staticmethod
    def _save_provider(conn: records.Sink, provider: _Tracked) -> None:
        if provider.changed():
            provider.mark_saved()
            conn.execute(_SAVE_LOCK, {"b_id": provider.device_id, "state": provider.state})

    def _record(
        self,
        conn: records.Sink,
        snap: Snapshot,
        op: SetCode | RemoveCode,
        outcome: WriteResult,
        now: datetime,
    ) -> None:
        code = snap.by_id.get(op.access_code_id) if op.access_code_id else None
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


class StoredCode(tuple[Any, ...]):
    """A decoded code row, read by column name: a tuple, because the engine keeps tens of
    thousands of them (`_CodeStates`) and a dict per row cost about 0.6 KB more each."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, _COLUMN_INDEX[key])
        return tuple.__getitem__(self, key)


_COLUMN_INDEX = {name: index for index, name in enumerate(_CODE_COLUMNS)}


def _decode(raw: Row[Any]) -> dict[str, Any]:
    """A code row as the driver gave it, with the conversions its column types would make."""
    row = raw._asdict()
    for name in _DATETIMES:
        row[name] = utc_from_store(row[name])
    for name in _BOOLEANS:
        row[name] = bool(row[name])
    for name in _JSON:
        if isinstance(row[name], str | bytes):
            row[name] = orjson.loads(row[name])
    return row


class _CodeStates:
    """Each stored code, decoded and as the planner sees it, reused while its row is unchanged:
    most codes of a lock stay the same from one reconcile to the next, and decoding a row and
    building its CodeState costs far more than comparing it. Bounded: it starts over past
    `limit` codes (about 2 KB each)."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._seen: dict[str, tuple[tuple[Any, ...], StoredCode, CodeState]] = {}

    def of(self, raw: Row[Any]) -> tuple[StoredCode, CodeState]:
        values = tuple(raw)
        hit = self._seen.get(raw.access_code_id)
        if hit is not None and hit[0] == values:
            return hit[1], hit[2]
        if len(self._seen) >= self.limit:
            self._seen.clear()
        row = _decode(raw)
        state = _code_state(row)
        stored = StoredCode(row.values())
        self._seen[raw.access_code_id] = (values, stored, state)
        return stored, state


def _command_interval(snap: Snapshot) -> timedelta:
    """The time between two commands to the lock: the policy's, or the brand's if longer."""
    brand = timedelta(seconds=snap.state.capabilities.min_command_interval_seconds)
    return max(snap.policy.command_interval, brand)


def _snapshot(
    device: Row[Any],
    provider: _Tracked,
    rows: list[Row[Any]],
    writes: dict[int, SlotWrite],
    code_states: _CodeStates,
) -> Snapshot:
    policy = Policy.effective(device.workspace_policy, device.policy)
    profile = brand_profile(device.brand)
    state = DeviceState(
        device_id=device.device_id,
        capabilities=capabilities(device, provider.describe()),
        brand_errors={k: getattr(profile.errors, k) for k in profile.errors.__dataclass_fields__},
        failure_count=device.failure_count,
        retry_at=device.retry_at,
        unreachable_code=None if device.online else "device_offline",
        programming_delay=timedelta(seconds=device.programming_delay_seconds),
        third_party_detected=any(
            w.get("warning_code") == "third_party_integration_detected" for w in device.warnings
        ),
        issues=tuple(issue_from_wire(i) for i in [*device.errors, *device.warnings]),
    )
    known = [code_states.of(r) for r in rows]
    codes = [code for _, code in known]
    return Snapshot(
        device,
        policy,
        state,
        codes,
        writes,
        {code.access_code_id: row for row, code in known},
        {c.access_code_id: c for c in codes},
    )


class _Tracked(SandboxLock):
    """A sandbox lock that knows its device and whether its state changed since it was loaded
    or saved."""

    def __init__(self, device_id: str, brand: str, state: dict[str, Any]) -> None:
        super().__init__(brand, state)
        self.device_id = device_id
        self._saved = self.fingerprint()

    def changed(self) -> bool:
        return self.fingerprint() != self._saved

    def mark_saved(self) -> None:
        self._saved = self.fingerprint()


__all__ = ["Engine", "backoff"]
