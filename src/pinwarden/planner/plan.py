"""The pure planner: desired codes + observed slots + now -> what to do.

No I/O, no clock, no randomness. Called by the engine after every read of a lock; calling it
again on the result of its own plan plans nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from pinwarden.catalog.third_party import looks_third_party
from pinwarden.domain.model import CodeStatus, Issue, Observation
from pinwarden.planner import issues as iss
from pinwarden.planner.capacity import forecast
from pinwarden.planner.preflight import Neighbours, preflight
from pinwarden.planner.slots import (
    Ctx,
    adopt_unrecorded_writes,
    free_slot,
    holds,
    holds_slot,
    in_sync,
    is_native,
    occupancies,
    program_at,
    unknown_slots,
    wanted_on_lock,
    write_window,
)
from pinwarden.planner.types import (
    CodeChange,
    CodeState,
    DeviceState,
    Plan,
    PlannedEvent,
    Policy,
    RemoveCode,
    SetCode,
    SlotWrite,
)


def plan(
    device: DeviceState,
    codes: Sequence[CodeState],
    writes: Mapping[int, SlotWrite],
    observation: Observation | None,
    now: datetime,
    policy: Policy,
) -> Plan:
    ctx = Ctx(device, observation.by_slot() if observation else None, writes, now, policy)
    if ctx.obs is not None:
        detected = any(looks_third_party(s.name) for s in ctx.obs.values())
        device = ctx.device = replace(device, third_party_detected=detected)
    codes = adopt_unrecorded_writes(ctx, codes)
    ctx.assigned = {c.slot for c in codes if c.slot is not None and holds_slot(ctx, c)}
    ctx.near = Neighbours.of(codes, ctx.obs or {})
    managed = [c for c in codes if c.is_managed]
    capacity = device.capabilities.slot_count - device.capabilities.reserved_slots
    no_room = forecast(occupancies(ctx, codes), capacity)
    new_unmanaged = unknown_slots(ctx, codes)
    for c in codes:
        if not c.is_managed:
            _plan_unmanaged(ctx, c)
    # Removals first: they free the slots new codes take.
    for c in sorted(managed, key=lambda c: wanted_on_lock(device, c, now, policy)):
        _plan_code(ctx, c, codes, c.access_code_id in no_room)
    device_issues = iss.device_issues(device, now, policy, _pool_health(ctx, codes))
    if policy.read_back_interval > timedelta(0):  # a lock that does not report keypad changes
        ctx.wake(now + policy.read_back_interval)
    return Plan(
        operations=tuple(ctx.ops),
        changes=tuple(ctx.changes),
        new_unmanaged=new_unmanaged,
        events=(*ctx.events, *iss.device_events(device, device_issues)),
        device_issues=device_issues,
        next_wake_at=min(ctx.wakes, default=None),
        programming_delay=_programming_delay(ctx),
    )


def _programming_delay(ctx: Ctx) -> timedelta | None:
    """The lock's new programming delay, from the writes seen landing in this plan: the
    slowest one if it took longer than the confirmation grace, else half the old figure (a lock
    that has become quick again earns its leads back). None: nothing landed, no change."""
    if not ctx.landed_after:
        return None
    slowest = max(ctx.landed_after)
    if slowest > ctx.grace:
        return slowest
    return (
        ctx.device.programming_delay / 2
        if ctx.device.programming_delay > ctx.grace
        else timedelta(0)
    )


def _pool_health(ctx: Ctx, codes: Sequence[CodeState]) -> tuple[int, int]:
    """(backups on the lock, backups in the pool) after this plan; pulled ones are not counted."""
    status = {ch.access_code_id: ch.status for ch in ctx.changes if ch.status is not None}
    pool = [c for c in codes if c.is_backup and c.window.is_ongoing and not c.deleting]
    ready = sum(1 for c in pool if status.get(c.access_code_id, c.status) == CodeStatus.SET)
    return ready, len(pool)


def _plan_unmanaged(ctx: Ctx, c: CodeState) -> None:
    if ctx.obs is None:
        return
    present = c.slot is not None and c.slot in ctx.obs
    if c.deleting:
        if present:
            assert c.slot is not None
            if _may_resend(ctx, c, c.removal_sent_at) and _may_act(ctx, c):
                ctx.ops.append(RemoveCode(c.slot, c.access_code_id))
                ctx.freed.add(c.slot)
        else:
            ctx.changes.append(CodeChange(c.access_code_id, forget=True))
            ctx.events.append(PlannedEvent("access_code.unmanaged.removed", c.access_code_id))
    elif not present:
        ctx.changes.append(CodeChange(c.access_code_id, forget=True))
        ctx.events.append(PlannedEvent("access_code.unmanaged.removed", c.access_code_id))


def _plan_code(ctx: Ctx, c: CodeState, codes: Sequence[CodeState], no_room: bool) -> None:
    if ctx.obs is None:
        _plan_blind(ctx, c)
    elif wanted_on_lock(ctx.device, c, ctx.now, ctx.policy):
        _plan_wanted(ctx, c, codes, no_room)
    else:
        _plan_unwanted(ctx, c, codes, no_room)


def _plan_blind(ctx: Ctx, c: CodeState) -> None:
    """The lock cannot be read: keep state, say so, and wake when a retry is due."""
    raised = iss.keep(c, iss.offline_issues(ctx.device, c, ctx.now), ctx.now)
    raised = iss.escalate(c, raised, ctx.now, last_known_set=c.status == CodeStatus.SET)
    ctx.changes.append(
        CodeChange(c.access_code_id, issues=raised, pull_backup=_should_pull(ctx, c, raised))
    )
    ctx.events.extend(iss.raise_events(c, raised))
    ctx.wake(ctx.device.retry_at)
    ctx.wake(c.window.starts_at)
    ctx.wake(c.window.ends_at)


def _plan_unwanted(ctx: Ctx, c: CodeState, codes: Sequence[CodeState], no_room: bool) -> None:
    gone = c.deleting or (c.window.ends_at is not None and ctx.now >= c.window.ends_at)
    on_lock = c.slot is not None and holds(ctx, c, c.slot)
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
            pending_mutations=iss.deferred(c, program_at(ctx.device, c, ctx.policy)),
        )
    )
    ctx.events.extend(iss.raise_events(c, raised))
    # No wake at the issue deadline itself: preflight ran now and runs again on every change
    # to the lock or its codes, and nothing it checks changes by time passing alone.
    ctx.wake(program_at(ctx.device, c, ctx.policy))


def _may_act(ctx: Ctx, c: CodeState) -> bool:
    if ctx.device.retry_at is not None and ctx.device.retry_at > ctx.now:
        ctx.wake(ctx.device.retry_at)
        return False
    if c.retry_at is not None and c.retry_at > ctx.now:
        ctx.wake(c.retry_at)
        return False
    return True


def _plan_wanted(ctx: Ctx, c: CodeState, codes: Sequence[CodeState], no_room: bool) -> None:
    native_future = (
        is_native(ctx.device, c) and c.window.starts_at is not None and ctx.now < c.window.starts_at
    )
    if in_sync(ctx, c):
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
        slot = free_slot(ctx, c.slot)
        if slot is None:
            found.append(iss.slots_full(ctx.device, ctx.now))
        else:
            ctx.ops.append(SetCode(c.access_code_id, slot, c.code, c.name, *write_window(ctx, c)))
            ctx.taken.add(slot)
            ctx.wake(ctx.now + ctx.grace)
    if c.attempts >= _max_attempts(ctx):
        found.append(iss.gave_up(ctx.device, c, ctx.now))
    raised = iss.keep(c, found, ctx.now)
    raised = iss.escalate(c, raised, ctx.now)
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


def _awaiting_confirmation(ctx: Ctx, c: CodeState, found: list[Issue]) -> bool:
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


def _may_resend(ctx: Ctx, c: CodeState, sent_at: datetime | None) -> bool:
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


def _should_pull(ctx: Ctx, c: CodeState, raised: tuple[Issue, ...]) -> bool:
    """With auto_pull_backup_on_failure: a time-bound code with an error, not on the lock an
    hour (jit_lead) before its start, gets a backup pulled for it (once)."""
    start = c.window.starts_at
    if not ctx.policy.auto_pull_backup_on_failure or start is None or c.is_backup:
        return False
    if c.pulled_backup_access_code_id or c.deleting:
        return False
    ctx.wake(start - ctx.policy.jit_lead)
    return ctx.now >= start - ctx.policy.jit_lead and any(i.kind == "error" for i in raised)


def _max_attempts(ctx: Ctx) -> int:
    """Brands with a "gave up" code stop after the policy's attempts; others retry at the
    backoff ceiling for as long as the code is wanted."""
    if ctx.device.brand_errors.get("repeated_set_failures"):
        return ctx.policy.max_set_attempts
    return 1 << 30


def _confirmed(ctx: Ctx, c: CodeState, native_future: bool) -> None:
    status = CodeStatus.UNSET if native_future else CodeStatus.SET
    raised = iss.keep(c, (), ctx.now, in_sync=True)
    fresh = c.confirmed_at is None or (c.written_at is not None and c.written_at > c.confirmed_at)
    if fresh and c.written_at is not None:
        ctx.landed_after.append(ctx.now - c.written_at)
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
