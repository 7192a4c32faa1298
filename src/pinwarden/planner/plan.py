"""The pure planner: desired codes + observed slots + now -> what to do.

No I/O, no clock, no randomness. Called by the engine after every read of a lock; calling it
again on the result of its own plan plans nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from pinwarden.catalog.third_party import looks_third_party
from pinwarden.domain.model import CodeStatus, Issue, Observation, ObservedSlot
from pinwarden.planner import issues as iss
from pinwarden.planner.capacity import Occupancy, forecast
from pinwarden.planner.preflight import Neighbours, preflight
from pinwarden.planner.types import (
    CodeChange,
    CodeState,
    DeviceState,
    Operation,
    Plan,
    PlannedEvent,
    Policy,
    RemoveCode,
    SetCode,
    SlotWrite,
)


@dataclass
class _Ctx:
    device: DeviceState
    obs: dict[int, ObservedSlot] | None
    writes: Mapping[int, SlotWrite]
    now: datetime
    policy: Policy
    ops: list[Operation] = field(default_factory=list)
    changes: list[CodeChange] = field(default_factory=list)
    events: list[PlannedEvent] = field(default_factory=list)
    wakes: list[datetime] = field(default_factory=list)
    taken: set[int] = field(default_factory=set)  # slots this plan writes
    freed: set[int] = field(default_factory=set)  # slots this plan empties
    assigned: set[int] = field(default_factory=set)  # slots other codes hold or await
    near: Neighbours = field(default_factory=lambda: Neighbours({}, {}))

    def wake(self, moment: datetime | None) -> None:
        if moment is not None and moment > self.now:
            self.wakes.append(moment)

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.device.capabilities.confirm_grace_seconds)


def is_native(device: DeviceState, code: CodeState) -> bool:
    return device.capabilities.native_scheduling and code.prefer_native_scheduling


def program_at(device: DeviceState, code: CodeState, policy: Policy) -> datetime | None:
    """When the code should go onto the lock; None for ongoing codes (at once)."""
    if code.window.starts_at is None:
        return None
    lead = policy.horizon if is_native(device, code) else policy.jit_lead
    return code.window.starts_at - lead


def wanted_on_lock(device: DeviceState, code: CodeState, now: datetime, policy: Policy) -> bool:
    if code.deleting or (code.window.ends_at is not None and now >= code.window.ends_at):
        return False
    start = program_at(device, code, policy)
    return start is None or now >= start


def _holds(ctx: _Ctx, code: CodeState, slot: int | None) -> bool:
    """Whether `slot` on the lock holds this code's PIN (masked PINs: trust our last write)."""
    if slot is None or ctx.obs is None or slot not in ctx.obs:
        return False
    seen = ctx.obs[slot].code
    if seen is not None:
        return seen == code.code
    write = ctx.writes.get(slot)
    return (
        write is not None
        and write.access_code_id == code.access_code_id
        and write.code == code.code
    )


def _in_sync(ctx: _Ctx, code: CodeState) -> bool:
    if not _holds(ctx, code, code.slot):
        return False
    assert ctx.obs is not None and code.slot is not None
    seen, write = ctx.obs[code.slot], ctx.writes.get(code.slot)
    if (
        write is not None
        and write.access_code_id == code.access_code_id
        and write.name != code.name
    ):
        return False
    return not is_native(ctx.device, code) or _window_matches(ctx, code, seen)


def _window_matches(ctx: _Ctx, code: CodeState, seen: ObservedSlot) -> bool:
    """The lock holds the code's window; a start moved forward to satisfy a lock that refuses
    starts in the past (start_date_in_future) still counts."""
    want = code.window
    if seen.ends_at != want.ends_at:
        return False
    if want.starts_at is None or seen.starts_at is None:
        return seen.starts_at == want.starts_at
    written = code.written_at or ctx.now
    return want.starts_at <= seen.starts_at <= max(want.starts_at, written + _START_NUDGE)


_START_NUDGE = timedelta(minutes=5)


