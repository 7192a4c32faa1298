"""How Z-Wave JS events become `LockEvent`s (no stack needed: these are plain translations)."""

from __future__ import annotations

import pytest

from pinwarden.providers.base import LockEventKind
from pinwarden.providers.zwavejs import events
from tests.providers.contract import NOW


def notification(event: int, user_id: int | None = None, cc: int = 113, kind: int = 6) -> dict:
    parameters = {} if user_id is None else {"userId": user_id}
    return {"ccId": cc, "args": {"type": kind, "event": event, "parameters": parameters}}


@pytest.mark.parametrize(
    ("event", "user_id", "kind", "slot", "method"),
    [
        (6, 3, LockEventKind.UNLOCKED, 3, "keypad"),
        (5, 0, LockEventKind.LOCKED, None, "keypad"),  # user id 0: no code
        (2, None, LockEventKind.UNLOCKED, None, "manual"),
        (14, 7, LockEventKind.SLOT_CHANGED, 7, "keypad"),
        (13, 7, LockEventKind.SLOT_CHANGED, 7, "keypad"),
        (12, None, LockEventKind.SLOT_CHANGED, None, "keypad"),  # all codes deleted
        (15, 4, LockEventKind.DUPLICATE_REFUSED, 4, None),
    ],
)
def test_access_control_notifications_become_lock_events(
    event: int, user_id: int | None, kind: LockEventKind, slot: int | None, method: str | None
) -> None:
    translated = events.from_notification(9, notification(event, user_id), NOW)
    assert translated is not None
    assert (translated.kind, translated.lock_ref, translated.slot) == (kind, "9", slot)
    assert translated.method == method
    assert translated.detail["zwave_event"] == event


@pytest.mark.parametrize(
    "data", [notification(99), notification(6, 1, kind=7), notification(6, 1, cc=38)]
)
def test_other_notifications_are_ignored(data: dict) -> None:
    assert events.from_notification(9, data, NOW) is None


def test_node_status_becomes_online_and_offline() -> None:
    assert events.from_node_status(9, "dead", NOW).kind is LockEventKind.OFFLINE  # type: ignore[union-attr]
    assert events.from_node_status(9, "alive", NOW).kind is LockEventKind.ONLINE  # type: ignore[union-attr]
    assert events.from_node_status(9, "sleep", NOW) is None
