"""What Z-Wave locks push, as pinwarden's `LockEvent`s.

Notification CC (113), type 6 "Access Control", carries what happens at a lock: keypad and
manual lock/unlock (with the user id of the code for keypad operations), codes added or deleted
at the keypad and refused duplicates (keymaster's `ZWAVE_ACTIVITY_MAP`). Node status events say
when zwave-js gives a lock up (`dead`) and hears from it again (`alive`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pinwarden.providers.base import LockEvent, LockEventKind

NOTIFICATION_CC = 113
ACCESS_CONTROL = 6

# Access Control event -> (what pinwarden makes of it, how it was done).
ACCESS_CONTROL_EVENTS: Mapping[int, tuple[LockEventKind, str | None]] = {
    1: (LockEventKind.LOCKED, "manual"),
    2: (LockEventKind.UNLOCKED, "manual"),
    3: (LockEventKind.LOCKED, "remote"),
    4: (LockEventKind.UNLOCKED, "remote"),
    5: (LockEventKind.LOCKED, "keypad"),
    6: (LockEventKind.UNLOCKED, "keypad"),
    9: (LockEventKind.LOCKED, "auto"),
    12: (LockEventKind.SLOT_CHANGED, "keypad"),  # all user codes deleted
    13: (LockEventKind.SLOT_CHANGED, "keypad"),  # single user code deleted
    14: (LockEventKind.SLOT_CHANGED, "keypad"),  # new user code added (or changed)
    15: (LockEventKind.DUPLICATE_REFUSED, None),  # new user code not added: duplicate
    16: (LockEventKind.ACCESS_DENIED, "keypad"),  # keypad temporarily disabled
}

NODE_STATUS_EVENTS: Mapping[str, LockEventKind] = {
    "dead": LockEventKind.OFFLINE,
    "alive": LockEventKind.ONLINE,
}


def user_id(args: Mapping[str, Any]) -> int | None:
    parameters = args.get("parameters")
    if isinstance(parameters, Mapping) and isinstance(parameters.get("userId"), int):
        return int(parameters["userId"])
    return None


def from_notification(node_id: int, data: Mapping[str, Any], at: datetime) -> LockEvent | None:
    """The LockEvent for a node `notification` event; None for what pinwarden does not use."""
    args = data.get("args") or {}
    if data.get("ccId") != NOTIFICATION_CC or args.get("type") != ACCESS_CONTROL:
        return None
    event = args.get("event")
    if not isinstance(event, int) or event not in ACCESS_CONTROL_EVENTS:
        return None
    kind, method = ACCESS_CONTROL_EVENTS[event]
    detail = {"zwave_event": event, "label": str(args.get("eventLabel", ""))}
    slot = user_id(args)
    # A keypad operation names the code that did it; 0 (or none) means no code.
    return LockEvent(kind, str(node_id), at, slot or None, method, detail)


def from_node_status(node_id: int, event: str, at: datetime) -> LockEvent | None:
    kind = NODE_STATUS_EVENTS.get(event)
    return None if kind is None else LockEvent(kind, str(node_id), at)
