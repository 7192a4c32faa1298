"""What Zigbee2MQTT's messages mean, and what to send it. Pure functions, no I/O.

Shapes: tests/fixtures/zigbee2mqtt/ (each with its source in SOURCES.md). Zigbee2MQTT's own
text (`bridge/logging`) can hold a PIN: it is classified here and never passed on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pinwarden.domain.model import ObservedSlot
from pinwarden.providers.base import LockEventKind

EMPTY_STATUSES = ("available",)  # constants.lockUserStatus[0]; `not_supported_<n>` too


@dataclass(frozen=True, slots=True)
class ZigbeeDevice:
    """One device in `bridge/devices` that takes PIN codes."""

    ieee: str
    name: str  # friendly_name: its topics are <base>/<name>
    vendor: str | None
    model: str | None


def pin_locks(devices: Any) -> dict[str, ZigbeeDevice]:
    """The devices of a `bridge/devices` payload whose exposes include `pin_code`, by IEEE."""
    found: dict[str, ZigbeeDevice] = {}
    for device in devices if isinstance(devices, list) else []:
        definition = device.get("definition") if isinstance(device, dict) else None
        if not isinstance(definition, dict) or device.get("disabled"):
            continue
        if any(e.get("name") == "pin_code" for e in _exposes(definition.get("exposes"))):
            ieee = str(device.get("ieee_address"))
            found[ieee] = ZigbeeDevice(
                ieee,
                str(device.get("friendly_name")),
                definition.get("vendor"),
                definition.get("model"),
            )
    return found


def _exposes(items: Any) -> Iterator[dict[str, Any]]:
    """Every expose and feature, depth first (a lock's `state` is a feature of `lock`)."""
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            yield item
            yield from _exposes(item.get("features"))


def exposed_pins(info: Any) -> dict[str, bool]:
    """`expose_pin` per device IEEE from `bridge/info`'s configuration (Zigbee2MQTT's default
    is false: PINs masked)."""
    config = info.get("config") if isinstance(info, dict) else None
    devices = config.get("devices") if isinstance(config, dict) else None
    if not isinstance(devices, dict):
        return {}
    return {
        ieee: bool(opts.get("expose_pin"))
        for ieee, opts in devices.items()
        if isinstance(opts, dict)
    }


def users_of(state: Mapping[str, Any]) -> dict[int, Any]:
    """The `users` map of a state payload, by user id."""
    users = state.get("users")
    if not isinstance(users, dict):
        return {}
    return {int(k): v for k, v in users.items() if str(k).isdigit()}


def observed_slot(slot: int, entry: Any, *, pins_trusted: bool) -> ObservedSlot | None:
    """One `users` entry as a slot (None: empty).

    Zigbee2MQTT deep-merges its cache, so an emptied slot keeps its old `pin_code` beside
    `status: available`: the status decides. A PIN is believed only while `expose_pin` is on,
    since one left in the cache from before it was switched off may be stale."""
    if not isinstance(entry, dict):
        return None
    status = str(entry.get("status", "available"))
    if status in EMPTY_STATUSES or status.startswith("not_supported"):
        return None
    pin = entry.get("pin_code")
    code = str(pin) if pins_trusted and pin not in (None, "") else None
    return ObservedSlot(slot=slot, code=code)


# -- commands --------------------------------------------------------------------------------


def set_pin(slot: int, pin: str) -> dict[str, Any]:
    # The PIN as a string keeps leading zeros (the converter calls toString on it).
    return {
        "pin_code": {
            "user": slot,
            "user_type": "unrestricted",
            "user_enabled": True,
            "pin_code": pin,
        }
    }


def clear_pin(slot: int) -> dict[str, Any]:
    # `pin_code: null` is clearPinCode; `user_enabled: false` as lock_code_manager sends it,
    # since some locks want both.
    return {"pin_code": {"user": slot, "user_enabled": False, "pin_code": None}}


def get_pin(slot: int) -> dict[str, Any]:
    return {"pin_code": {"user": slot}}


def set_door(locked: bool) -> dict[str, Any]:
    return {"state": "LOCK" if locked else "UNLOCK"}


# -- what the locks push --------------------------------------------------------------------

_PROGRAMMING = ("pin_code_added", "pin_code_deleted", "pin_code_changed")
# fz.lock_operation_event names, and the vendor converters' `keypad_unlock` style.
_OPERATIONS: Mapping[str, tuple[LockEventKind, str | None]] = {
    "unlock": (LockEventKind.UNLOCKED, None),
    "keypad_unlock": (LockEventKind.UNLOCKED, "keypad"),
    "key_unlock": (LockEventKind.UNLOCKED, "manual"),
    "manual_unlock": (LockEventKind.UNLOCKED, "manual"),
    "schedule_unlock": (LockEventKind.UNLOCKED, "auto"),
    "zigbee_unlock": (LockEventKind.UNLOCKED, "remote"),
    "lock": (LockEventKind.LOCKED, None),
    "keypad_lock": (LockEventKind.LOCKED, "keypad"),
    "one_touch_lock": (LockEventKind.LOCKED, "manual"),
    "key_lock": (LockEventKind.LOCKED, "manual"),
    "manual_lock": (LockEventKind.LOCKED, "manual"),
    "auto_lock": (LockEventKind.LOCKED, "auto"),
    "schedule_lock": (LockEventKind.LOCKED, "auto"),
    "lock_failure_invalid_pin_or_id": (LockEventKind.ACCESS_DENIED, "keypad"),
    "lock_failure_invalid_schedule": (LockEventKind.ACCESS_DENIED, "keypad"),
    "unlock_failure_invalid_pin_or_id": (LockEventKind.ACCESS_DENIED, "keypad"),
    "unlock_failure_invalid_schedule": (LockEventKind.ACCESS_DENIED, "keypad"),
}
# constants.lockSourceName → LockEvent.method
_METHODS = {
    "keypad": "keypad",
    "rf": "remote",
    "manual": "manual",
    "rfid": "rfid",
    "fingerprint": "fingerprint",
}


@dataclass(frozen=True, slots=True)
class Action:
    kind: LockEventKind
    slot: int | None
    method: str | None


def action_of(state: Mapping[str, Any], slot_count: int) -> Action | None:
    """The event an `action` in a state payload reports, if it is one pinwarden follows.
    `action_user` is a slot only when it is one of the lock's slots (1 .. slot_count)."""
    action = state.get("action")
    user = state.get("action_user")
    slot = user if isinstance(user, int) and 1 <= user <= slot_count else None
    source = _METHODS.get(str(state.get("action_source_name")))
    if action in _PROGRAMMING:
        return Action(LockEventKind.SLOT_CHANGED, slot, source)
    known = _OPERATIONS.get(str(action))
    if known is None:
        return None
    kind, method = known
    method = method or source
    by_code = kind is LockEventKind.UNLOCKED and method == "keypad"
    return Action(kind, slot if by_code or kind is LockEventKind.LOCKED else None, method)


# -- Zigbee2MQTT's refusals ---------------------------------------------------------------------

_FAILED = re.compile(r"^Publish '(set|get)' '([^']+)' to '(.+)' failed: '(.*)'$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Zigbee2MQTT could not carry out a command to one device. `reason` is pinwarden's
    word for it, never Zigbee2MQTT's text (which may hold the PIN)."""

    device: str
    key: str
    reason: str  # out_of_range | bad_value | no_answer


def refusal_of(logging_payload: Any) -> Refusal | None:
    """A `bridge/logging` error about a failed set or get, classified."""
    if not isinstance(logging_payload, dict) or logging_payload.get("level") != "error":
        return None
    match = _FAILED.match(str(logging_payload.get("message", "")))
    if match is None:
        return None
    _, key, device, error = match.groups()
    if "must be in range" in error:
        reason = "out_of_range"
    elif "ZCL command" in error or "Timeout" in error or "Delivery failed" in error:
        reason = "no_answer"
    else:
        reason = "bad_value"
    return Refusal(device, key, reason)
