"""What a lock holds, as the planner sees it: the plan's working context, whose each slot is,
free slots, and every code's claim on a slot over time (for the forecast).

Whose a slot is comes from the ledger (`SlotWrite`, what pinwarden last wrote there), never from
comparing the lock with what a code wants now: a code whose PIN or name was changed through the
API still owns the slot that holds its old PIN, so the old PIN is rewritten or removed (never
mistaken for a change made at the lock, nor left behind as somebody else's code).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

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
    taken: set[int] = field(default_factory=set)  # slots this plan writes or empties
    claimed: set[int] = field(default_factory=set)  # slots codes hold or may still land in
    near: Neighbours = field(default_factory=lambda: Neighbours({}, {}))
    landed_after: list[timedelta] = field(default_factory=list)  # write -> seen, this plan
    dropped: list[int] = field(default_factory=list)  # ledger entries this plan forgets
    slow_since: datetime | None = None  # the lock holds an unseen acknowledged write since

    def wake(self, moment: datetime | None) -> None:
        if moment is not None and moment > self.now:
            self.wakes.append(moment)

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.device.capabilities.confirm_grace_seconds)

    def seen(self, slot: int | None) -> ObservedSlot | None:
        return None if slot is None or self.obs is None else self.obs.get(slot)


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


# -- whose a slot is ---------------------------------------------------------------------------


def ours(ctx: Ctx, slot: int | None) -> SlotWrite | None:
    """pinwarden's last write into `slot` while the lock still holds it; None when the slot is
    empty or holds something else. A masked slot holds our write unless the lock reported a
    change to it since (a keypad edit is invisible in a masked read)."""
    seen, write = ctx.seen(slot), ctx.writes.get(slot) if slot is not None else None
    if seen is None or write is None or write.access_code_id is None:
        return None
    earlier = _earlier(write)
    if seen.code is not None:
        if seen.code == write.code:
            return write
        return earlier if earlier is not None and seen.code == earlier.code else None
    if not write.trusted:
        return None
    if seen.name is None or write.name is None or seen.name == write.name:
        return write
    return earlier if earlier is not None and seen.name == earlier.name else None


def _earlier(write: SlotWrite) -> SlotWrite | None:
    """The acknowledged write an unacknowledged one follows (the process may have stopped
    before sending it, so the slot may still hold the earlier one, which is ours too)."""
    if write.acked_at is not None or write.prior is None or write.prior[2] is None:
        return None
    code, name, access_code_id = write.prior
    return replace(write, code=code, name=name, access_code_id=access_code_id)


class Held(Enum):
    """What a code's slot holds, for that code."""

    CURRENT = "current"  # the code as it is now
    STALE = "stale"  # the code as it was: an earlier PIN or name pinwarden wrote
    FOREIGN = "foreign"  # something pinwarden did not write for this code
    ABSENT = "absent"  # nothing (or the code has no slot)


def held(ctx: Ctx, c: CodeState) -> Held:
    seen = ctx.seen(c.slot)
    if seen is None or c.slot is None:
        return Held.ABSENT
    write = ours(ctx, c.slot)
    if write is not None and write.access_code_id == c.access_code_id:
        if seen.code is None and write.acked_at is None and write.prior is not None:
            return Held.STALE  # masked, and unsure which of our two writes it holds: rewrite
        return Held.CURRENT if write.code == c.code else Held.STALE
    if write is None and c.slot not in ctx.writes and seen.code == c.code is not None:
        return Held.CURRENT  # no ledger entry (an older data dir): the PIN says it is ours
    return Held.FOREIGN


def holds(ctx: Ctx, c: CodeState) -> bool:
    """Whether the code's slot holds the code's PIN as it is now."""
    return held(ctx, c) == Held.CURRENT


def holds_ours(ctx: Ctx, c: CodeState) -> bool:
    """Whether the code's slot holds something pinwarden wrote for it (current or earlier)."""
    return held(ctx, c) in (Held.CURRENT, Held.STALE)


