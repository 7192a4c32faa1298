"""What the locks reported, as the account hears it: User Code values per slot and duplicate
refusals, each with the order it arrived in.

Two Z-Wave facts make this necessary:

- zwave-js takes any User Code Report from a node as the answer to a pending User Code Get, and
  its CC API drops the report's user id: a report about another slot arriving mid-read (a code
  changed at the keypad) comes back as the slot being read. zwave-js still files every report
  under the user id the report names, and says so in `value updated` events; so a read takes
  its answer from the events for its own slot that arrive after it asked.
- a lock refuses a PIN another slot holds by sending Access Control event 15 after it has
  acknowledged the write, so a write notes where the refusals stand before it sends and looks
  again after.

The same reports let a lock be read without asking it slot by slot every time (`trusted`): a
User Code Get is a radio round trip (0.1-0.5 s on a mesh, and all locks share the controller,
one transmission at a time), so reading a 30-slot lock fresh for every plan made one new code
cost 33 transactions instead of 3. After a full fresh read, every User Code Report the lock
sends keeps its slots current, and pinwarden's own writes read their slot fresh before and
after. What is known of a lock is forgotten when it may have changed unseen: a code added,
changed or deleted at the keypad, the lock going dead or coming back, the connection to the
server lost (reports may have been missed meanwhile), and at the latest `REREAD_AFTER` after the
full read, for locks that change without telling.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")

USER_CODE_VALUES = ("userIdStatus", "userCode")
# A lock read in full is read in full again no later than this, whatever it reported meanwhile:
# long enough for a burst of bookings to cost one full read, short enough that a lock changed
# without telling is seen soon (and a policy `read_back_interval` shorter than this reads
# the lock's reports in between).
REREAD_AFTER = timedelta(minutes=10)


class LockReports:
    def __init__(self) -> None:
        self._arrivals = 0
        self._values: dict[tuple[int, int, str], tuple[int, Any]] = {}
        self._refusals: Counter[tuple[int, int]] = Counter()
        self._news = asyncio.Event()
        # node -> (the mark before its last full fresh read, when that read was)
        self._read_in_full: dict[int, tuple[int, datetime]] = {}
        self._doubts = 0  # how many times something was forgotten

    def mark(self) -> int:
        """Where the reports stand now; pass it to the waits below as `since`."""
        return self._arrivals

    def note_value(self, node_id: int, slot: int, prop: str, value: Any) -> None:
        self._arrive()
        self._values[(node_id, slot, prop)] = (self._arrivals, value)

    def note_refusal(self, node_id: int, slot: int) -> None:
        self._arrive()
        self._refusals[(node_id, slot)] += 1

    def doubts(self) -> int:
        """How many times something was forgotten; pass it to `read_in_full`."""
        return self._doubts

    def read_in_full(self, node_id: int, since: int, doubts: int, at: datetime) -> None:
        """Every slot of the node was read fresh, the first asked after mark `since`, and
        `doubts` was `doubts()` before the read began: a doubt raised during the read (a keypad
        change the read may have missed) leaves the node untrusted."""
        if doubts == self._doubts:
            self._read_in_full[node_id] = (since, at)

    def forget(self, node_id: int | None = None) -> None:
        """The node (every node if None) may have changed unseen: read it in full next time."""
        self._doubts += 1
        if node_id is None:
            self._read_in_full.clear()
        else:
            self._read_in_full.pop(node_id, None)

    def trusted(self, node_id: int, slot: int, at: datetime) -> dict[str, Any] | None:
        """The slot's User Code values as the lock last reported them, if the node was read in
        full at most `REREAD_AFTER` before `at` and nothing since suggests a change unseen;
        None when the slot must be asked."""
        full = self._read_in_full.get(node_id)
        if full is None or not full[1] <= at < full[1] + REREAD_AFTER:
            return None
        found = {p: self._values.get((node_id, slot, p)) for p in USER_CODE_VALUES}
        if all(v is not None and v[0] > full[0] for v in found.values()):
            return {p: v[1] for p, v in found.items() if v is not None}
        return None

    def refusals(self, node_id: int, slot: int) -> int:
        return self._refusals[(node_id, slot)]

    async def slot_report(
        self, node_id: int, slot: int, since: int, timeout: float
    ) -> dict[str, Any] | None:
        """The slot's User Code values (`userIdStatus`, `userCode`) reported after `since`;
        None if they do not all arrive within `timeout`."""

        def fresh() -> dict[str, Any] | None:
            found = {p: self._values.get((node_id, slot, p)) for p in USER_CODE_VALUES}
            if all(v is not None and v[0] > since for v in found.values()):
                return {p: v[1] for p, v in found.items() if v is not None}
            return None

        return await self._until(fresh, timeout)

    async def wait_for_refusal(self, node_id: int, slot: int, since: int, timeout: float) -> bool:
        """Whether the slot's refusal count goes (or has gone) beyond `since` within `timeout`."""
        refused = await self._until(
            lambda: True if self.refusals(node_id, slot) > since else None, timeout
        )
        return refused is not None

    def _arrive(self) -> None:
        self._arrivals += 1
        self._news.set()
        self._news = asyncio.Event()

    async def _until(self, found: Callable[[], T | None], timeout: float) -> T | None:
        """`found()`'s first answer that is not None, waiting for news up to `timeout`."""
        try:
            async with asyncio.timeout(timeout):
                while (result := found()) is None:
                    await self._news.wait()
        except TimeoutError:
            return None
        return result