def _write_window(ctx: _Ctx, c: CodeState) -> tuple[datetime | None, datetime | None]:
    if not is_native(ctx.device, c):
        return None, None
    start = c.window.starts_at
    if start is not None and "start_date_in_future" in ctx.device.capabilities.code_constraints:
        start = max(start, ctx.now + timedelta(minutes=1))
    return start, c.window.ends_at


def _free_slot(ctx: _Ctx, preferred: int | None) -> int | None:
    """The code's own slot (overwriting whatever was put there), else the lowest free one."""
    if preferred is not None and preferred not in ctx.taken:
        return preferred
    occupied = ((set(ctx.obs or ()) | ctx.assigned) - ctx.freed) | ctx.taken
    limit = ctx.device.capabilities.slot_count - ctx.device.capabilities.reserved_slots
    return next((s for s in range(1, limit + 1) if s not in occupied), None)


def _holds_slot(ctx: _Ctx, c: CodeState) -> bool:
    """The code's slot is taken: something is in it, or a write of ours may still land there."""
    if ctx.obs is not None and c.slot in ctx.obs:
        return True
    pending = c.written_at is not None and (c.confirmed_at is None or c.written_at > c.confirmed_at)
    return c.is_managed and not c.deleting and pending


def _occupancies(ctx: _Ctx, codes: Sequence[CodeState]) -> list[Occupancy]:
    out = []
    far = datetime.max.replace(tzinfo=ctx.now.tzinfo)
    for c in codes:
        on_lock = _holds(ctx, c, c.slot)
        if c.deleting and not on_lock:
            continue
        if c.window.ends_at is not None and c.window.ends_at <= ctx.now:
            continue
        start = (
            ctx.now if on_lock else max(ctx.now, program_at(ctx.device, c, ctx.policy) or ctx.now)
        )
        end = c.window.ends_at if c.is_managed and not c.deleting else None
        if c.deleting:
            end = ctx.now + ctx.grace
        rank = (
            0 if on_lock or not c.is_managed else (2 if c.is_backup else 1),
            c.window.starts_at or c.created_at,
            c.created_at,
            c.access_code_id,
        )
        out.append(Occupancy(c.access_code_id, start, end if end != far else None, rank))
    return out


def plan(
    device: DeviceState,
    codes: Sequence[CodeState],
    writes: Mapping[int, SlotWrite],
    observation: Observation | None,
    now: datetime,
    policy: Policy,
) -> Plan:
    ctx = _Ctx(device, observation.by_slot() if observation else None, writes, now, policy)
    if ctx.obs is not None:
        detected = any(looks_third_party(s.name) for s in ctx.obs.values())
        device = ctx.device = replace(device, third_party_detected=detected)
    codes = _adopt_unrecorded_writes(ctx, codes)
    ctx.assigned = {c.slot for c in codes if c.slot is not None and _holds_slot(ctx, c)}
    ctx.near = Neighbours.of(codes, ctx.obs or {})
    managed = [c for c in codes if c.is_managed]
    capacity = device.capabilities.slot_count - device.capabilities.reserved_slots
    no_room = forecast(_occupancies(ctx, codes), capacity)
    new_unmanaged = _unknown_slots(ctx, codes)
    for c in codes:
        if not c.is_managed:
            _plan_unmanaged(ctx, c)
    # Removals first: they free the slots new codes take.
    for c in sorted(managed, key=lambda c: wanted_on_lock(device, c, now, policy)):
        _plan_code(ctx, c, codes, c.access_code_id in no_room)
    device_issues = iss.device_issues(device, now, policy, _pool_health(ctx, codes))
    return Plan(
        operations=tuple(ctx.ops),
        changes=tuple(ctx.changes),
        new_unmanaged=new_unmanaged,
        events=tuple(ctx.events),
        device_issues=device_issues,
        next_wake_at=min(ctx.wakes, default=None),
    )


def _pool_health(ctx: _Ctx, codes: Sequence[CodeState]) -> tuple[int, int]:
    """(backups on the lock, backups in the pool) after this plan; pulled ones are not counted."""
    status = {ch.access_code_id: ch.status for ch in ctx.changes if ch.status is not None}
    pool = [c for c in codes if c.is_backup and c.window.is_ongoing and not c.deleting]
    ready = sum(1 for c in pool if status.get(c.access_code_id, c.status) == CodeStatus.SET)
    return ready, len(pool)


