"""The pure planner: desired codes + observed slots + the ledger of our writes + now -> what to do.

No I/O, no clock, no randomness. Called by the engine after every read of a lock; calling it
again on the result of its own plan plans nothing new.

Every write names what the plan saw in its slot (`expect`): the provider carries it out only if
the slot still holds that, so a change made at the lock between the read and the write is never
overwritten blindly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from pinwarden.catalog.third_party import looks_third_party
from pinwarden.domain.model import CodeStatus, Issue, Observation, ObservedSlot, Window
from pinwarden.planner import issues as iss
from pinwarden.planner.capacity import forecast
from pinwarden.planner.preflight import Neighbours, preflight
from pinwarden.planner.slots import (
    Ctx,
    Held,
    adopt_unrecorded_writes,
    awaiting,
    claims,
    free_slot,
    held,
    in_sync,
    is_native,
    leftovers,
    occupancies,
    ours,
    program_at,
    seen_as_written,
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
    ctx.claimed = claims(ctx, codes)
    ctx.near = Neighbours.of(codes, ctx.obs or {})
    ctx.slow_since = _slow_since(ctx, codes)
    managed = [c for c in codes if c.is_managed]
    capacity = device.capabilities.slot_count - device.capabilities.reserved_slots
    # No more codes than slots: each finds room (the forecast could refuse none).
    no_room = forecast(occupancies(ctx, codes), capacity) if len(codes) > capacity else set()
    explained: set[int] = set()
    for c in codes:
        if not c.is_managed:
            _plan_unmanaged(ctx, c, explained)
    # Removals first: they free the slots new codes take.
    for c in sorted(managed, key=lambda c: wanted_on_lock(device, c, now, policy)):
        _plan_code(ctx, c, codes, c.access_code_id in no_room, explained)
    _remove_leftovers(ctx, codes, explained)
    _drop_settled_writes(ctx, codes)
    device_issues = iss.device_issues(device, now, policy, _pool_health(ctx, codes))
    if policy.read_back_interval > timedelta(0):  # a lock that does not report keypad changes
        ctx.wake(now + policy.read_back_interval)
    return Plan(
        operations=tuple(ctx.ops),
        changes=tuple(ctx.changes),
        new_unmanaged=unknown_slots(ctx, codes, explained),
        events=(*ctx.events, *iss.device_events(device, device_issues)),
        device_issues=device_issues,
        next_wake_at=min(ctx.wakes, default=None),
        programming_delay=_programming_delay(ctx),
        forget_writes=tuple(ctx.dropped),
    )


def _slow_since(ctx: Ctx, codes: Sequence[CodeState]) -> datetime | None:
    """Since when the lock has held a write it acknowledged but does not show (past the
    confirmation grace): evidence that the lock is slow now, for every code still to come."""
    if ctx.obs is None:
        return None
    waiting = [
        c.written_at
        for c in codes
        if c.is_managed
        and awaiting(c)
        and c.written_at is not None
        and ctx.now >= c.written_at + ctx.grace
        and not (c.slot is not None and held(ctx, c) == Held.CURRENT)
    ]
    return min(waiting, default=None)


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


def _remove(ctx: Ctx, slot: int, access_code_id: str | None, expect: ObservedSlot | None) -> None:
    ctx.ops.append(RemoveCode(slot, access_code_id, expect))
    ctx.taken.add(slot)


def _set(ctx: Ctx, c: CodeState, slot: int) -> None:
    ctx.ops.append(
        SetCode(c.access_code_id, slot, c.code, c.name, *write_window(ctx, c), ctx.seen(slot))
    )
    ctx.taken.add(slot)
    ctx.wake(ctx.now + ctx.grace)


# -- codes found on the lock ----------------------------------------------------------------


def _still_there(ctx: Ctx, c: CodeState) -> bool:
    """An unmanaged code is still in its slot: the slot holds its PIN (or a masked PIN)."""
    seen = ctx.seen(c.slot)
    return seen is not None and (seen.code is None or c.code is None or seen.code == c.code)


def _plan_unmanaged(ctx: Ctx, c: CodeState, explained: set[int]) -> None:
    if ctx.obs is None:
        return
    if not _still_there(ctx, c):
        ctx.changes.append(CodeChange(c.access_code_id, forget=True))
        ctx.events.append(PlannedEvent("access_code.unmanaged.removed", c.access_code_id))
        return
    assert c.slot is not None
    explained.add(c.slot)
    if c.deleting and _may_resend(ctx, c, c.removal_sent_at) and _may_act(ctx, c):
        # Only the slot that still holds this code is cleared.
        _remove(ctx, c.slot, c.access_code_id, ObservedSlot(c.slot, c.code, c.name))


def _remove_leftovers(ctx: Ctx, codes: Sequence[CodeState], explained: set[int]) -> None:
    """PINs pinwarden wrote for codes that no longer have that slot: taken off the lock."""
    for slot, write in leftovers(ctx, codes):
        explained.add(slot)
        if slot in ctx.taken or not _device_may_act(ctx):
            continue
        if _may_resend_at(ctx, write.removal_sent_at):
            _remove(ctx, slot, None, ctx.seen(slot))
            ctx.wake(ctx.now + ctx.grace)


def _drop_settled_writes(ctx: Ctx, codes: Sequence[CodeState]) -> None:
    """Ledger entries that no longer claim anything: the slot does not hold the write, and no
    acknowledged write of its code can still land there."""
    if ctx.obs is None:
        return
    by_id = {c.access_code_id: c for c in codes}
    for slot, write in ctx.writes.items():
        if slot in ctx.taken or ours(ctx, slot) is not None:
            continue
        owner = by_id.get(write.access_code_id) if write.access_code_id else None
        if owner is not None and (owner.slot == slot or awaiting(owner)):
            continue
        ctx.dropped.append(slot)


# -- managed codes ---------------------------------------------------------------------------


def _plan_code(
    ctx: Ctx, c: CodeState, codes: Sequence[CodeState], no_room: bool, explained: set[int]
) -> None:
    if ctx.obs is None:
        _plan_blind(ctx, c)
        return
    where = held(ctx, c)
    if where in (Held.CURRENT, Held.STALE):
        assert c.slot is not None
        explained.add(c.slot)  # the code itself, as it is or with an earlier PIN of ours
    if wanted_on_lock(ctx.device, c, ctx.now, ctx.policy):
        _plan_wanted(ctx, c, where, no_room, explained)
    else:
        _plan_unwanted(ctx, c, where, no_room)


def _plan_blind(ctx: Ctx, c: CodeState) -> None:
    """The lock cannot be read: keep what is known, say so, and wake when a retry is due. A
    code last seen on the lock as it should be is still on it."""
    if ctx.device.account_down:
        _plan_unknown(ctx, c)
        return
    gone = c.deleting or (c.window.ends_at is not None and ctx.now >= c.window.ends_at)
    on_lock = seen_as_written(c) and c.slot is not None
    status = None
    if gone and (on_lock or c.written_at is not None):
        status = CodeStatus.REMOVING
    elif on_lock and not gone and (c.window.starts_at is None or ctx.now >= c.window.starts_at):
        status = CodeStatus.SET
    found = iss.offline_issues(ctx.device, c, ctx.now, removing=status == CodeStatus.REMOVING)
    raised = iss.keep(c, found, ctx.now)
    if not gone:
        raised = iss.escalate(c, raised, ctx.now, last_known_set=on_lock)
    ctx.changes.append(
        CodeChange(
            c.access_code_id,
            status=status,
            issues=raised,
            pull_backup=_should_pull(ctx, c, raised),
        )
    )
    ctx.events.extend(iss.raise_events(c, raised))
    ctx.wake(ctx.device.retry_at)
    ctx.wake(c.window.starts_at)
    ctx.wake(c.window.ends_at)


def _plan_unknown(ctx: Ctx, c: CodeState) -> None:
    """pinwarden cannot reach the lock's installation: what is on the lock is unknown (Seam's
    `unknown` status for a code that should be there); nothing is failed or raised for it, and
    the lock is read again as soon as the installation is back."""
    if wanted_on_lock(ctx.device, c, ctx.now, ctx.policy):
        ctx.changes.append(CodeChange(c.access_code_id, status=CodeStatus.UNKNOWN))
    ctx.wake(ctx.now + ctx.policy.retry_max)
    ctx.wake(c.window.starts_at)
    ctx.wake(c.window.ends_at)


def _plan_unwanted(ctx: Ctx, c: CodeState, where: Held, no_room: bool) -> None:
    gone = c.deleting or (c.window.ends_at is not None and ctx.now >= c.window.ends_at)
    if where in (Held.CURRENT, Held.STALE):
        # On the lock (as it is, or with an earlier PIN of ours): it comes off.
        assert c.slot is not None
        if _may_resend(ctx, c, c.removal_sent_at) and _may_act(ctx, c):
            _remove(ctx, c.slot, c.access_code_id, ctx.seen(c.slot))
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
    if where == Held.ABSENT and awaiting(c) and c.removal_sent_at is None and _may_act(ctx, c):
        # A write the lock acknowledged may still land (programming delay): cancel it first.
        assert c.slot is not None
        _remove(ctx, c.slot, c.access_code_id, None)
        ctx.changes.append(
            CodeChange(
                c.access_code_id,
                status=CodeStatus.REMOVING if gone else CodeStatus.SETTING,
                issues=iss.keep(c, (), ctx.now),
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
    found = preflight(ctx.device, c, ctx.near, no_room, ctx.now, ctx.slow_since)
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


def _device_may_act(ctx: Ctx) -> bool:
    if ctx.device.retry_at is not None and ctx.device.retry_at > ctx.now:
        ctx.wake(ctx.device.retry_at)
        return False
    return True


def _may_act(ctx: Ctx, c: CodeState) -> bool:
    if not _device_may_act(ctx):
        return False
    if c.retry_at is not None and c.retry_at > ctx.now:
        ctx.wake(c.retry_at)
        return False
    return True


def _plan_wanted(ctx: Ctx, c: CodeState, where: Held, no_room: bool, explained: set[int]) -> None:
    native_future = (
        is_native(ctx.device, c) and c.window.starts_at is not None and ctx.now < c.window.starts_at
    )
    if in_sync(ctx, c):
        _confirmed(ctx, c, native_future)
        return
    drift = None
    if _changed_outside(ctx, c, where):
        assert c.slot is not None
        drift = iss.external_change(ctx.seen(c.slot), c, ctx.now, ctx.device)
        explained.add(c.slot)  # what the slot holds now is this code, changed at the lock
    if drift is not None and c.allow_external_modification:
        raised = iss.keep(c, (drift,), ctx.now, in_sync=True)
        ctx.changes.append(CodeChange(c.access_code_id, status=CodeStatus.SET, issues=raised))
        ctx.events.extend(iss.raise_events(c, raised))
        ctx.wake(c.window.ends_at)
        return
    slow = None if awaiting(c) else ctx.slow_since
    found = list(preflight(ctx.device, c, ctx.near, no_room, ctx.now, slow))
    if drift is not None:
        found.append(drift)
    # A slot that never held this code as written, and holds something else now, is not the
    # code's to overwrite: the code moves. (Its own earlier write, replaced at the lock, is.)
    moved = where == Held.FOREIGN and drift is None and not _wrote_there(ctx, c)
    target = replace(c, slot=None) if moved else c
    blocked = iss.blocking(found) or (drift is not None and iss.needs_approval(drift))
    if (
        _awaiting_confirmation(ctx, c, found)
        and not blocked
        and c.attempts < _max_attempts(ctx)
        and _may_act(ctx, c)
    ):
        slot = free_slot(ctx, target)
        if slot is None:
            found.append(iss.slots_full(ctx.device, ctx.now))
        else:
            _set(ctx, target, slot)
    elif blocked and _pin_changed(ctx, c):
        # The new PIN cannot go on the lock: the old one must not keep opening the door.
        if where == Held.STALE and _may_act(ctx, c):
            assert c.slot is not None
            _remove(ctx, c.slot, c.access_code_id, ctx.seen(c.slot))
        found = [iss.old_pin_removed(i) for i in found]
    if c.attempts >= _max_attempts(ctx):
        found.append(iss.gave_up(ctx.device, c, ctx.now))
    raised = iss.keep(c, found, ctx.now)
    raised = iss.escalate(c, raised, ctx.now, last_known_set=_opens_now(ctx, c, where))
    ctx.changes.append(
        CodeChange(
            c.access_code_id,
            status=_status_while_writing(c, where, drift is not None and blocked),
            issues=raised,
            clear_slot=moved,
            regenerate_code=iss.needs_new_pin(c, found),
            pull_backup=_should_pull(ctx, c, raised),
        )
    )
    ctx.events.extend(iss.raise_events(c, raised))
    ctx.wake(c.window.starts_at)
    ctx.wake(c.window.ends_at)


def _changed_outside(ctx: Ctx, c: CodeState, where: Held) -> bool:
    """The code was on the lock as pinwarden last wrote it, and its slot now holds something
    pinwarden did not write there (or nothing, though pinwarden did not clear it). Another
    code's write of ours in the slot is no outside change: that code keeps the slot, and this
    one moves."""
    if not seen_as_written(c) or where == Held.CURRENT or where == Held.STALE:
        return False
    if where == Held.ABSENT:
        return not _cleared_by_us(ctx, c)
    return ours(ctx, c.slot) is None


def _cleared_by_us(ctx: Ctx, c: CodeState) -> bool:
    """pinwarden itself asked the lock to clear the code's slot after its last write there."""
    write = ctx.writes.get(c.slot) if c.slot is not None else None
    return (
        write is not None
        and write.removal_sent_at is not None
        and write.removal_sent_at >= (write.acked_at or write.written_at)
    )


