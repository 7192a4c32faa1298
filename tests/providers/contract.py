"""The contract every real-lock adapter keeps (Z-Wave JS, Zigbee2MQTT, ...), as a mixin.

An adapter's test module subclasses `LockContract` and provides one fixture, `contract_target`:
an async context manager (not yet entered) that yields a `ContractTarget`, i.e. an opened
`Account` whose events go to `target.events`, one of its `Lock`s on an emulated lock with every
slot empty, and a `Keypad` that acts at that lock as a person would (a code typed, added or
deleted at the lock itself, without pinwarden). Each test enters it on its own event loop
(tests/providers/conftest.py runs `async def` tests). Everything runs against the adapter's real
stack; nothing here mocks a protocol.

    class TestZigbeeContract(LockContract):
        @pytest.fixture
        def contract_target(self, ...) -> AbstractAsyncContextManager[ContractTarget]:
            return opened_zigbee_lock(...)  # an @asynccontextmanager
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from pinwarden.domain.model import Observation, ObservedSlot
from pinwarden.providers.base import (
    Account,
    ClearSlot,
    Lock,
    LockEvent,
    LockEventKind,
    Outcome,
    SetSlot,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# Generous: a loaded 2-core machine, a radio round trip per command, a lock that reports late.
WAIT = 30.0
T = TypeVar("T")


class Keypad(Protocol):
    """Someone at the lock itself."""

    async def enter(self, code: str) -> None:
        """Types `code`; the lock opens if a slot holds it."""
        ...

    async def program(self, slot: int, code: str) -> None:
        """Adds `code` in `slot` (or changes what the slot held) at the lock."""
        ...

    async def delete(self, slot: int) -> None:
        """Deletes the code in `slot` at the lock."""
        ...

    async def slots(self) -> dict[int, str]:
        """What is physically on the lock now ({slot: PIN}), whatever pinwarden believes."""
        ...


@dataclass
class EventRecorder:
    """An `EventSink` that keeps what arrives, for tests to wait on."""

    events: list[LockEvent] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, account_id: str, event: LockEvent) -> None:
        self.events.append(event)
        self._arrived.set()

    async def wait_for(
        self,
        kind: LockEventKind,
        lock_ref: str,
        slot: int | None = None,
        after: int = 0,
        timeout: float = WAIT,
    ) -> LockEvent:
        """The first event of `kind` for the lock (and slot, if given) among those that arrived
        after the first `after` events; waits up to `timeout` for it."""

        def found() -> LockEvent | None:
            for event in self.events[after:]:
                same_slot = slot is None or event.slot == slot
                if event.kind == kind and event.lock_ref == lock_ref and same_slot:
                    return event
            return None

        async with asyncio.timeout(timeout):
            while (event := found()) is None:
                self._arrived.clear()
                await self._arrived.wait()
        return event


@dataclass
class ContractTarget:
    account: Account
    lock: Lock
    keypad: Keypad
    events: EventRecorder


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], timeout: float = WAIT
) -> T:
    """`probe()` again and again until `check` accepts what it returns; fails after `timeout`."""
    last: T | None = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        last = await probe()
        if check(last):
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"still {last!r} after {timeout:g} s")


def codes(observation: Observation) -> dict[int, str | None]:
    return {s.slot: s.code for s in observation.slots}


Target = AbstractAsyncContextManager[ContractTarget]


class LockContract:
    """Behaviour every adapter's `Lock` has on its real stack."""

    async def test_discover_lists_the_lock(self, contract_target: Target) -> None:
        async with contract_target as target:
            found = await target.account.discover()
            assert target.lock.ref in {lock.lock_ref for lock in found}
            assert target.account.connected

    async def test_a_set_lands_on_the_lock_and_reads_back(self, contract_target: Target) -> None:
        async with contract_target as target:
            lock, keypad = target.lock, target.keypad
            result = await lock.write(NOW, SetSlot(3, "4821", "Guest", expect=None))
            assert result.outcome in (Outcome.CONFIRMED, Outcome.ACCEPTED_UNCONFIRMED), result
            await eventually(lambda: lock.read(NOW), lambda seen: codes(seen).get(3) == "4821")
            assert (await keypad.slots()).get(3) == "4821"

    async def test_pins_keep_their_leading_zeros(self, contract_target: Target) -> None:
        async with contract_target as target:
            lock = target.lock
            await lock.write(NOW, SetSlot(2, "0042", None, expect=None))
            await eventually(lambda: lock.read(NOW), lambda seen: codes(seen).get(2) == "0042")
            assert (await target.keypad.slots()).get(2) == "0042"

    async def test_a_clear_empties_the_slot(self, contract_target: Target) -> None:
        async with contract_target as target:
            lock = target.lock
            await target.keypad.program(4, "5150")
            result = await lock.write(NOW, ClearSlot(4, expect=ObservedSlot(4, "5150")))
            assert result.outcome in (Outcome.CONFIRMED, Outcome.ACCEPTED_UNCONFIRMED), result
            await eventually(lambda: lock.read(NOW), lambda seen: 4 not in codes(seen))
            assert 4 not in await target.keypad.slots()

    async def test_clearing_an_empty_slot_is_confirmed(self, contract_target: Target) -> None:
        async with contract_target as target:
            result = await target.lock.write(NOW, ClearSlot(5, expect=None))
            assert result.outcome is Outcome.CONFIRMED, result

    async def test_a_set_into_a_slot_filled_at_the_keypad_is_stale(
        self, contract_target: Target
    ) -> None:
        async with contract_target as target:
            lock, keypad = target.lock, target.keypad
            planned = await lock.read(NOW)  # the plan sees slot 6 empty
            assert 6 not in codes(planned)
            await keypad.program(6, "7777")  # ... and someone fills it before the write
            result = await lock.write(NOW, SetSlot(6, "1357", "Guest", expect=None))
            assert result.outcome is Outcome.STALE, result
            assert result.found is not None and result.found.code in ("7777", None)
            assert (await keypad.slots()).get(6) == "7777"  # nothing was written

    async def test_a_clear_of_a_slot_changed_at_the_keypad_is_stale(
        self, contract_target: Target
    ) -> None:
        async with contract_target as target:
            lock, keypad = target.lock, target.keypad
            await lock.write(NOW, SetSlot(7, "2468", "Guest", expect=None))
            await eventually(lambda: lock.read(NOW), lambda seen: codes(seen).get(7) == "2468")
            await keypad.program(7, "8642")  # changed at the lock after the plan saw 2468
            result = await lock.write(NOW, ClearSlot(7, expect=ObservedSlot(7, "2468")))
            assert result.outcome is Outcome.STALE, result
            assert result.found is not None and result.found.code == "8642"
            assert (await keypad.slots()).get(7) == "8642"

    async def test_a_keypad_unlock_names_the_slot(self, contract_target: Target) -> None:
        async with contract_target as target:
            lock, events = target.lock, target.events
            await lock.write(NOW, SetSlot(8, "9182", "Guest", expect=None))
            await eventually(lambda: lock.read(NOW), lambda seen: codes(seen).get(8) == "9182")
            before = len(events.events)
            await target.keypad.enter("9182")
            unlocked = await events.wait_for(LockEventKind.UNLOCKED, lock.ref, after=before)
            assert unlocked.slot == 8

    async def test_codes_added_and_deleted_at_the_keypad_are_reported(
        self, contract_target: Target
    ) -> None:
        async with contract_target as target:
            lock, events, keypad = target.lock, target.events, target.keypad
            before = len(events.events)
            await keypad.program(9, "6060")
            await events.wait_for(LockEventKind.SLOT_CHANGED, lock.ref, slot=9, after=before)
            before = len(events.events)
            await keypad.delete(9)
            await events.wait_for(LockEventKind.SLOT_CHANGED, lock.ref, slot=9, after=before)

    async def test_no_result_message_holds_the_pin(self, contract_target: Target) -> None:
        async with contract_target as target:
            lock = target.lock
            results = [
                await lock.write(NOW, SetSlot(10, "31415", None, expect=None)),
                await lock.write(NOW, SetSlot(11, "31415", None, expect=None)),  # a duplicate
                await lock.write(NOW, SetSlot(12, "31x15", None, expect=None)),  # not a PIN
                await lock.write(NOW, SetSlot(10, "27182", None, expect=ObservedSlot(10, "11111"))),
            ]
            for result in results:
                assert "31415" not in result.message and "31x15" not in result.message
                assert "27182" not in result.message