def _adopt_unrecorded_writes(ctx: _Ctx, codes: Sequence[CodeState]) -> list[CodeState]:
    """A crash between writing a slot and recording it leaves the slot known only from the
    write-ahead record: give the code its slot back instead of calling it unmanaged."""
    by_id = {w.access_code_id: w for w in ctx.writes.values() if w.access_code_id}
    out = []
    for c in codes:
        w = by_id.get(c.access_code_id)
        if c.slot is None and w is not None:
            c = replace(c, slot=w.slot, written_at=w.written_at)
            ctx.changes.append(CodeChange(c.access_code_id, slot=w.slot))
        out.append(c)
    return out


def _unknown_slots(
    ctx: _Ctx, codes: Sequence[CodeState]
) -> tuple[tuple[int, str | None, str | None], ...]:
    if ctx.obs is None:
        return ()
    known = {c.slot for c in codes if c.slot is not None}
    return tuple(
        (slot, seen.code, seen.name)
        for slot, seen in sorted(ctx.obs.items())
        if slot not in known and not _forgotten(ctx, slot, seen)
    )


def _forgotten(ctx: _Ctx, slot: int, seen: ObservedSlot) -> bool:
    """An operator said this slot's code is gone (force_forget); ignore it until it changes."""
    write = ctx.writes.get(slot)
    return write is not None and write.access_code_id is None and seen.code in (None, write.code)


def _plan_unmanaged(ctx: _Ctx, c: CodeState) -> None:
    if ctx.obs is None:
        return
    present = c.slot is not None and c.slot in ctx.obs
    if c.deleting:
        if present:
            assert c.slot is not None
            sent = c.removal_sent_at is not None and ctx.now < c.removal_sent_at + ctx.grace
            if not sent and _may_act(ctx, c):
                ctx.ops.append(RemoveCode(c.slot, c.access_code_id))
                ctx.freed.add(c.slot)
            ctx.wake(ctx.now + ctx.grace)
        else:
            ctx.changes.append(CodeChange(c.access_code_id, forget=True))
            ctx.events.append(PlannedEvent("access_code.unmanaged.removed", c.access_code_id))
    elif not present:
        ctx.changes.append(CodeChange(c.access_code_id, forget=True))
        ctx.events.append(PlannedEvent("access_code.unmanaged.removed", c.access_code_id))


def _plan_code(ctx: _Ctx, c: CodeState, codes: Sequence[CodeState], no_room: bool) -> None:
    if ctx.obs is None:
        _plan_blind(ctx, c)
    elif wanted_on_lock(ctx.device, c, ctx.now, ctx.policy):
        _plan_wanted(ctx, c, codes, no_room)
    else:
        _plan_unwanted(ctx, c, codes, no_room)


def _plan_blind(ctx: _Ctx, c: CodeState) -> None:
    """The lock cannot be read: keep state, say so, and wake when a retry is due."""
    raised = iss.keep(c, iss.offline_issues(ctx.device, c, ctx.now), ctx.now)
    raised = iss.escalate(
        ctx.device, c, raised, ctx.now, _in_sync_assumed=c.status == CodeStatus.SET
    )
    ctx.changes.append(
        CodeChange(c.access_code_id, issues=raised, pull_backup=_should_pull(ctx, c, raised))
    )
    ctx.events.extend(iss.raise_events(c, raised))
    ctx.wake(ctx.device.retry_at)
    ctx.wake(c.window.starts_at)
    ctx.wake(c.window.ends_at)