def _status_while_writing(c: CodeState, where: Held, stopped: bool) -> CodeStatus:
    """A code whose PIN is already on the lock keeps its status while its name or window is
    rewritten (the change shows in pending_mutations); otherwise it is being set."""
    if stopped:
        return CodeStatus.UNSET
    if where == Held.CURRENT and c.status in (CodeStatus.SET, CodeStatus.UNSET):
        return c.status
    return CodeStatus.SETTING


def _opens_now(ctx: Ctx, c: CodeState, where: Held) -> bool:
    """The code's PIN is on the lock and works now, though something else about it is still
    to be written (its name, its window): the guest is not locked out."""
    seen = ctx.seen(c.slot)
    return (
        where == Held.CURRENT
        and seen is not None
        and Window(seen.starts_at, seen.ends_at).contains(ctx.now)
    )


def _wrote_there(ctx: Ctx, c: CodeState) -> bool:
    write = ctx.writes.get(c.slot) if c.slot is not None else None
    return write is not None and write.access_code_id == c.access_code_id


def _pin_changed(ctx: Ctx, c: CodeState) -> bool:
    write = ctx.writes.get(c.slot) if c.slot is not None else None
    return write is not None and write.code != c.code


def _awaiting_confirmation(ctx: Ctx, c: CodeState, found: list[Issue]) -> bool:
    """Whether a write may be sent now. An acknowledged write is given time to land: first the
    confirmation grace, then resends at the backoff ceiling, so a slow lock is never kept busy
    rewriting what it already queued. While it waits, the code carries the brand's delay
    warning (or, for locks that cannot confirm, an error). A write that was decided but never
    acknowledged (the process stopped in between) is sent again at once."""
    if not awaiting(c) or c.written_at is None:
        return True
    past_grace = ctx.now >= c.written_at + ctx.grace
    if past_grace or iss.already_delayed(ctx.device, c):
        found.extend(iss.unconfirmed_set(ctx.device, c, ctx.now))
    return _may_resend(ctx, c, c.written_at)


def _may_resend(ctx: Ctx, c: CodeState, sent_at: datetime | None) -> bool:
    return _may_resend_at(ctx, sent_at)


def _may_resend_at(ctx: Ctx, sent_at: datetime | None) -> bool:
    """A command the lock acknowledged is not sent again within the confirmation grace, then
    once per backoff ceiling (`retry_max`): a slow lock is never flooded, and a lock whose
    fault has cleared gets the code within that time."""
    if sent_at is None:
        return True
    if ctx.now < sent_at + ctx.grace:
        ctx.wake(sent_at + ctx.grace)
        return False
    resend_at = sent_at + max(ctx.policy.retry_max, ctx.grace)
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
    fresh = c.confirmed_at is None or awaiting(c)
    if fresh and c.written_at is not None:
        ctx.landed_after.append(ctx.now - c.written_at)
    ctx.changes.append(
        CodeChange(
            c.access_code_id,
            status=status,
            # A paced write carries its own (later) time: seen now, it counts as seen after it.
            confirmed_at=max(ctx.now, c.written_at or ctx.now) if fresh else None,
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
