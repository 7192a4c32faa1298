"""What a lock holds, as the planner sees it: the plan's working context, which slot holds
which code, free slots, and every code's claim on a slot over time (for the forecast)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from pinwarden.domain.model import ObservedSlot
from pinwarden.planner.capacity import Occupancy
from pinwarden.planner.preflight import Neighbours
from pinwarden.planner.types import (
    CodeChange,
    CodeState,
    DeviceState,
    Operation,
    PlannedEvent,
    Policy,
    SlotWrite,
)


@dataclass
class Ctx:
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
    landed_after: list[timedelta] = field(default_factory=list)  # write -> seen, this plan

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
    if is_native(device, code):
        return code.window.starts_at - policy.horizon
    # A lock that has been slow to take codes gets them earlier, so they land by the start.
    slow = min(device.programming_delay, _MAX_EXTRA_LEAD)
    return code.window.starts_at - policy.jit_lead - slow


_MAX_EXTRA_LEAD = timedelta(hours=12)


def wanted_on_lock(device: DeviceState, code: CodeState, now: datetime, policy: Policy) -> bool:
    if code.deleting or (code.window.ends_at is not None and now >= code.window.ends_at):
        return False
    start = program_at(device, code, policy)
    return start is None or now >= start


def holds(ctx: Ctx, code: CodeState, slot: int | None) -> bool:
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


def in_sync(ctx: Ctx, code: CodeState) -> bool:
    if not holds(ctx, code, code.slot):
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


def _window_matches(ctx: Ctx, code: CodeState, seen: ObservedSlot) -> bool:
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


def write_window(ctx: Ctx, c: CodeState) -> tuple[datetime | None, datetime | None]:
    if not is_native(ctx.device, c):
        return None, None
    start = c.window.starts_at
    if start is not None and "start_date_in_future" in ctx.device.capabilities.code_constraints:
        start = max(start, ctx.now + timedelta(minutes=1))
    return start, c.window.ends_at


def free_slot(ctx: Ctx, preferred: int | None) -> int | None:
    """The code's own slot (overwriting whatever was put there), else the lowest free one."""
    if preferred is not None and preferred not in ctx.taken:
        return preferred
    occupied = ((set(ctx.obs or ()) | ctx.assigned) - ctx.freed) | ctx.taken
    limit = ctx.device.capabilities.slot_count - ctx.device.capabilities.reserved_slots
    return next((s for s in range(1, limit + 1) if s not in occupied), None)


def holds_slot(ctx: Ctx, c: CodeState) -> bool:
    """The code's slot is taken: something is in it, or a write of ours may still land there."""
    if ctx.obs is not None and c.slot in ctx.obs:
        return True
    pending = c.written_at is not None and (c.confirmed_at is None or c.written_at > c.confirmed_at)
    return c.is_managed and not c.deleting and pending


def occupancies(ctx: Ctx, codes: Sequence[CodeState]) -> list[Occupancy]:
    out = []
    for c in codes:
        on_lock = holds(ctx, c, c.slot)
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
        out.append(Occupancy(c.access_code_id, start, end, rank))
    return out


def adopt_unrecorded_writes(ctx: Ctx, codes: Sequence[CodeState]) -> list[CodeState]:
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


def unknown_slots(
    ctx: Ctx, codes: Sequence[CodeState]
) -> tuple[tuple[int, str | None, str | None], ...]:
    if ctx.obs is None:
        return ()
    known = {c.slot for c in codes if c.slot is not None}
    return tuple(
        (slot, seen.code, seen.name)
        for slot, seen in sorted(ctx.obs.items())
        if slot not in known and not forgotten(ctx, slot, seen)
    )


def forgotten(ctx: Ctx, slot: int, seen: ObservedSlot) -> bool:
    """An operator said this slot's code is gone (force_forget); ignore it until it changes."""
    write = ctx.writes.get(slot)
    return write is not None and write.access_code_id is None and seen.code in (None, write.code)
