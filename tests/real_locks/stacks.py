"""The real-lock stacks the end-to-end tests run pinwarden against, behind one small shape.

A stack is an installation pinwarden connects to as a connected account, with a way to act at
its locks as a person would (the keypad, the radio) and to see what is physically on a lock.

- `Zigbee2MQTTStack`: the real Mosquitto broker and the project's Zigbee2MQTT emulator
  (`pinwarden.emulators.zigbee2mqtt`), running on an event loop of its own in a thread.
- `ZWaveJSStack`: the real Z-Wave JS stack from npm (emulators/zwave).
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Coroutine
from typing import Any, Protocol

from pinwarden.emulators.zigbee2mqtt import Zigbee2MQTTEmulator

BROKER = f"mqtt://127.0.0.1:{int(os.environ.get('PINWARDEN_TEST_MQTT_PORT', '1883'))}"


class Stack(Protocol):
    kind: str
    locks: tuple[str, ...]  # the locks' names, as discovery reports them

    def account(self) -> dict[str, Any]:
        """The body of `/connected_accounts/create` for this installation."""
        ...

    def keypad_enter(self, lock: str, pin: str) -> None: ...

    def keypad_program(self, lock: str, slot: int, pin: str) -> None: ...

    def keypad_delete(self, lock: str, slot: int) -> None: ...

    def go_offline(self, lock: str) -> None: ...

    def go_online(self, lock: str) -> None: ...

    def restart(self) -> None:
        """The installation's own server restarts (locks keep their codes)."""
        ...

    def codes_on(self, lock: str) -> dict[int, str]:
        """Slot -> PIN physically on the lock."""
        ...

    def name_of(self, discovered: str) -> str:
        """The test's name for a lock, from the name the installation reports."""
        ...

    def close(self) -> None: ...


class _Loop:
    """An event loop in a thread, to drive an asyncio emulator from synchronous tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Zigbee2MQTTStack:
    kind = "zigbee2mqtt"
    locks = ("front_door", "back_door")

    def __init__(self, broker: str = BROKER) -> None:
        self.broker = broker
        self.base = f"pinwarden-e2e/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self._loop = _Loop()
        self.emulator = self._new()
        self._loop.run(self.emulator.start())

    def _new(self) -> Zigbee2MQTTEmulator:
        emulator = Zigbee2MQTTEmulator(self.broker, self.base, clear_on_stop=True)
        # Two Kwikset 99100-045 keypad locks (30 users; PINs readable, as with expose_pin).
        for name in self.locks:
            emulator.add("99100-045", name, no_answer_delay=0.2)
        return emulator

    def account(self) -> dict[str, Any]:
        return {
            "account_type": self.kind,
            "url": self.broker,
            "base_topic": self.base,
            "response_timeout": 3.0,
        }

    def keypad_enter(self, lock: str, pin: str) -> None:
        self._loop.run(self.emulator.keypad_enter(lock, pin))

    def keypad_program(self, lock: str, slot: int, pin: str) -> None:
        self._loop.run(self.emulator.keypad_program(lock, slot, pin))

    def keypad_delete(self, lock: str, slot: int) -> None:
        self._loop.run(self.emulator.keypad_delete(lock, slot))

    def go_offline(self, lock: str) -> None:
        self._loop.run(self.emulator.go_offline(lock))

    def go_online(self, lock: str) -> None:
        self._loop.run(self.emulator.go_online(lock))

    def restart(self) -> None:
        """Zigbee2MQTT restarts: its MQTT side goes away and comes back; the locks (their
        radio and their codes) stay as they are."""
        codes = {name: self.emulator.lock(name) for name in self.locks}
        self.emulator.clear_on_stop = False  # Zigbee2MQTT leaves its retained topics
        self._loop.run(self.emulator.stop())
        self.emulator = Zigbee2MQTTEmulator(self.broker, self.base, clear_on_stop=True)
        self.emulator.locks.update(codes)
        self._loop.run(self.emulator.start())

    def codes_on(self, lock: str) -> dict[int, str]:
        return {int(slot): pin for slot, pin in self.emulator.lock(lock).physical_codes().items()}

    def name_of(self, discovered: str) -> str:
        return discovered

    def close(self) -> None:
        try:
            self._loop.run(self.emulator.stop())
        finally:
            self._loop.close()


class ZWaveJSStack:
    """The real Z-Wave JS stack (emulators/zwave: zwave-js's mock-server and zwave-server) with
    two v1 keypad locks, shared by the tests of a session (interviewing a lock takes seconds):
    each test starts from empty, unlocked, answering locks."""

    kind = "zwave_js"
    locks = ("front_door", "back_door")
    _shared: Any = None

    def __init__(self) -> None:
        from emulators.zwave.stack import StackError, ZwaveStack

        if ZWaveJSStack._shared is None:
            stack = ZwaveStack(locks=2, slots=12)
            try:
                stack.start()
            except StackError as exc:
                if os.environ.get("CI") == "true":
                    raise
                import pytest

                pytest.skip(f"the Z-Wave JS stack could not start: {exc}")
            ZWaveJSStack._shared = stack
        self.stack = ZWaveJSStack._shared
        self.nodes = {"front_door": 2, "back_door": 3}
        for node in self.nodes.values():
            self.stack.reset(node)
        self._names = {f"Mock lock {n - 1}": name for name, n in self.nodes.items()}

    def name_of(self, discovered: str) -> str:
        return self._names.get(discovered, discovered)

    def account(self) -> dict[str, Any]:
        return {"account_type": self.kind, "url": self.stack.url}

    def keypad_enter(self, lock: str, pin: str) -> None:
        self.stack.keypad_enter(self.nodes[lock], pin)

    def keypad_program(self, lock: str, slot: int, pin: str) -> None:
        self.stack.keypad_program(self.nodes[lock], slot, pin)

    def keypad_delete(self, lock: str, slot: int) -> None:
        self.stack.keypad_delete(self.nodes[lock], slot)

    def go_offline(self, lock: str) -> None:
        self.stack.configure(self.nodes[lock], dead=True)

    def go_online(self, lock: str) -> None:
        self.stack.configure(self.nodes[lock], dead=False)

    def restart(self) -> None:
        self.stack.restart_server()

    def codes_on(self, lock: str) -> dict[int, str]:
        return self.stack.slots(self.nodes[lock])

    def close(self) -> None:
        """The stack stays up for the next test (stopped at exit)."""


def stop_shared_stacks() -> None:
    if ZWaveJSStack._shared is not None:
        ZWaveJSStack._shared.stop()
        ZWaveJSStack._shared = None
