"""One real Z-Wave JS stack for the whole session (mock-server + zwave-server on loopback,
emulators/zwave), and an opened `zwave_js` account per test.

A mock lock takes about 3.5 s to interview, so the stack is started once and every test resets
the lock it uses. Without the npm packages the tests skip on a workstation and fail in CI
(CI=true), saying what to run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from emulators.zwave.stack import StackError, ZwaveStack

from pinwarden.domain.model import Capabilities
from pinwarden.engine.clock import VirtualClock
from pinwarden.providers.base import AccountConfig
from pinwarden.providers.zwavejs import ZwaveJsAccount
from pinwarden.providers.zwavejs.connection import Backoff
from tests.providers.contract import NOW, WAIT, EventRecorder, eventually

# Nodes 2 and 3 are User Code v1 locks, node 4 a v2 lock under Supervision (locks.cjs).
LOCKS = 3
# Enough for every test's slots; a full read asks the lock once per slot.
SLOTS = 12


def stack_unavailable(reason: str) -> None:
    """Fail in CI, skip elsewhere: the stack is part of what CI must run."""
    message = f"the Z-Wave JS stack could not start: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def zwave_stack() -> Iterator[ZwaveStack]:
    stack = ZwaveStack(locks=LOCKS, slots=SLOTS)
    try:
        stack.start()
    except StackError as exc:
        stack_unavailable(str(exc))
    yield stack
    stack.stop()


class ZwaveKeypad:
    """A person at mock lock `node` (the stack's control channel), for the contract tests."""

    def __init__(self, stack: ZwaveStack, node: int) -> None:
        self.stack, self.node = stack, node

    async def enter(self, code: str) -> None:
        await asyncio.to_thread(self.stack.keypad_enter, self.node, code)

    async def program(self, slot: int, code: str) -> None:
        await asyncio.to_thread(self.stack.keypad_program, self.node, slot, code)

    async def delete(self, slot: int) -> None:
        await asyncio.to_thread(self.stack.keypad_delete, self.node, slot)

    async def slots(self) -> dict[int, str]:
        return await asyncio.to_thread(self.stack.slots, self.node)


@dataclass
class Opened:
    account: ZwaveJsAccount
    events: EventRecorder

    async def capabilities(self, node: int) -> Capabilities:
        found = {lock.lock_ref: lock for lock in await self.account.discover()}
        return found[str(node)].capabilities


@pytest_asyncio.fixture
async def opened(zwave_stack: ZwaveStack) -> AsyncIterator[Opened]:
    """A `zwave_js` account connected to the stack, its events recorded."""
    config = AccountConfig("acct_zwave", "zwave_js", {"url": zwave_stack.url})
    account = ZwaveJsAccount(config, VirtualClock(NOW), backoff=Backoff(first=0.2, most=2.0))
    events = EventRecorder()

    async def connected() -> bool:
        return account.connected

    await account.open(events)
    try:
        await eventually(connected, bool, timeout=WAIT * 2)
        yield Opened(account, events)
    finally:
        await account.close()
