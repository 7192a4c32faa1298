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
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Connection, Row, bindparam, func, select, true, type_coerce
from sqlalchemy.types import NullType

from pinwarden.catalog.brands import brand_profile
from pinwarden.domain.model import CodeStatus, Observation, ObservedSlot, Window
from pinwarden.engine import records
from pinwarden.engine.host import ProviderHost
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
from pinwarden.providers.base import (
    AccountUnavailable,
    ClearSlot,
    Command,
    DeviceUnreachable,
    Outcome,
    SetSlot,
    WriteResult,
)
from pinwarden.service import backups
from pinwarden.service.deps import Deps
from pinwarden.service.devices import capabilities, lock_devices
from pinwarden.service.wire import issue_from_wire
from pinwarden.store.schema import (
    UTCDateTime,
    access_codes,
    connected_accounts,
    devices,
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

# Each command sent to a lock in a turn: the operation, what the lock answered, when it went.
Done = list[tuple[SetCode | RemoveCode, WriteResult, datetime]]


@dataclass
class Snapshot:
    device: Row[Any]
    policy: Policy
    state: DeviceState
    codes: list[CodeState]
    writes: dict[int, SlotWrite]
    rows: dict[str, StoredCode]  # the stored codes, to write only what a plan changes
    by_id: dict[str, CodeState]  # `codes` by access code id

    def plan(self, observation: Observation | None, now: datetime) -> Plan:
        """The planner's verdict on this lock as stored, seen as `observation` shows it."""
        return plan(self.state, self.codes, self.writes, observation, now, self.policy)


def backoff(policy: Policy, attempts: int, key: str) -> timedelta:
    """Exponential backoff with a ceiling and +-20 % jitter that is deterministic per key."""
    # The exponent stops growing long before the ceiling (2**30 base periods): past it the
    # float would overflow after a thousand attempts, and the ceiling applies anyway.
    base = policy.retry_base.total_seconds() * (2 ** min(max(attempts - 1, 0), 30))
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
    select(
        devices,
        workspaces.c.policy.label("workspace_policy"),
        func.coalesce(connected_accounts.c.connected, true()).label("account_connected"),
    )
    .join(workspaces, workspaces.c.workspace_id == devices.c.workspace_id)
    .join(
        connected_accounts,
        connected_accounts.c.connected_account_id == devices.c.connected_account_id,
        isouter=True,
    )
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
# The asks for a look at each lock, read again under the rows' locks just before a plan is
# recorded: an ask that came in since the lock's snapshot was read (a change to its codes, a
# keypad report) makes that plan stale, and the lock is read and planned again instead.
_ASKS = (
    select(devices.c.device_id, devices.c.wake_asks)
    .where(devices.c.device_id.in_(_IDS))
    .order_by(devices.c.device_id)
)


class Engine:
    def __init__(self, deps: Deps, host: ProviderHost | None = None) -> None:
        self.deps = deps
        self.host = host or ProviderHost(deps.store, deps.clock)
        self._code_states = _CodeStates()

    def close(self) -> None:
        self.host.close()

    # -- the loop ----------------------------------------------------------------------------

    def reconcile_device(self, device_id: str) -> datetime | None:
        """Make one lock match its desired codes as far as it can now; returns the next wake."""
        return self.reconcile_devices([device_id]).get(device_id)

    def reconcile_devices(self, device_ids: Sequence[str]) -> dict[str, datetime | None]:
        """Reconcile a batch of locks, each exactly as if alone; returns their next wakes.
        Removed or unknown devices are left out of the answer."""
        now = self.deps.clock.now()
        active = self._snapshots(device_ids)
        refilled = self._refill_pools(active, now)
        if refilled:
            active.update(self._snapshots(refilled))
        wakes: dict[str, datetime | None] = {}
        # What locks showed after writes they confirmed: the next pass plans from it instead of
        # reading the whole lock again (slow on a radio: one slot at a time).
        carried: dict[str, Observation] = {}
        for _ in range(_MAX_PASSES):
            unread = {d: snap for d, snap in active.items() if d not in carried}
            observations: dict[str, Observation | None] = {**carried, **self._observe(unread, now)}
            active.update(unread)  # with what the locks reported they can do
            carried = {}
            stale = [
                device_id
                for device_id, snap in active.items()
                if observations[device_id] is None or records.was_unreachable(snap.device)
            ]
            if stale:  # reachability changed the device row
                active.update(self._snapshots(stale, observations))
            plans: dict[str, Plan] = {}
            for device_id, snap in active.items():
                result = snap.plan(observations[device_id], now)
                wakes[device_id] = _due(result.next_wake_at, now)
                plans[device_id] = result
            outdated = self._record_plans(active, plans, wakes, now)
            acting = [
                device_id
                for device_id, result in plans.items()
                if device_id not in outdated and _acts(result)
            ]
            if not (acting or outdated):
                break
            done: dict[str, Done] = {}
            settled: set[str] = set()
            for sent, finished, more in self._send(
                {device_id: plans[device_id].operations for device_id in acting}, active
            ):
                self._record_outcomes(active, sent, now)
                for device_id, turn in sent.items():
                    done.setdefault(device_id, []).extend(turn)
                if finished and more:  # the others go on at their pace: say what is done
                    settled |= self._settle(
                        _as_confirmed(active, observations, {d: done[d] for d in finished}),
                        wakes,
                        now,
                    )
            done = {d: turns for d, turns in done.items() if d not in settled}
            carried = _as_confirmed(active, observations, done)
            active = self._snapshots([d for d in [*acting, *outdated] if d not in settled], carried)
        return wakes

    def _settle(
        self,
        confirmed: dict[str, Observation],
        wakes: dict[str, datetime | None],
        now: datetime,
    ) -> set[str]:
        """Plan and record, mid-batch, the locks whose every command this pass was confirmed
        while other locks of the batch still wait for their turns: their codes are on the
        lock now and say so now, not when the slowest lock is done. A lock whose new plan
        has more to send is left to the next pass, as is one asked about meanwhile. Returns
        the locks settled."""
        if not confirmed:
            return set()
        snaps = self._snapshots(list(confirmed), confirmed)
        plans: dict[str, Plan] = {}
        for device_id, snap in snaps.items():
            result = snap.plan(confirmed[device_id], now)
            if _acts(result):
                continue
            plans[device_id] = result
        due = {d: _due(plans[d].next_wake_at, now) for d in plans}
        outdated = self._record_plans(snaps, plans, due, now)
        settled = set(plans) - outdated
        wakes.update({d: due[d] for d in settled})
        return settled

    # -- reading -----------------------------------------------------------------------------

    def _snapshots(
        self,
        device_ids: Sequence[str],
        observations: dict[str, Observation | None] | None = None,
    ) -> dict[str, Snapshot]:
        """The stored view of each lock; with the observations just made, the capabilities
        the locks reported are kept instead of read again."""
        if not device_ids:
            return {}
        key = {"device_ids": list(device_ids)}
        with self.deps.store.read() as conn:
            found = {d.device_id: d for d in conn.execute(_DEVICES, key).all()}
            rows: dict[str, list[Row[Any]]] = {device_id: [] for device_id in found}
            for row in conn.execute(_CODES, key).all():
                if row.device_id in rows:
                    rows[row.device_id].append(row)
            writes: dict[str, dict[int, SlotWrite]] = {device_id: {} for device_id in found}
            for w in conn.execute(_WRITES, key).all():
                if w.device_id in writes:
                    writes[w.device_id][w.slot] = SlotWrite(
                        w.slot,
                        w.code,
                        w.name,
                        w.access_code_id,
                        w.written_at,
                        acked_at=w.acked_at,
                        changed_at=w.changed_at,
                        removal_sent_at=w.removal_sent_at,
                        prior=(w.prior_code, w.prior_name, w.prior_access_code_id)
                        if w.prior_access_code_id
                        else None,
                    )
        # In the order asked for, so a batch acts on its locks in a stable order.
        snaps = {
            device_id: _snapshot(
                found[device_id], rows[device_id], writes[device_id], self._code_states
            )
            for device_id in device_ids
            if device_id in found
        }
        for device_id, seen in (observations or {}).items():
            if device_id in snaps and seen is not None and seen.capabilities is not None:
                snaps[device_id] = _with_capabilities(snaps[device_id], seen)
        return snaps

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

    def _observe(self, active: dict[str, Snapshot], now: datetime) -> dict[str, Observation | None]:
        """Read every lock back through its provider; record what changed in their
        reachability, all together. A lock that reports its capabilities gets them in its
        snapshot."""
        answers = self.host.read_all(
            {
                device_id: (snap.device, snap.state.capabilities, now)
                for device_id, snap in active.items()
            }
        )
        observations: dict[str, Observation | None] = {}
        lost: list[tuple[Snapshot, str]] = []
        answered: list[Snapshot] = []
        for device_id, snap in list(active.items()):
            answer = answers[device_id]
            if isinstance(answer, DeviceUnreachable):
                observations[device_id] = None
                lost.append((snap, answer.message))
                continue
            if isinstance(answer, AccountUnavailable):
                # pinwarden's own connection is down, not the lock: nothing is charged to the
                # lock or its codes (the account carries account_disconnected).
                observations[device_id] = None
                active[device_id] = replace(snap, state=replace(snap.state, account_down=True))
                continue
            if isinstance(answer, Exception):
                raise answer
            observations[device_id] = answer
            if answer.capabilities is not None:
                active[device_id] = snap = _with_capabilities(snap, answer)
            if records.was_unreachable(snap.device):
                answered.append(snap)
        if not (lost or answered):
            return observations
        with self.deps.store.begin() as conn:
            lock_devices(
                conn,
                [snap.device.device_id for snap, _ in lost]
                + [s.device.device_id for s in answered],
            )
            self._record_reachability(conn, lost, answered, now)
        return observations

    def _record_reachability(
        self,
        conn: Connection,
        lost: list[tuple[Snapshot, str]],
        answered: list[Snapshot],
        now: datetime,
    ) -> None:
        with Writes(conn) as w:
            for snap, message in lost:
                records.device_unreachable(
                    w,
                    snap,
                    message,
                    now,
                    backoff(snap.policy, snap.device.failure_count + 1, snap.device.device_id),
                )
            for snap in answered:
                records.device_reachable(w, snap.device, now)

    # -- acting ------------------------------------------------------------------------------

    def _record_plans(
        self,
        active: dict[str, Snapshot],
        plans: dict[str, Plan],
        wakes: dict[str, datetime | None],
        now: datetime,
    ) -> set[str]:
        """Every plan's verdicts, and every intended write (write-ahead), durable in one
        transaction before any lock is touched. Returns the locks whose plans were not
        recorded because something asked for a look at them since their snapshot was read:
        they are read and planned again."""
        pending = [
            (active[device_id], result, writes)
            for device_id, result in plans.items()
            if (writes := records.plan_writes(active[device_id], result, wakes[device_id]))
            or result.operations
        ]
        if not pending:
            return set()
        with self.deps.store.begin() as conn, Writes(conn) as w:
            outdated = _outdated(conn, [snap for snap, _, _ in pending])
            for snap, result, writes in pending:
                if snap.device.device_id in outdated:
                    continue
                if writes:
                    records.apply_plan(self.deps, w, snap, result, now, writes)
                for op in result.operations:
                    if isinstance(op, SetCode):
                        records.intend_write(w, snap, op, now)
        return outdated

    def _send(
        self, operations: dict[str, Sequence[SetCode | RemoveCode]], active: dict[str, Snapshot]
    ) -> Iterator[tuple[dict[str, Done], list[str], bool]]:
        """Send each lock its operations in order, paced: a lock gets a command no sooner than
        its interval after the one before (`Clock.sleep_until`; a virtual clock does not wait,
        the command carries the paced time). The locks take turns, the first command of each
        at once, then the second, so one lock's wait overlaps the others'; each turn is
        yielded to be recorded before the next one waits, with the locks that got their last
        command of the pass in it and whether any lock has more to come. A lock that turns out
        unreachable, or whose slot no longer holds what its plan expected, gets no more
        commands in this pass (it is read and planned again)."""
        queues = {device_id: list(ops) for device_id, ops in operations.items() if ops}
        last = {device_id: active[device_id].device.last_command_at for device_id in queues}
        while queues:
            turn: dict[str, tuple[SetCode | RemoveCode, datetime]] = {}
            at = self.deps.clock.now()
            for device_id, queue in queues.items():
                turn[device_id] = (queue.pop(0), _paced(at, last[device_id], active[device_id]))
            latest = max(when for _, when in turn.values())
            if latest > at:
                self.deps.clock.sleep_until(latest)
            answers = self.host.write_all(
                {
                    device_id: (
                        active[device_id].device,
                        active[device_id].state.capabilities,
                        when,
                        _command(op),
                    )
                    for device_id, (op, when) in turn.items()
                }
            )
            sent: dict[str, Done] = {}
            finished: list[str] = []
            for device_id, (op, when) in turn.items():
                outcome = _as_result(answers[device_id])
                sent[device_id] = [(op, outcome, when)]
                if outcome.outcome != Outcome.STALE:
                    last[device_id] = when
                if outcome.outcome in (Outcome.UNREACHABLE, Outcome.STALE) or not queues[device_id]:
                    del queues[device_id]
                    finished.append(device_id)
            yield sent, finished, bool(queues)

    def _record_outcomes(
        self, active: dict[str, Snapshot], sent: dict[str, Done], now: datetime
    ) -> None:
        acks: list[dict[str, Any]] = []
        with self.deps.store.begin() as conn:
            lock_devices(conn, sent)
            with Writes(conn) as w:
                for device_id, done in sent.items():
                    for op, outcome, when in done:
                        if outcome.outcome != Outcome.STALE:
                            records.update_device(w, device_id, {"last_command_at": when})
                        self._record(w, active[device_id], op, outcome, when, now, acks)
            records.acknowledge(conn, acks)

    def _record(
        self,
        conn: records.Sink,
        snap: Snapshot,
        op: SetCode | RemoveCode,
        outcome: WriteResult,
        sent_at: datetime,
        now: datetime,
        acks: list[dict[str, Any]],
    ) -> None:
        if outcome is _ACCOUNT_DOWN:
            return
        code = snap.by_id.get(op.access_code_id) if op.access_code_id else None
        attempts = (code.attempts if code else 0) + 1
        key = op.access_code_id or f"{snap.device.device_id}:{op.slot}"
        if outcome.outcome == Outcome.STALE:
            if isinstance(op, SetCode):
                records.write_not_sent(conn, snap, op)
        elif outcome.outcome == Outcome.UNREACHABLE:
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
            records.write_rejected(conn, snap, op, outcome, attempts, now + wait, now)
        else:
            records.write_accepted(conn, snap.device.device_id, op, outcome, sent_at, acks)
            if isinstance(op, SetCode):
                records.pin_chosen_by_lock(conn, snap, op, outcome, now)


def _acts(result: Plan) -> bool:
    """Whether a plan has anything to send to its lock (a command, or a PIN to choose anew)."""
    return bool(result.operations) or any(c.regenerate_code for c in result.changes)


def _due(wake: datetime | None, now: datetime) -> datetime | None:
    """A plan's next wake, no sooner than a second from now."""
    return now + timedelta(seconds=1) if wake is not None and wake <= now else wake


def _outdated(conn: Connection, snaps: Sequence[Snapshot]) -> set[str]:
    """The locks asked about since their snapshots were read (see `_ASKS`); their rows stay
    locked until the transaction ends, so no ask can slip in before the plans are recorded."""
    query = _ASKS.with_for_update() if conn.dialect.name == "postgresql" else _ASKS
    asked = dict(conn.execute(query, {"device_ids": [s.device.device_id for s in snaps]}).all())
    return {
        snap.device.device_id
        for snap in snaps
        if asked.get(snap.device.device_id, snap.device.wake_asks) != snap.device.wake_asks
    }


def _command(op: SetCode | RemoveCode) -> Command:
    if isinstance(op, RemoveCode):
        return ClearSlot(op.slot, op.expect)
    return SetSlot(op.slot, op.code, op.name, op.expect, op.starts_at, op.ends_at)


def _as_result(answer: WriteResult | Exception) -> WriteResult:
    """A provider's answer; a lock that could not be reached is an unreachable write."""
    if isinstance(answer, DeviceUnreachable):
        return WriteResult.unreachable(answer.issue_code, answer.message)
    if isinstance(answer, AccountUnavailable):
        return _ACCOUNT_DOWN
    if isinstance(answer, Exception):
        raise answer
    return answer


# A command that could not go because pinwarden's connection to the installation is down:
# nothing is recorded for it (its write-ahead stays; the lock is read again when it is back).
_ACCOUNT_DOWN = WriteResult.unreachable("account_disconnected", "the installation is unreachable")


def _paced(at: datetime, last: datetime | None, snap: Snapshot) -> datetime:
    """When the next command to the lock may go: no sooner than its interval after the last.
    A last command far ahead of the clock was stamped by another clock (a virtual one, since
    reset) and is ignored."""
    if last is None or last > at + _FOREIGN_STAMP:
        return at
    return max(at, last + _command_interval(snap))


def _as_confirmed(
    active: dict[str, Snapshot],
    observations: dict[str, Observation | None],
    done: dict[str, Done],
) -> dict[str, Observation]:
    """The locks whose every command this pass was confirmed (read back by the provider), as
    they are now: their last observation with those commands applied. A lock with any other
    answer is read again."""
    out: dict[str, Observation] = {}
    for device_id, commands in done.items():
        seen = observations.get(device_id)
        if seen is None or any(o.outcome != Outcome.CONFIRMED for _, o, _ in commands):
            continue
        readable = active[device_id].state.capabilities.pins_readable
        slots = seen.by_slot()
        for op, outcome, _ in commands:
            if isinstance(op, RemoveCode):
                slots.pop(op.slot, None)
                continue
            pin = (outcome.assigned_code or op.code) if readable else None
            slots[op.slot] = ObservedSlot(op.slot, pin, op.name, op.starts_at, op.ends_at)
        out[device_id] = Observation(
            seen.read_at, tuple(slots[s] for s in sorted(slots)), seen.capabilities
        )
    return out


def _with_capabilities(snap: Snapshot, seen: Observation) -> Snapshot:
    """The snapshot with what the lock itself reports it can do (and the device's overrides)."""
    assert seen.capabilities is not None
    caps = capabilities(snap.device, seen.capabilities)
    if caps == snap.state.capabilities:
        return snap
    return replace(snap, state=replace(snap.state, capabilities=caps))


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
    rows: list[Row[Any]],
    writes: dict[int, SlotWrite],
    code_states: _CodeStates,
) -> Snapshot:
    policy = Policy.effective(device.workspace_policy, device.policy)
    profile = brand_profile(device.brand)
    state = DeviceState(
        device_id=device.device_id,
        capabilities=capabilities(device),
        brand_errors={k: getattr(profile.errors, k) for k in profile.errors.__dataclass_fields__},
        failure_count=device.failure_count,
        retry_at=device.retry_at,
        unreachable_code=None if device.online else "device_offline",
        account_down=not device.account_connected,
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


__all__ = ["Engine", "backoff"]
