"""One real Z-Wave JS stack for the whole session (mock-server + zwave-server on loopback,
emulators/zwave), and a `zwave_js` account opened by each test (`opened_account`, `one_lock`).

A mock lock takes about 3.5 s to interview, so the stack is started once and every test resets
the lock it uses. Without the npm packages the tests skip on a workstation and fail in CI
(CI=true), saying what to run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from emulators.zwave.stack import StackError, ZwaveStack

from pinwarden.domain.model import Capabilities
from pinwarden.engine.clock import VirtualClock
from pinwarden.providers.base import AccountConfig
from pinwarden.providers.zwavejs.account import ZwaveJsAccount
from pinwarden.providers.zwavejs.connection import Backoff
from pinwarden.providers.zwavejs.lock import ZwaveJsLock
from tests.providers.contract import NOW, WAIT, ContractTarget, EventRecorder, eventually

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


@asynccontextmanager
async def opened_account(stack: ZwaveStack) -> AsyncIterator[Opened]:
    """A `zwave_js` account connected to the stack, its events recorded."""
    config = AccountConfig("acct_zwave", "zwave_js", {"url": stack.url})
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


@dataclass
class OneLock:
    """One emptied mock lock, through an opened account."""

    stack: ZwaveStack
    opened: Opened
    node: int
    lock: ZwaveJsLock

    @property
    def ref(self) -> str:
        return str(self.node)

    @property
    def events(self) -> EventRecorder:
        return self.opened.events

    async def control(self, action: str, *args: object, **settings: object) -> object:
        """One of the stack's control calls for this lock, off the event loop."""
        call = getattr(self.stack, action)
        return await asyncio.to_thread(call, self.node, *args, **settings)

    async def on_lock(self) -> dict[int, str]:
        return await asyncio.to_thread(self.stack.slots, self.node)


@asynccontextmanager
async def one_lock(stack: ZwaveStack, kind: str, index: int = 0) -> AsyncIterator[OneLock]:
    """The `index`th lock of `kind` ("v1", "v2"), emptied, through a freshly opened account;
    reset again afterwards (a test may leave it dead or slow)."""
    node = stack.nodes_of_kind(kind)[index]
    await asyncio.to_thread(stack.reset, node)
    try:
        async with opened_account(stack) as opened:
            lock = opened.account.lock(str(node), await opened.capabilities(node))
            yield OneLock(stack, opened, node, lock)
    finally:
        await asyncio.to_thread(stack.reset, node)


@asynccontextmanager
async def zwave_contract_target(stack: ZwaveStack, kind: str) -> AsyncIterator[ContractTarget]:
    async with one_lock(stack, kind) as one:
        keypad = ZwaveKeypad(stack, one.node)
        yield ContractTarget(one.opened.account, one.lock, keypad, one.events)
