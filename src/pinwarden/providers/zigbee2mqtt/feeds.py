"""What Zigbee2MQTT last said, topic by topic, and the lock events it amounts to.

`Feeds.take(topic, payload)` records one message (topic relative to the base topic) and
returns the events it means. Zigbee2MQTT republishes a lock's whole cached state on every
change, so a state message is compared with the one before it: only a `users` entry that
really changed is news (lock_code_manager #1335), and not one this process is reading itself.
The echo of pinwarden's own `/set` and `/get` (it subscribes to `<base>/#`) is ignored.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from pinwarden.catalog.zigbee_models import pin_code_count
from pinwarden.providers.base import LockEventKind
from pinwarden.providers.zigbee2mqtt import payloads

Event = tuple[LockEventKind, str, dict[str, Any]]


@dataclass
class Feed:
    """One device's topics."""

    state: dict[str, Any] | None = None
    seq: int = 0  # state messages so far
    available: bool | None = None  # None: Zigbee2MQTT's availability is off, or not heard yet
    reading: set[int] = field(default_factory=set)  # users this process has asked for


@dataclass
class Feeds:
    bridge_online: bool | None = None
    devices: dict[str, payloads.ZigbeeDevice] | None = None  # PIN locks by IEEE address
    expose_pin: dict[str, bool] = field(default_factory=dict)
    refusals: deque[tuple[int, payloads.Refusal]] = field(default_factory=lambda: deque(maxlen=64))
    refusal_seq: int = 0
    _feeds: dict[str, Feed] = field(default_factory=dict)

    def feed(self, name: str) -> Feed:
        return self._feeds.setdefault(name, Feed())

    def refusal_since(self, seq: int, device: str) -> payloads.Refusal | None:
        return next((r for n, r in self.refusals if n > seq and r.device == device), None)

    def ieee_of(self, name: str) -> str | None:
        return next((d.ieee for d in (self.devices or {}).values() if d.name == name), None)

    def take(self, topic: str, payload: Any) -> list[Event]:
        if topic == "bridge/state":
            state = payload.get("state") if isinstance(payload, dict) else payload
            self.bridge_online = state != "offline" if state else None
        elif topic == "bridge/devices":
            return self._devices(payloads.pin_locks(payload))
        elif topic == "bridge/info":
            self.expose_pin = payloads.exposed_pins(payload)
        elif topic == "bridge/logging":
            self._refusal(payloads.refusal_of(payload))
        elif topic.startswith("bridge/"):
            pass
        elif topic.endswith("/availability"):
            return self._availability(topic.removesuffix("/availability"), payload)
        elif not _is_command(topic) and isinstance(payload, dict):
            return self._state(topic, payload)
        return []

    def _refusal(self, refusal: payloads.Refusal | None) -> None:
        if refusal is not None:
            self.refusal_seq += 1
            self.refusals.append((self.refusal_seq, refusal))

    def _devices(self, now: dict[str, payloads.ZigbeeDevice]) -> list[Event]:
        before, self.devices = self.devices, now
        if before is None:
            return []
        events: list[Event] = []
        for ieee, device in now.items():
            old = before.get(ieee)
            if old is None:
                events.append((LockEventKind.LOCK_ADDED, ieee, {"detail": {"name": device.name}}))
            elif old.name != device.name:
                detail = {"name": device.name, "renamed_from": old.name}
                events.append((LockEventKind.LOCK_ADDED, ieee, {"detail": detail}))
        gone = [ieee for ieee in before if ieee not in now]
        events += [(LockEventKind.LOCK_REMOVED, ieee, {}) for ieee in gone]
        return events

    def _availability(self, name: str, payload: Any) -> list[Event]:
        state = payload.get("state") if isinstance(payload, dict) else payload
        feed = self.feed(name)
        before = feed.available
        feed.available = None if not state else state == "online"
        ieee = self.ieee_of(name)
        if ieee is None or feed.available is None or feed.available == before:
            return []
        if before is None and feed.available:
            return []  # the first word, and it is good news: nothing to look at
        kind = LockEventKind.ONLINE if feed.available else LockEventKind.OFFLINE
        return [(kind, ieee, {})]

    def _state(self, name: str, state: dict[str, Any]) -> list[Event]:
        feed = self.feed(name)
        before = payloads.users_of(feed.state or {})
        feed.state, feed.seq = state, feed.seq + 1
        ieee = self.ieee_of(name)
        if ieee is None:
            return []
        events: list[Event] = [
            (LockEventKind.SLOT_CHANGED, ieee, {"slot": user, "detail": {"seen_in": "state"}})
            for user, entry in payloads.users_of(state).items()
            if user in before and before[user] != entry and user not in feed.reading
        ]
        device = (self.devices or {})[ieee]
        action = payloads.action_of(state, pin_code_count(device.vendor, device.model) - 1)
        if action is not None:
            fields = {"slot": action.slot, "method": action.method}
            events.append((action.kind, ieee, fields))
        return events


def _is_command(topic: str) -> bool:
    """`<name>/set`, `<name>/get`, `<name>/set/<attribute>`: what clients send Zigbee2MQTT."""
    parts = topic.split("/")
    return "set" in parts[-2:] or "get" in parts[-2:]
