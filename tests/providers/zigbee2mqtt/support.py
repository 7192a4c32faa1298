"""The Zigbee2MQTT tests' world: the real Mosquitto, the emulator, the real adapter.

Mosquitto is required (like PostgreSQL): when 127.0.0.1:1883 does not answer the tests fail,
never skip. Every test gets a base topic of its own, so parallel runs never see each other's
messages, and the emulator clears its retained topics when it stops.

The tests are plain functions that run one scenario on a fresh event loop
(`run(rig, scenario)`): the project has no asyncio plugin for pytest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiomqtt
import pytest

from pinwarden.emulators.zigbee2mqtt import Zigbee2MQTTEmulator
from pinwarden.engine.clock import SystemClock
from pinwarden.providers.base import AccountConfig, LockEvent, LockEventKind
from pinwarden.providers.registry import AccountContext, open_account
from pinwarden.providers.zigbee2mqtt import Zigbee2MQTTAccount, Zigbee2MQTTLock

BROKER_HOST, BROKER_PORT = "127.0.0.1", int(os.environ.get("PINWARDEN_TEST_MQTT_PORT", "1883"))
BROKER = f"mqtt://{BROKER_HOST}:{BROKER_PORT}"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def broker_answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2):
        return True
    return False


@pytest.fixture(scope="session")
def broker() -> str:
    if not broker_answers(BROKER_HOST, BROKER_PORT):
        pytest.fail(
            f"Mosquitto is required for the Zigbee2MQTT tests and does not answer at {BROKER} "
            "(start it: `mosquitto -d`, or `.ci/run` does; PINWARDEN_TEST_MQTT_PORT points elsewhere)"
        )
    return BROKER


@pytest.fixture
def base_topic(broker: str) -> str:
    return f"pinwarden-test/{os.getpid()}/{uuid.uuid4().hex[:10]}"


async def until(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Wait for `check()` to be truthy; fails the test with `what` after `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := check()):
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)
    return result


@dataclass
class Rig:
    """The emulator, an account on it, and what the account pushed."""

    emulator: Zigbee2MQTTEmulator
    account: Zigbee2MQTTAccount
    events: list[LockEvent] = field(default_factory=list)

    async def lock(self, name: str) -> Zigbee2MQTTLock:
        found = {d.name: d for d in await self.account.discover()}[name]
        return self.account.lock(found.lock_ref, found.capabilities)

    def ref(self, name: str) -> str:
        return self.emulator.lock(name).ieee

    async def event(self, kind: LockEventKind, name: str, **fields: Any) -> LockEvent:
        def seen() -> LockEvent | None:
            return next(
                (
                    e
                    for e in self.events
                    if e.kind is kind
                    and e.lock_ref == self.ref(name)
                    and all(getattr(e, k) == v for k, v in fields.items())
                ),
                None,
            )

        return await until(seen, what=f"a {kind} event from {name} with {fields}")


def account_config(url: str, base_topic: str, **settings: Any) -> AccountConfig:
    return AccountConfig(
        "acct_zigbee",
        "zigbee2mqtt",
        {"url": url, "base_topic": base_topic, "response_timeout": 3.0, **settings},
    )


@contextlib.asynccontextmanager
async def rig(
    base_topic: str,
    locks: dict[str, str] | None = None,
    *,
    url: str = BROKER,
    lock_options: dict[str, dict[str, Any]] | None = None,
    **settings: Any,
) -> AsyncIterator[Rig]:
    """An emulator with `locks` (name → model) and an open account on it."""
    emulator = Zigbee2MQTTEmulator(url, base_topic, clear_on_stop=True)
    for name, model in (locks or {"front_door": "99100-045"}).items():
        options = {"no_answer_delay": 0.2, **(lock_options or {}).get(name, {})}
        emulator.add(model, name, **options)
    await emulator.start()
    account = open_account(
        account_config(url, base_topic, **settings), AccountContext(SystemClock())
    )
    assert isinstance(account, Zigbee2MQTTAccount)
    world = Rig(emulator, account)
    await account.open(lambda _account, event: world.events.append(event))
    try:
        yield world
    finally:
        await account.close()
        await emulator.stop()


def run(scenario: Coroutine[Any, Any, None]) -> None:
    """Run one scenario on an event loop of its own, in a thread of its own: another test in
    the same worker (Playwright's sync API) may have left a loop running in this one."""

    async def bounded() -> None:
        await asyncio.wait_for(scenario, 60)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, bounded()).result()


@dataclass
class Spy:
    """Everything published under a base topic, as (topic, decoded payload)."""

    messages: list[tuple[str, Any]] = field(default_factory=list)

    def on(self, topic: str) -> list[Any]:
        return [payload for t, payload in self.messages if t == topic]


@contextlib.asynccontextmanager
async def spy(base_topic: str, url_port: int = BROKER_PORT) -> AsyncIterator[Spy]:
    seen = Spy()
    async with aiomqtt.Client(BROKER_HOST, url_port) as client:
        await client.subscribe(f"{base_topic}/#")
        await client.subscribe(f"{base_topic}_emulator/#")

        async def collect() -> None:
            async for message in client.messages:
                raw = bytes(message.payload or b"")
                try:
                    payload: Any = json.loads(raw) if raw else ""
                except ValueError:
                    payload = raw.decode()
                seen.messages.append((str(message.topic), payload))

        task = asyncio.create_task(collect())
        try:
            yield seen
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
def fixtures_dir() -> Iterator[str]:
    yield os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "zigbee2mqtt")


@dataclass
class EmulatorKeypad:
    """Someone at an emulated lock, in the shape of the generic adapter contract's `Keypad`
    (tests/providers/contract.py on the Z-Wave branch), so a `LockContract` subclass can use
    this lock: `ContractTarget(account, lock, EmulatorKeypad(emulator, "front_door"), events)`."""

    emulator: Zigbee2MQTTEmulator
    name: str

    async def enter(self, code: str) -> None:
        await self.emulator.keypad_enter(self.name, code)

    async def program(self, slot: int, code: str) -> None:
        await self.emulator.keypad_program(self.name, slot, code)

    async def delete(self, slot: int) -> None:
        await self.emulator.keypad_delete(self.name, slot)

    async def slots(self) -> dict[int, str]:
        return self.emulator.lock(self.name).physical_codes()