def _plan_unwanted(ctx: _Ctx, c: CodeState, codes: Sequence[CodeState], no_room: bool) -> None:
    gone = c.deleting or (c.window.ends_at is not None and ctx.now >= c.window.ends_at)
    on_lock = c.slot is not None and _holds(ctx, c, c.slot)
    if on_lock:
        assert c.slot is not None
        if _may_resend(ctx, c, c.removal_sent_at) and _may_act(ctx, c):
            ctx.ops.append(RemoveCode(c.slot, c.access_code_id))
            ctx.freed.add(c.slot)
        raised = iss.keep(c, iss.removal_issues(ctx.device, c, ctx.now, ctx.policy), ctx.now)
        ctx.changes.append(
            CodeChange(
                c.access_code_id,
                status=CodeStatus.REMOVING if gone else CodeStatus.SETTING,
                issues=raised,
            )
        )
        ctx.events.extend(iss.raise_events(c, raised))
        ctx.wake(ctx.now + ctx.grace)
        return
    unseen_write = (
        c.slot is not None
        and c.written_at is not None
        and (c.confirmed_at is None or c.written_at > c.confirmed_at)
    )
    if gone and unseen_write and c.removal_sent_at is None and _may_act(ctx, c):
        # A write the lock acknowledged may still land (programming delay): cancel it first.
        assert c.slot is not None
        ctx.ops.append(RemoveCode(c.slot, c.access_code_id))
        ctx.changes.append(
            CodeChange(
                c.access_code_id, status=CodeStatus.REMOVING, issues=iss.keep(c, (), ctx.now)
            )
        )
        ctx.wake(ctx.now + ctx.grace)
        return
    if gone:
        ctx.changes.append(CodeChange(c.access_code_id, forget=True))
        if c.confirmed_at is not None or c.written_at is not None:
            ctx.events.append(PlannedEvent("access_code.removed_from_device", c.access_code_id))
        ctx.events.append(PlannedEvent("access_code.deleted", c.access_code_id, {"code": c.code}))
        return
    # Not yet time to program: preflight now, so problems are known long before the deadline.
    found = preflight(ctx.device, c, ctx.near, no_room, ctx.now)
    raised = iss.keep(c, found, ctx.now)
    ctx.changes.append(
        CodeChange(
            c.access_code_id,
            status=CodeStatus.UNSET,
            issues=raised,
            clear_slot=c.slot is not None,
            regenerate_code=iss.needs_new_pin(c, found),
            pending_mutations=iss.deferred(c, program_at(ctx.device, c, ctx.policy), ctx.now),
        )
    )
    ctx.events.extend(iss.raise_events(c, raised))
    ctx.wake(program_at(ctx.device, c, ctx.policy))
    if c.window.starts_at is not None:
        ctx.wake(c.window.starts_at - ctx.policy.deadline)


def _may_act(ctx: _Ctx, c: CodeState) -> bool:
    if ctx.device.retry_at is not None and ctx.device.retry_at > ctx.now:
        ctx.wake(ctx.device.retry_at)
        return False
    if c.retry_at is not None and c.retry_at > ctx.now:
        ctx.wake(c.retry_at)
        return False
    return True


def _plan_wanted(ctx: _Ctx, c: CodeState, codes: Sequence[CodeState], no_room: bool) -> None:
    native_future = (
        is_native(ctx.device, c) and c.window.starts_at is not None and ctx.now < c.window.starts_at
    )
    if _in_sync(ctx, c):
        _confirmed(ctx, c, native_future)
        return
    drift = iss.external_change(ctx.obs or {}, c, ctx.now, holds=False)
    if drift is not None and c.allow_external_modification:
        raised = iss.keep(c, (drift,), ctx.now, in_sync=True)
        ctx.changes.append(CodeChange(c.access_code_id, status=CodeStatus.SET, issues=raised))
        ctx.events.extend(iss.raise_events(c, raised))
        ctx.wake(c.window.ends_at)
        return
    found = list(preflight(ctx.device, c, ctx.near, no_room, ctx.now))
    if drift is not None:
        found.append(drift)
    if (
        _awaiting_confirmation(ctx, c, found)
        and not iss.blocking(found)
        and c.attempts < _max_attempts(ctx)
        and _may_act(ctx, c)
    ):
        slot = _free_slot(ctx, c.slot)
        if slot is None:
            found.append(iss.slots_full(ctx.device, ctx.now))
        else:
            ctx.ops.append(SetCode(c.access_code_id, slot, c.code, c.name, *_write_window(ctx, c)))
            ctx.taken.add(slot)
            ctx.wake(ctx.now + ctx.grace)
    if c.attempts >= _max_attempts(ctx):
        found.append(iss.gave_up(ctx.device, c, ctx.now))
    raised = iss.keep(c, found, ctx.now)
    raised = iss.escalate(ctx.device, c, raised, ctx.now)
    ctx.changes.append(
        CodeChange(
            c.access_code_id,
            status=CodeStatus.SETTING,
            issues=raised,
            regenerate_code=iss.needs_new_pin(c, found),
            pull_backup=_should_pull(ctx, c, raised),
        )
    )
    ctx.events.extend(iss.raise_events(c, raised))
    ctx.wake(c.window.starts_at)
    ctx.wake(c.window.ends_at)


