"""The simulated lock's code slots, kept in a JSON-serialisable dict.

`state["slots"]` maps a slot number (as a string, for JSON) to what is physically there;
`state["pending"]` holds writes the lock acknowledged that land at `lands_at` (None: never);
`state["reserved_slots"]` lists slots holding the brand's own codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

Entry = dict[str, Any]
_FIELDS = ("code", "name", "starts_at", "ends_at", "origin")


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def make_entry(
    code: str,
    name: str | None,
    origin: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Entry:
    """`origin` is managed, unmanaged, own (the brand's) or third_party; informative only."""
    return dict(zip(_FIELDS, (code, name, iso(starts_at), iso(ends_at), origin), strict=True))


class SlotTable:
    """Reads and changes the slot part of a lock's state dict in place."""

    def __init__(self, state: dict[str, Any]) -> None:
        self._slots: dict[str, Entry] = state.setdefault("slots", {})
        self._pending: dict[str, Entry] = state.setdefault("pending", {})
        self._reserved: list[int] = state.setdefault("reserved_slots", [])

    @property
    def reserved(self) -> frozenset[int]:
        return frozenset(self._reserved)

    def reserve(self, slot: int, entry: Entry) -> None:
        self.write(slot, entry)
        self._reserved.append(slot)

    def settle(self, now: datetime) -> None:
        """Land acknowledged writes whose time has come."""
        for key, pending in list(self._pending.items()):
            lands_at = when(pending["lands_at"])
            if lands_at is not None and lands_at <= now:
                self._slots[key] = {k: pending[k] for k in _FIELDS}
                del self._pending[key]

    def physical(self) -> list[tuple[int, Entry]]:
        """What is on the lock, by slot number."""
        return sorted((int(k), v) for k, v in self._slots.items())

    def get(self, slot: int) -> Entry | None:
        return self._slots.get(str(slot))

    def occupied(self) -> set[int]:
        """Slots holding a code or awaiting one (reserved included)."""
        return {int(k) for k in (*self._slots, *self._pending)}

    def codes(self, *, except_slot: int | None = None) -> dict[str, int]:
        """PIN -> slot for every code on the lock or on its way."""
        found: dict[str, int] = {}
        for table in (self._slots, self._pending):
            for key, entry in table.items():
                if int(key) != except_slot:
                    found.setdefault(entry["code"], int(key))
        return found

    def free_slot(self, capacity: int) -> int | None:
        """The lowest empty slot when the lock has room for one more code."""
        occupied = self.occupied()
        if len(occupied) >= capacity:
            return None
        taken = occupied | self.reserved
        return next((s for s in range(1, capacity + 1) if s not in taken), None)

    def write(self, slot: int, entry: Entry) -> None:
        self._slots[str(slot)] = entry
        self._pending.pop(str(slot), None)

    def schedule(self, slot: int, entry: Entry, lands_at: datetime | None) -> None:
        """Queue a write; the same write sent again while queued lands when the first would
        (a lock works through its queue in order, it does not start again)."""
        queued = self._pending.get(str(slot))
        if queued is not None and all(queued[k] == entry[k] for k in _FIELDS):
            return
        self._pending[str(slot)] = {**entry, "lands_at": iso(lands_at)}

    def remove(self, slot: int) -> None:
        self._slots.pop(str(slot), None)
        self._pending.pop(str(slot), None)