def in_sync(ctx: Ctx, code: CodeState) -> bool:
    if not holds(ctx, code):
        return False
    assert ctx.obs is not None and code.slot is not None
    seen, write = ctx.obs[code.slot], ctx.writes.get(code.slot)
    if write is not None and write.name != code.name:
        return False
    return not is_native(ctx.device, code) or _window_matches(ctx, code, seen)


def seen_as_written(c: CodeState) -> bool:
    """The lock was seen holding the code's last acknowledged write."""
    return c.confirmed_at is not None and (c.written_at is None or c.written_at <= c.confirmed_at)


def awaiting(c: CodeState) -> bool:
    """The lock acknowledged a write of this code that it does not show yet."""
    return c.written_at is not None and (c.confirmed_at is None or c.written_at > c.confirmed_at)


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


# -- slots that are free ---------------------------------------------------------------------


def claims(ctx: Ctx, codes: Sequence[CodeState]) -> set[int]:
    """Slots no other code may be given: what the lock holds, every slot in the ledger (a
    write there may still land, or its content may still be on its way off the lock), and the
    slot of every code that keeps it. A slot is given to a new code only once it is empty and
    nobody's."""
    staying = {
        c.slot
        for c in codes
        if c.slot is not None and c.is_managed and (_stays(ctx, c) or awaiting(c))
    }
    return set(ctx.obs or ()) | set(ctx.writes) | staying


def _stays(ctx: Ctx, c: CodeState) -> bool:
    return not c.deleting and (c.window.ends_at is None or ctx.now < c.window.ends_at)


def free_slot(ctx: Ctx, c: CodeState) -> int | None:
    """The code's own slot if it has one, else the lowest slot nobody claims."""
    if c.slot is not None and c.slot not in ctx.taken:
        return c.slot
    limit = ctx.device.capabilities.slot_count - ctx.device.capabilities.reserved_slots
    blocked = ctx.claimed | ctx.taken
    return next((s for s in range(1, limit + 1) if s not in blocked), None)


def occupancies(ctx: Ctx, codes: Sequence[CodeState]) -> list[Occupancy]:
    out = []
    for c in codes:
        on_lock = holds(ctx, c) if c.is_managed else ctx.seen(c.slot) is not None
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
    """A code that lost its slot record while the ledger still has its write (an older data
    dir, or a crash of one): give the code its slot back instead of calling it unmanaged."""
    by_id = {w.access_code_id: w for w in ctx.writes.values() if w.access_code_id}
    out = []
    for c in codes:
        w = by_id.get(c.access_code_id)
        if c.slot is None and w is not None:
            c = replace(c, slot=w.slot)
            ctx.changes.append(CodeChange(c.access_code_id, slot=w.slot))
        out.append(c)
    return out


def leftovers(ctx: Ctx, codes: Sequence[CodeState]) -> list[tuple[int, SlotWrite]]:
    """Slots holding something pinwarden wrote for a code that no longer has that slot (it
    was deleted, or moved): such a PIN is removed, never taken for somebody else's code."""
    slot_of = {c.access_code_id: c.slot for c in codes}
    out = []
    for slot in sorted(ctx.obs or ()):
        write = ours(ctx, slot)
        if write is not None and slot_of.get(write.access_code_id or "") != slot:
            out.append((slot, write))
    return out


def unknown_slots(
    ctx: Ctx, codes: Sequence[CodeState], explained: set[int]
) -> tuple[tuple[int, str | None, str | None], ...]:
    """Occupied slots that neither pinwarden's writes nor any known code explain: codes added
    at the lock or in the brand's app, to be listed as unmanaged."""
    if ctx.obs is None:
        return ()
    return tuple(
        (slot, seen.code, seen.name)
        for slot, seen in sorted(ctx.obs.items())
        if slot not in explained and ours(ctx, slot) is None
    )