def _awaiting_confirmation(ctx: _Ctx, c: CodeState, found: list[Issue]) -> bool:
    """Whether a write may be sent now. An acknowledged write is given time to land: first the
    confirmation grace, then resends spaced further apart each time (30 min, 1 h, 2 h, ...), so
    a slow lock is never kept busy rewriting what it already queued. While it waits, the code
    carries the brand's delay warning (or, for locks that cannot confirm, an error)."""
    waiting = c.written_at is not None and (c.confirmed_at is None or c.written_at > c.confirmed_at)
    if not waiting or c.written_at is None:
        return True
    past_grace = ctx.now >= c.written_at + ctx.grace
    if past_grace or iss.already_delayed(ctx.device, c):
        found.extend(iss.unconfirmed_set(ctx.device, c, ctx.now))
    return _may_resend(ctx, c, c.written_at)


def _may_resend(ctx: _Ctx, c: CodeState, sent_at: datetime | None) -> bool:
    """A command the lock acknowledged is not sent again within the confirmation grace, then
    only at growing intervals (30 min, 1 h, 2 h, ... 16 h): a slow lock is never flooded."""
    if sent_at is None:
        return True
    resend_at = sent_at + ctx.policy.retry_max * 2 ** min(max(c.unconfirmed_writes - 1, 0), 5)
    if ctx.now < sent_at + ctx.grace:
        ctx.wake(sent_at + ctx.grace)
        return False
    if ctx.now < resend_at:
        ctx.wake(resend_at)
        return False
    return True


def _should_pull(ctx: _Ctx, c: CodeState, raised: tuple[Issue, ...]) -> bool:
    """With auto_pull_backup_on_failure: a time-bound code with an error, not on the lock an
    hour (jit_lead) before its start, gets a backup pulled for it (once)."""
    start = c.window.starts_at
    if not ctx.policy.auto_pull_backup_on_failure or start is None or c.is_backup:
        return False
    if c.pulled_backup_access_code_id or c.deleting:
        return False
    ctx.wake(start - ctx.policy.jit_lead)
    return ctx.now >= start - ctx.policy.jit_lead and any(i.kind == "error" for i in raised)


def _max_attempts(ctx: _Ctx) -> int:
    """Brands with a "gave up" code stop after the policy's attempts; others retry at the
    backoff ceiling for as long as the code is wanted."""
    if ctx.device.brand_errors.get("repeated_set_failures"):
        return ctx.policy.max_set_attempts
    return 1 << 30


def _confirmed(ctx: _Ctx, c: CodeState, native_future: bool) -> None:
    status = CodeStatus.UNSET if native_future else CodeStatus.SET
    raised = iss.keep(c, (), ctx.now, in_sync=True)
    fresh = c.confirmed_at is None or (c.written_at is not None and c.written_at > c.confirmed_at)
    ctx.changes.append(
        CodeChange(
            c.access_code_id,
            status=status,
            confirmed_at=ctx.now if fresh else None,
            is_scheduled_on_device=native_future,
            issues=raised,
            pending_mutations=(),
            clear_failure=c.failure is not None,
        )
    )
    if native_future and not c.is_scheduled_on_device:
        ctx.events.append(
            PlannedEvent("access_code.scheduled_on_device", c.access_code_id, {"code": c.code})
        )
    if status == CodeStatus.SET and c.status != CodeStatus.SET:
        ctx.events.append(
            PlannedEvent("access_code.set_on_device", c.access_code_id, {"code": c.code})
        )
    ctx.wake(c.window.starts_at)
    ctx.wake(c.window.ends_at)
