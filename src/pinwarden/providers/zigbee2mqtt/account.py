"""One Zigbee2MQTT installation: the broker connection, what it publishes, and discovery.

The account subscribes to `<base>/#` and keeps what Zigbee2MQTT last said: the bridge state,
the devices, each lock's cached state and availability, and its recent refusals. Locks wait
on that (`wait_for`) instead of holding subscriptions of their own. The connection is kept by
a background task that reconnects with backoff (0.5 s doubling to 30 s); while it is down
every command raises AccountUnavailable and nothing is failed for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import aiomqtt

from pinwarden.catalog.brands import brand_profile
from pinwarden.catalog.zigbee_models import zigbee_lock_capabilities
from pinwarden.domain.model import Capabilities
from pinwarden.engine.clock import Clock
from pinwarden.providers.base import (
    AccountConfig,
    AccountUnavailable,
    DiscoveredLock,
    EventSink,
    LockEvent,
    LockEventKind,
)
from pinwarden.providers.zigbee2mqtt import payloads
from pinwarden.providers.zigbee2mqtt.config import broker_settings
from pinwarden.providers.zigbee2mqtt.feeds import Feeds
from pinwarden.providers.zigbee2mqtt.lock import Zigbee2MQTTLock

log = logging.getLogger(__name__)
T = TypeVar("T")

BRAND = "zigbee_lock"
# Small request/answer messages: without it Nagle's algorithm holds each one ~40 ms.
NO_DELAY = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)
_BACKOFF_FIRST, _BACKOFF_MAX = 0.5, 30.0


class Zigbee2MQTTAccount:
    def __init__(self, config: AccountConfig, clock: Clock) -> None:
        self.config = config
        self.broker = broker_settings(config)
        self.base = self.broker.base_topic
        self.clock = clock
        self.feeds = Feeds()
        self._sink: EventSink | None = None
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        self._session = 0  # counts connections: a wait begun in one fails when it ends

    # -- Account ----------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._client is not None and self.feeds.bridge_online is not False

    async def open(self, sink: EventSink | None) -> None:
        """Start connecting in the background; waits briefly for the first connection so that
        a discovery right after opening finds the retained topics."""
        self._sink = sink
        if self._task is None:
            self._task = asyncio.create_task(self._keep_connected())
        with contextlib.suppress(TimeoutError):
            await self.wait_for(lambda: self.feeds.devices is not None or None, 2.0, session=None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def discover(self) -> Sequence[DiscoveredLock]:
        devices = await self.wait_for(lambda: self.feeds.devices, self.broker.response_timeout)
        if devices is None:
            raise AccountUnavailable(
                f"no Zigbee2MQTT device list on {self.broker.where}: is Zigbee2MQTT running "
                "with this base topic?"
            )
        return [self._discovered(device) for device in devices.values()]

    def lock(self, lock_ref: str, capabilities: Capabilities) -> Zigbee2MQTTLock:
        return Zigbee2MQTTLock(self, lock_ref, capabilities)

    def _discovered(self, device: payloads.ZigbeeDevice) -> DiscoveredLock:
        return DiscoveredLock(
            lock_ref=device.ieee,
            name=device.name,
            brand=BRAND,
            capabilities=self.capabilities(device),
            online=self.feeds.feed(device.name).available is not False,
            manufacturer=device.vendor,
            model=device.model,
        )

    def capabilities(self, device: payloads.ZigbeeDevice) -> Capabilities:
        base = brand_profile(BRAND).capabilities
        readable = self.feeds.expose_pin.get(device.ieee, False)
        return zigbee_lock_capabilities(base, device.vendor, device.model, pins_readable=readable)

    # -- what locks use ----------------------------------------------------------------------

    def device(self, lock_ref: str) -> payloads.ZigbeeDevice | None:
        return (self.feeds.devices or {}).get(lock_ref)

    def session(self) -> int:
        """The current connection; raises AccountUnavailable when there is none."""
        if self._client is None:
            raise AccountUnavailable(f"no connection to the MQTT broker at {self.broker.where}")
        if self.feeds.bridge_online is False:
            raise AccountUnavailable(f"Zigbee2MQTT on {self.broker.where} is offline")
        return self._session

    async def send(self, name: str, verb: str, payload: dict[str, Any]) -> None:
        """Publish to `<base>/<name>/<verb>` (qos 1: the broker has it once this returns)."""
        client, session = self._client, self.session()
        try:
            assert client is not None
            await client.publish(f"{self.base}/{name}/{verb}", json.dumps(payload), qos=1)
        except aiomqtt.MqttError:
            raise self._lost(session) from None

    async def wait_for(
        self, check: Callable[[], T | None], timeout: float, *, session: int | None = -1
    ) -> T | None:
        """The first non-None `check()` within `timeout` seconds (None: none came). Raises
        AccountUnavailable if the connection of `session` (default: the current one) ends."""
        if session == -1:
            session = self.session()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._changed:
            while True:
                if session is not None and session != self._session:
                    raise self._lost(session)
                result = check()
                remaining = deadline - loop.time()
                if result is not None or remaining <= 0:
                    return result
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    def _lost(self, session: int) -> AccountUnavailable:
        return AccountUnavailable(
            f"the connection to the MQTT broker at {self.broker.where} was lost during a command"
        )

    def emit(self, kind: LockEventKind, lock_ref: str, **fields: Any) -> None:
        if self._sink is not None:
            self._sink(
                self.config.account_id, LockEvent(kind, lock_ref, at=self.clock.now(), **fields)
            )

    # -- the connection ----------------------------------------------------------------------

    async def _keep_connected(self) -> None:
        delay = _BACKOFF_FIRST
        while True:
            try:
                await self._connection()
            except aiomqtt.MqttError as exc:
                # The broker's own words (refused, unreachable); never a credential.
                log.warning(
                    "zigbee2mqtt account %s: broker %s: %s",
                    self.config.account_id,
                    self.broker.where,
                    exc,
                )
            except Exception:
                log.exception(
                    "zigbee2mqtt account %s: message handling failed", self.config.account_id
                )
            else:
                delay = _BACKOFF_FIRST
            await self._disconnected()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _BACKOFF_MAX)

    async def _connection(self) -> None:
        b = self.broker
        async with aiomqtt.Client(
            b.host,
            b.port,
            username=b.username,
            password=b.password,
            identifier=b.client_id or f"pinwarden-{uuid.uuid4().hex[:12]}",
            tls_context=b.tls_context(),
            timeout=b.response_timeout,
            keepalive=30,
            socket_options=NO_DELAY,
        ) as client:
            await client.subscribe(f"{self.base}/#", qos=1)
            async with self._changed:
                self._client = client
                self._session += 1
                self._changed.notify_all()
            log.info("zigbee2mqtt account %s connected to %s", self.config.account_id, b.where)
            async for message in client.messages:
                await self._on_message(str(message.topic), message.payload)

    async def _disconnected(self) -> None:
        async with self._changed:
            if self._client is not None:
                self._client = None
                self._session += 1
            self._changed.notify_all()

    async def _on_message(self, topic: str, raw: Any) -> None:
        if not topic.startswith(self.base + "/"):
            return
        try:
            payload = json.loads(raw) if raw else None
        except (ValueError, TypeError):
            payload = raw
        events = self.feeds.take(topic[len(self.base) + 1 :], payload)
        async with self._changed:
            self._changed.notify_all()
        for kind, lock_ref, fields in events:
            self.emit(kind, lock_ref, **fields)


def open_account(config: AccountConfig, clock: Clock) -> Zigbee2MQTTAccount:
    return Zigbee2MQTTAccount(config, clock)


__all__ = ["BRAND", "Zigbee2MQTTAccount", "open_account"]
