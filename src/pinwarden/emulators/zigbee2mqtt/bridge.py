"""The emulator on the broker: Zigbee2MQTT's MQTT side for a few emulated locks.

`Zigbee2MQTTEmulator` connects to a real broker the way Zigbee2MQTT does (a retained
`bridge/state` with an `offline` last will; retained `bridge/info`, `bridge/devices` and
availability; every lock's cached state once at start), answers `<base>/<lock>/set` and `/get`,
and reconnects with the retained topics republished when the broker comes back.

Acting at the lock (the keypad, the radio) is the *control interface*, two ways to reach the
same methods:

- in-process: `await emulator.keypad_program("front_door", 5, "1234")`, `keypad_delete`,
  `keypad_enter`, `go_offline`, `go_online`, `drop_sets`, `set_expose_pin`, `add_lock`,
  `remove_lock`, `rename_lock`; `emulator.lock(name).physical_codes()` shows what is on a lock.
- over MQTT, on a topic of the emulator's own beside the base topic, `<base>_emulator/control`:
  `{"do": "keypad_program", "lock": "front_door", "user": 5, "pin_code": "1234"}` (any method
  above, its arguments by name). Unknown commands are reported on `<base>_emulator/error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt

from pinwarden.emulators.zigbee2mqtt.lock import EmulatedLock, Publish, stringify
from pinwarden.emulators.zigbee2mqtt.models import MODELS
from pinwarden.emulators.zigbee2mqtt.topology import devices_payload, info_payload
from pinwarden.providers.zigbee2mqtt.account import NO_DELAY
from pinwarden.providers.zigbee2mqtt.config import parse_url

log = logging.getLogger(__name__)

CONTROL_COMMANDS = (
    "keypad_program",
    "keypad_delete",
    "keypad_enter",
    "go_offline",
    "go_online",
    "drop_sets",
    "set_expose_pin",
    "add_lock",
    "remove_lock",
    "rename_lock",
)


class Zigbee2MQTTEmulator:
    def __init__(
        self, url: str, base_topic: str = "zigbee2mqtt", *, clear_on_stop: bool = False
    ) -> None:
        self.host, self.port, _ = parse_url(url)
        self.url = url
        self.base = base_topic.strip("/")
        self.control_topic = f"{self.base}_emulator/control"
        self.clear_on_stop = clear_on_stop  # tests: leave no retained topics behind
        self.locks: dict[str, EmulatedLock] = {}
        self.connected = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._turn = asyncio.Lock()  # one command at a time, as herdsman queues a device's
        self._retained: set[str] = set()
        self._pattern = re.compile(
            rf"^{re.escape(self.base)}/(?!bridge/)(.+?)/(get|set)(?:/(.+))?$"
        )
        self._next_address = 0x1A2B

    # -- lifecycle ---------------------------------------------------------------------------

    def add(self, model: str, name: str, **options: Any) -> EmulatedLock:
        """A lock present from the start (before `start`)."""
        number = len(self.locks) + 1
        self._next_address += 0x111
        lock = EmulatedLock(
            MODELS[model], name, f"0x000d6f00{number:08x}", self._next_address, **options
        )
        self.locks[name] = lock
        return lock

    async def start(self, timeout: float = 10.0) -> None:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.connected.wait(), timeout)

    async def stop(self) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            if self._client is not None and self.connected.is_set():
                await self._publish(
                    Publish("bridge/state", {"state": "offline"}, retain=True, qos=1)
                )
                if self.clear_on_stop:
                    for topic in list(self._retained):
                        await self._client.publish(topic, b"", retain=True, qos=1)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = 0.2
        while True:
            try:
                await self._session()
            except aiomqtt.MqttError as exc:
                log.info("emulator lost the broker (%s); reconnecting in %.1f s", exc, delay)
            self.connected.clear()
            self._client = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _session(self) -> None:
        will = aiomqtt.Will(
            f"{self.base}/bridge/state", stringify({"state": "offline"}), qos=1, retain=True
        )
        async with aiomqtt.Client(
            self.host, self.port, will=will, timeout=5, socket_options=NO_DELAY
        ) as client:
            self._client = client
            await client.subscribe(f"{self.base}/+/set")
            await client.subscribe(f"{self.base}/+/get")
            await client.subscribe(f"{self.base}/+/set/+")
            await client.subscribe(f"{self.base}/+/get/+")
            await client.subscribe(self.control_topic)
            await self._announce()
            self.connected.set()
            # Messages are handled one at a time, apart from the receiving loop, so that a
            # command waiting on a lock that does not answer never hides a lost broker.
            inbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
            worker = asyncio.create_task(self._work(inbox))
            try:
                async for message in client.messages:
                    inbox.put_nowait((str(message.topic), bytes(message.payload or b"")))
            finally:
                worker.cancel()

    async def _work(self, inbox: asyncio.Queue[tuple[str, bytes]]) -> None:
        while True:
            topic, raw = await inbox.get()
            with contextlib.suppress(aiomqtt.MqttError):
                await self._on_message(topic, raw)

    async def _announce(self) -> None:
        """What Zigbee2MQTT publishes on (re)connecting."""
        await self._publish(Publish("bridge/state", {"state": "online"}, retain=True, qos=1))
        await self._publish_bridge()
        for lock in self.locks.values():
            await self._publish(lock.availability())
            await self._publish(lock.state_publish())

    async def _publish_bridge(self) -> None:
        locks = list(self.locks.values())
        await self._publish(
            Publish("bridge/info", info_payload(self.base, self.url, locks), retain=True)
        )
        await self._publish(Publish("bridge/devices", devices_payload(locks), retain=True))

    async def _publish(self, item: Publish) -> None:
        if item.delay:
            await asyncio.sleep(item.delay)
        if self._client is None:
            raise aiomqtt.MqttError("not connected")
        topic = f"{self.base}/{item.topic}"
        payload = item.payload if isinstance(item.payload, str) else stringify(item.payload)
        await self._client.publish(topic, payload, qos=item.qos, retain=item.retain)
        if item.retain:
            self._retained.add(topic)

    # -- Zigbee2MQTT's message handling (extension/publish.ts) ---------------------------------

    async def _on_message(self, topic: str, raw: bytes) -> None:
        if topic == self.control_topic:
            await self._on_control(raw)
            return
        match = self._pattern.match(topic)
        if match is None:
            return
        name, kind, attribute = match.groups()
        async with self._turn:
            lock = self.locks.get(name)
            if lock is None:
                await self._error(f"Entity '{name}' is unknown")
                return
            message = _parse(raw, attribute)
            if message is None:
                await self._error("Invalid message 'undefined', skipping...")
                return
            handle = lock.on_set if kind == "set" else lock.on_get
            for item in handle(message):
                await self._publish(item)

    async def _error(self, message: str) -> None:
        await self._publish(
            Publish("bridge/logging", {"level": "error", "message": message, "namespace": "z2m"})
        )

    # -- the control interface -----------------------------------------------------------------

    def lock(self, name: str) -> EmulatedLock:
        return self.locks[name]

    async def _act(self, publishes: Callable[[], list[Publish]]) -> None:
        async with self._turn:
            for item in publishes():
                await self._publish(item)

    async def keypad_program(self, lock: str, user: int, pin_code: str) -> None:
        await self._act(lambda: self.locks[lock].keypad_program(user, pin_code))

    async def keypad_delete(self, lock: str, user: int) -> None:
        await self._act(lambda: self.locks[lock].keypad_delete(user))

    async def keypad_enter(self, lock: str, pin_code: str) -> None:
        await self._act(lambda: self.locks[lock].keypad_enter(pin_code))

    async def go_offline(self, lock: str, announce: bool = True) -> None:
        """The lock stops answering; with `announce`, Zigbee2MQTT's availability says so (a
        sleepy lock that merely misses commands is `announce=False`)."""

        def change() -> list[Publish]:
            target = self.locks[lock]
            target.answers = False
            target.available = target.available and not announce
            return [target.availability()] if announce else []

        await self._act(change)

    async def go_online(self, lock: str) -> None:
        def change() -> list[Publish]:
            target = self.locks[lock]
            target.answers = target.available = True
            return [target.availability()]

        await self._act(change)

    async def drop_sets(self, lock: str, count: int = 1) -> None:
        """The next `count` sets or clears reach the lock and are not applied."""
        self.locks[lock].drop_sets = count

    async def set_expose_pin(self, lock: str, expose_pin: bool) -> None:
        self.locks[lock].expose_pin = expose_pin
        async with self._turn:
            await self._publish_bridge()

    async def add_lock(self, lock: str, model: str = "99100-045") -> None:
        """A lock joins the network (bridge/devices changes)."""
        added = self.add(model, lock)
        async with self._turn:
            await self._publish_bridge()
            await self._publish(added.availability())
            await self._publish(added.state_publish())

    async def remove_lock(self, lock: str) -> None:
        removed = self.locks.pop(lock)
        async with self._turn:
            await self._publish_bridge()
            await self._publish(Publish(f"{removed.name}/availability", "", retain=True, qos=1))

    async def rename_lock(self, lock: str, new_name: str) -> None:
        target = self.locks.pop(lock)
        target.name = new_name
        self.locks[new_name] = target
        async with self._turn:
            await self._publish_bridge()
            await self._publish(target.availability())

    async def _on_control(self, raw: bytes) -> None:
        try:
            command = json.loads(raw)
            name = command.pop("do")
            if name not in CONTROL_COMMANDS:
                raise ValueError(f"unknown command {name!r}; known: {', '.join(CONTROL_COMMANDS)}")
            method: Callable[..., Awaitable[None]] = getattr(self, name)
            await method(**command)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            if self._client is not None:
                error = stringify({"error": f"{type(exc).__name__}: {exc}"})
                await self._client.publish(f"{self.base}_emulator/error", error)


def _parse(raw: bytes, attribute: str | None) -> dict[str, Any] | None:
    """publish.ts parseMessage."""
    text = raw.decode("utf-8", errors="replace")
    if attribute:
        try:
            return {attribute: json.loads(text)}
        except ValueError:
            return {attribute: text}
    try:
        parsed = json.loads(text)
    except ValueError:
        states = ("on", "off", "toggle", "open", "close", "stop", "lock", "unlock")
        return {"state": text} if text.lower() in states else None
    return parsed if isinstance(parsed, dict) else None
