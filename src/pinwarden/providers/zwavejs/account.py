"""A connected Z-Wave JS installation: Home Assistant's Z-Wave JS add-on, Z-Wave JS UI, or a
plain `zwave-server`, reached over its websocket (`settings["url"]`, e.g. ws://127.0.0.1:3000).

Its locks are the nodes with User Code CC. The account keeps one connection open (reconnecting
with backoff), turns what the locks push into `LockEvent`s for the sink, and notes duplicate
refusals and User Code reports for the reads and writes that depend on them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from zwave_js_server.const import CommandClass, NodeStatus
from zwave_js_server.model.driver import Driver
from zwave_js_server.model.node import Node

from pinwarden.catalog.brands import brand_profile
from pinwarden.domain.model import Capabilities
from pinwarden.engine.clock import Clock
from pinwarden.providers.base import (
    AccountConfig,
    DiscoveredLock,
    EventSink,
    LockEvent,
    LockEventKind,
)
from pinwarden.providers.zwavejs import events
from pinwarden.providers.zwavejs.commands import Gone, NoAnswer, NodeCommands, Refused
from pinwarden.providers.zwavejs.connection import Backoff, Connection
from pinwarden.providers.zwavejs.lock import ZwaveJsLock
from pinwarden.providers.zwavejs.reports import USER_CODE_VALUES, LockReports

log = logging.getLogger(__name__)

BRAND = "zwave_lock"
_NODE_EVENTS = (
    "notification",
    "dead",
    "alive",
    "interview completed",
    "value added",
    "value updated",
)
# What may change a lock's slots without a User Code Report pinwarden saw: it is read in full
# again (reports.py).
_DOUBTFUL = (
    LockEventKind.SLOT_CHANGED,
    LockEventKind.ONLINE,
    LockEventKind.OFFLINE,
    LockEventKind.LOCK_ADDED,
)


def validated_url(settings: Any) -> str:
    """The server's websocket URL from an account's settings; ValueError says what is wrong."""
    url = settings.get("url") if hasattr(settings, "get") else None
    if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
        raise ValueError("a zwave_js account needs settings.url, e.g. ws://127.0.0.1:3000")
    return url


def is_lock(node: Node) -> bool:
    return any(cc.id == CommandClass.USER_CODE for cc in node.command_classes)


def known_slot_count(node: Node) -> int:
    """How many slots the interview found (User Code CC `getUsersCount`): zwave-js defines one
    `userIdStatus` value per slot. 0 before the interview got that far."""
    return sum(
        1
        for value in node.values.values()
        if value.command_class == CommandClass.USER_CODE and value.property_ == "userIdStatus"
    )


class ZwaveJsAccount:
    """Implements `Account` for one Z-Wave JS server."""

    def __init__(
        self,
        config: AccountConfig,
        clock: Clock,
        backoff: Backoff = Backoff(),
        command_timeout: float = 30.0,
    ) -> None:
        self.account_id = config.account_id
        self._clock = clock
        self._sink: EventSink | None = None
        self._reports = LockReports()
        self._connection = Connection(
            validated_url(config.settings), self._on_ready, backoff, command_timeout
        )

    @property
    def connected(self) -> bool:
        return self._connection.connected

    async def open(self, sink: EventSink | None) -> None:
        self._sink = sink
        await self._connection.open()

    async def close(self) -> None:
        await self._connection.close()

    async def discover(self) -> Sequence[DiscoveredLock]:
        nodes = self._connection.driver.controller.nodes.values()
        return [await self._discovered(node) for node in list(nodes) if is_lock(node)]

    def lock(self, lock_ref: str, capabilities: Capabilities) -> ZwaveJsLock:
        return ZwaveJsLock(self._connection, self._reports, int(lock_ref), capabilities)

    async def _discovered(self, node: Node) -> DiscoveredLock:
        profile = brand_profile(BRAND)
        slots = known_slot_count(node) or await self._ask_slot_count(node)
        config = node.device_config
        return DiscoveredLock(
            lock_ref=str(node.node_id),
            name=node.name or f"Z-Wave lock {node.node_id}",
            brand=BRAND,
            capabilities=replace(
                profile.capabilities, slot_count=slots or profile.capabilities.slot_count
            ),
            online=node.status not in (NodeStatus.DEAD, NodeStatus.ASLEEP),
            manufacturer=config.manufacturer or None,
            model=config.label or node.label or None,
        )

    async def _ask_slot_count(self, node: Node) -> int | None:
        """User Code CC `getUsersCount`, for a lock whose interview did not get that far."""
        if node.status in (NodeStatus.DEAD, NodeStatus.ASLEEP):
            return None
        try:
            return await NodeCommands(self._connection, self._reports, node.node_id).users_count()
        except (NoAnswer, Gone, Refused):
            return None

    # -- what the locks push -------------------------------------------------------------------

    def _on_ready(self, driver: Driver, reconnected: bool) -> None:
        controller = driver.controller
        self._reports.forget()  # reports may have been missed while pinwarden was away
        controller.on("node added", lambda data: self._node_joined(data["node"]))
        controller.on("node removed", lambda data: self._node_left(data["node"]))
        for node in controller.nodes.values():
            self._listen_to(node)
            if reconnected and is_lock(node):
                # Whatever happened while pinwarden was away: the engine looks at every lock.
                kind = "dead" if node.status == NodeStatus.DEAD else "alive"
                self._deliver(events.from_node_status(node.node_id, kind, self._clock.now()))

    def _listen_to(self, node: Node) -> None:
        for name in _NODE_EVENTS:
            node.on(name, self._node_event_handler(node.node_id, name))

    def _node_event_handler(self, node_id: int, name: str) -> Callable[[dict[str, Any]], None]:
        def handle(data: dict[str, Any]) -> None:
            now = self._clock.now()
            if name.startswith("value "):
                self._note_report(node_id, data.get("args") or {})
                return
            if name == "notification":
                event = events.from_notification(node_id, data, now)
                if (
                    event is not None
                    and event.kind == LockEventKind.DUPLICATE_REFUSED
                    and event.slot
                ):
                    self._reports.note_refusal(node_id, event.slot)
            elif name == "interview completed":
                event = LockEvent(LockEventKind.LOCK_ADDED, str(node_id), now)
            else:
                event = events.from_node_status(node_id, name, now)
            if event is not None and event.kind in _DOUBTFUL:
                self._reports.forget(node_id)  # before the engine hears of it and reads
            self._deliver(event)

        return handle

    def _note_report(self, node_id: int, args: dict[str, Any]) -> None:
        slot, prop = args.get("propertyKey"), args.get("property")
        is_user_code = args.get("commandClass") == CommandClass.USER_CODE
        if is_user_code and prop in USER_CODE_VALUES and isinstance(slot, int):
            self._reports.note_value(node_id, slot, str(prop), args.get("newValue"))

    def _node_joined(self, node: Node) -> None:
        self._reports.forget(node.node_id)
        self._listen_to(node)
        self._deliver(LockEvent(LockEventKind.LOCK_ADDED, str(node.node_id), self._clock.now()))

    def _node_left(self, node: Node) -> None:
        self._reports.forget(node.node_id)
        self._deliver(LockEvent(LockEventKind.LOCK_REMOVED, str(node.node_id), self._clock.now()))

    def _deliver(self, event: LockEvent | None) -> None:
        if event is None or self._sink is None:
            return
        try:
            self._sink(self.account_id, event)
        except Exception:  # a sink's failure must not end the connection that feeds it
            log.exception(
                "event sink failed on a %s event from node %s", event.kind, event.lock_ref
            )
