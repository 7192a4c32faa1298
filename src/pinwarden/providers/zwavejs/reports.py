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
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

USER_CODE_VALUES = ("userIdStatus", "userCode")


class LockReports:
    def __init__(self) -> None:
        self._arrivals = 0
        self._values: dict[tuple[int, int, str], tuple[int, Any]] = {}
        self._refusals: Counter[tuple[int, int]] = Counter()
        self._news = asyncio.Event()

    def mark(self) -> int:
        """Where the reports stand now; pass it to the waits below as `since`."""
        return self._arrivals

    def note_value(self, node_id: int, slot: int, prop: str, value: Any) -> None:
        self._arrive()
        self._values[(node_id, slot, prop)] = (self._arrivals, value)

    def note_refusal(self, node_id: int, slot: int) -> None:
        self._arrive()
        self._refusals[(node_id, slot)] += 1

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
