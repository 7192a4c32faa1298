"""Slot forecasting: will a code find a free slot for its whole time on the lock?

Every code that occupies a slot at some time counts: managed codes (on the lock or future),
backups, and unmanaged codes. Occupancy is an interval, not a snapshot, so a code for next
week is refused room that a code already booked for next week will take.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Occupancy:
    key: str
    start: datetime
    end: datetime | None  # None: until further notice
    rank: tuple[int, datetime, datetime, str]  # lower ranks get slots first


def _peak(accepted: Sequence[Occupancy], candidate: Occupancy) -> int:
    """Most accepted intervals alive at once inside `candidate`'s interval (a sweep over the
    ones that overlap it)."""
    c_start, c_end = candidate.start, candidate.end
    marks: list[tuple[datetime, int]] = []
    for o in accepted:
        if (c_end is None or o.start < c_end) and (o.end is None or o.end > c_start):
            marks.append((max(o.start, c_start), 1))
            if o.end is not None and (c_end is None or o.end < c_end):
                marks.append((o.end, -1))
    alive = peak = 0
    for _, step in sorted(marks, key=lambda m: (m[0], m[1])):  # ends before starts at a tie
        alive += step
        peak = max(peak, alive)
    return peak


def forecast(occupancies: Iterable[Occupancy], capacity: int) -> set[str]:
    """Keys of the occupancies that will not find a slot, taking them in rank order."""
    accepted: list[Occupancy] = []
    refused: set[str] = set()
    for o in sorted(occupancies, key=lambda o: o.rank):
        if o.end is not None and o.end <= o.start:
            continue
        if _peak(accepted, o) + 1 > capacity:
            refused.add(o.key)
        else:
            accepted.append(o)
    return refused
