"""One emulated keypad lock, and what Zigbee2MQTT publishes about it.

Pure: every method returns the `Publish`es Zigbee2MQTT would make, and the bridge module puts
them on the broker. Each behaviour follows a named piece of zigbee-herdsman-converters or
Zigbee2MQTT (tests/fixtures/zigbee2mqtt/SOURCES.md lists them):

- `/set` and `/get` of `pin_code`: `tz.pincode_lock` (validation first: a refusal is only a
  `bridge/logging` error, nothing reaches the lock); the answer to `getPinCode` is
  `fz.lock_pin_code_response`: `{"users": {"3": {"status": "enabled", "pin_code": "1234"}}}`,
  `pin_code` only with the device option `expose_pin`.
- `user_status`: `tz.lock_userstatus` / `fz.lock_user_status_response` (models that have them).
- `state`: `tz.lock`; the lock then reports `lockState` (`fz.lock`).
- keypad programming: `fz.lock_programming_event`; keypad entry: `fz.lock_operation_event`.
- the state topic carries Zigbee2MQTT's whole cached state, deep-merged (lib/state.ts with
  object-assign-deep), `action*` keys left out of the cache: so a cleared slot reads
  `{"status": "available", "pin_code": "<the old PIN>"}` when `expose_pin` is on.
- a set, clear or duplicate PIN gets no answer Zigbee2MQTT publishes: the ZCL responses have no
  converter on these models. A lock that does not answer makes the command fail after
  herdsman's timeout, and Zigbee2MQTT logs it (with the payload, PIN included).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from pinwarden.emulators.zigbee2mqtt.models import LockModel

USER_STATUS = {0: "available", 1: "enabled", 3: "disabled"}  # constants.lockUserStatus
USER_TYPES = {
    "unrestricted": 0,
    "year_day_schedule": 1,
    "week_day_schedule": 2,
    "master": 3,
    "non_access": 4,
}
KEYPAD = 0  # constants.lockSourceName: 0 keypad, 1 rf, 2 manual, 3 rfid, 4 fingerprint
UNKNOWN_USER = 0xFFFF  # the user id a lock reports for a PIN it does not know
# herdsman's options for a DoorLock command, as its ZCL error message prints them.
_ZCL_OPTIONS = (
    '{"timeout":10000,"disableResponse":false,"disableRecovery":false,'
    '"disableDefaultResponse":true,"direction":0,"reservedBits":0,"writeUndiv":false}'
)
_MISSING = object()


def stringify(payload: Any) -> str:
    """Zigbee2MQTT's json-stable-stringify: sorted keys, no spaces."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Publish:
    """One message Zigbee2MQTT publishes; `topic` is relative to the base topic."""

    topic: str
    payload: Any  # a dict (sent as JSON) or a str
    retain: bool = False
    qos: int = 0
    delay: float = 0.0  # a ZCL command timing out first


class ConverterError(Exception):
    """A converter refused the command: Zigbee2MQTT logs it and sends nothing."""


class NoAnswer(Exception):
    """The lock did not answer a ZCL command (asleep, out of range, off)."""


@dataclass(slots=True)
class PinUser:
    status: int  # ZCL userstatus: 1 enabled, 3 disabled
    user_type: int
    pin: str


def _js_number(value: Any) -> float:
    """JavaScript's Number(value), which `isInRange` and `isNaN` apply to what they get."""
    if value is _MISSING:
        return math.nan
    if value is None or isinstance(value, bool):
        return float(bool(value))
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return math.nan
    return math.nan


def _js_string(value: Any) -> str:
    """value.toString() for what JSON can carry."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _deep_merge(into: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """object-assign-deep: nested objects are merged key by key, anything else replaced."""
    out = dict(into)
    for key, value in update.items():
        old = out.get(key)
        both_objects = isinstance(old, dict) and isinstance(value, dict)
        out[key] = _deep_merge(old, value) if both_objects else value  # type: ignore[arg-type]
    return out


def _cached(key: str) -> bool:
    """lib/state.ts CACHE_IGNORE_PROPERTIES: `action` and `action_*` are never cached."""
    return key != "action" and not key.startswith("action_")


@dataclass
class EmulatedLock:
    """A keypad lock as Zigbee2MQTT sees it: its users (slots), its cached state, its options."""

    model: LockModel
    name: str  # friendly_name
    ieee: str
    network_address: int
    expose_pin: bool = True
    # "z2m": Zigbee2MQTT before 2.1.2 refuses a non-numeric PIN (`isNaN(pinCode)`); "lock":
    # later ones (`Number.isNaN`) pass it on and the lock refuses it without a word.
    pin_check: str = "z2m"
    no_answer_delay: float = 0.5  # how long a command to a lock that does not answer takes
    users: dict[int, PinUser] = field(default_factory=dict)
    locked: bool = True
    answers: bool = True  # reachable over Zigbee
    available: bool = True  # what the availability topic says
    drop_sets: int = 0  # sets and clears the lock receives but does not apply (sleepy lock)
    linkquality: int = 132
    cache: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cache = {
            "battery": 87,
            "lock_state": "locked",
            "state": "LOCK",
            **dict(self.model.extra_state),
        }

    # -- Zigbee2MQTT's side ------------------------------------------------------------------

    def on_set(self, message: dict[str, Any]) -> list[Publish]:
        return self._each(message, "set")

    def on_get(self, message: dict[str, Any]) -> list[Publish]:
        return self._each(message, "get")

    def state_publish(self, update: dict[str, Any] | None = None) -> Publish:
        """The state topic after `update`: the whole cached state (publishEntityState)."""
        merged = _deep_merge(self.cache, update or {})
        self.cache = {k: v for k, v in merged.items() if _cached(k)}
        return Publish(self.name, {**merged, "linkquality": self.linkquality})

    def availability(self) -> Publish:
        state = "online" if self.available else "offline"
        return Publish(f"{self.name}/availability", {"state": state}, retain=True, qos=1)

    def _each(self, message: dict[str, Any], kind: str) -> list[Publish]:
        out: list[Publish] = []
        for key, value in message.items():
            handler = self._converters(kind).get(key)
            if handler is None:
                text = f"No converter available for '{key}' on '{self.name}': ({stringify(value)})"
                out.append(_log(text))
                continue
            try:
                out += handler(value)
            except ConverterError as exc:
                out.append(
                    _log(f"Publish '{kind}' '{key}' to '{self.name}' failed: 'Error: {exc}'")
                )
            except NoAnswer as exc:
                text = f"Publish '{kind}' '{key}' to '{self.name}' failed: 'Error: {exc}'"
                out.append(_log(text, delay=self.no_answer_delay))
        return out

    def _converters(self, kind: str) -> dict[str, Any]:
        table: dict[str, Any] = {
            "pin_code": self._set_pin_code if kind == "set" else self._get_pin_code,
            "state": self._set_state if kind == "set" else self._get_state,
        }
        if self.model.user_status:
            table["user_status"] = self._set_user_status if kind == "set" else self._get_user_status
        return table

    def _user(self, value: Any) -> int:
        """tz.pincode_lock's check: the user must be in [0, pinCodeCount-1]."""
        user = value.get("user", _MISSING)
        number = _js_number(user)
        if not 0 <= number <= self.model.pin_code_count - 1:
            raise ConverterError("user must be in range for device")
        return int(number)

    def _set_pin_code(self, value: Any) -> list[Publish]:
        if not isinstance(value, dict):
            raise ConverterError(
                f"pin_code is not a object, got {_js_type(value)} ({stringify(value)})"
            )
        user = self._user(value)
        pin = value.get("pin_code")
        if pin is None:
            self._zcl("clearPinCode", {"userid": user})
            if self._applies():
                self.users.pop(user, None)
            return []
        if self.pin_check == "z2m" and math.isnan(_js_number(pin)):
            raise ConverterError("pinCode must be a number")
        user_type = _user_type(value.get("user_type") or "unrestricted")
        enabled = value.get("user_enabled")
        status = 1 if enabled is None or enabled else 3
        pin_text = _js_string(pin)
        payload = {
            "userid": user,
            "userstatus": status,
            "usertype": user_type,
            "pincodevalue": pin_text,
        }
        self._zcl("setPinCode", payload)
        if self._applies() and self._lock_accepts(user, pin_text):
            self.users[user] = PinUser(status, user_type, pin_text)
        return []

    def _get_pin_code(self, value: Any) -> list[Publish]:
        users = range(self.model.pin_code_count)
        if isinstance(value, dict) and "user" in value:
            number = _js_number(value["user"])
            if not 0 <= number <= self.model.pin_code_count - 1:
                raise ConverterError("userId must be in range for device")
            users = range(int(number), int(number) + 1)
        out = []
        for user in users:
            self._zcl("getPinCode", {"userid": user})
            out.append(self.state_publish({"users": {str(user): self._pin_code_response(user)}}))
        return out

    def _pin_code_response(self, user: int) -> dict[str, Any]:
        """fz.lock_pin_code_response for one user."""
        held = self.users.get(user)
        answer: dict[str, Any] = {"status": USER_STATUS[held.status if held else 0]}
        if self.expose_pin and held:
            answer["pin_code"] = held.pin
        return answer

    def _set_user_status(self, value: Any) -> list[Publish]:
        user = self._user(value)
        codes = {name: code for code, name in USER_STATUS.items()}
        if value.get("status") not in codes:
            allowed = ",".join(USER_STATUS.values())
            raise ConverterError(
                f"Unsupported status: '{value.get('status')}', should be one of: {allowed}"
            )
        self._zcl("setUserStatus", {"userid": user, "userstatus": codes[value["status"]]})
        held = self.users.get(user)
        if held and self._applies():
            held.status = codes[value["status"]]
        return []

    def _get_user_status(self, value: Any) -> list[Publish]:
        user = self._user(value)
        self._zcl("getUserStatus", {"userid": user})
        held = self.users.get(user)
        status = USER_STATUS[held.status if held else 0]
        return [self.state_publish({"users": {str(user): {"status": status}}})]

    def _set_state(self, value: Any) -> list[Publish]:
        state = value.upper() if isinstance(value, str) else None
        if isinstance(value, dict) and isinstance(value.get("state"), str):
            state = value["state"].upper()
        if state not in ("LOCK", "UNLOCK", "TOGGLE"):
            raise ConverterError(f"'{state}' not allowed, choose between: LOCK,UNLOCK,TOGGLE")
        self._zcl(f"{state.lower()}Door", {"pincodevalue": {"type": "Buffer", "data": []}})
        self.locked = not self.locked if state == "TOGGLE" else state == "LOCK"
        return [self.state_publish(self._lock_state())]

    def _get_state(self, value: Any) -> list[Publish]:
        self._zcl("read", ["lockState"])
        return [self.state_publish(self._lock_state())]

    def _lock_state(self) -> dict[str, str]:
        """fz.lock for a lockState report."""
        if self.locked:
            return {"state": "LOCK", "lock_state": "locked"}
        return {"state": "UNLOCK", "lock_state": "unlocked"}

    def _zcl(self, command: str, payload: Any) -> None:
        """Send one ZCL command to the lock; herdsman's error if it does not answer."""
        if self.answers:
            return
        call = f"closuresDoorLock.{command}({stringify(payload)}, {_ZCL_OPTIONS})"
        raise NoAnswer(
            f"ZCL command {self.ieee}/{self.model.endpoint} {call} failed "
            "(Data request failed with error: 'MAC transaction expired' (240))"
        )

    def _applies(self) -> bool:
        """A sleepy lock acknowledges a set or clear at the radio and drops it."""
        if self.drop_sets > 0:
            self.drop_sets -= 1
            return False
        return True

    def _lock_accepts(self, user: int, pin: str) -> bool:
        """The lock refuses a PIN another user has (setPinCodeRsp status 3, duplicate) and
        one that is not digits (status 1, failure); Zigbee2MQTT publishes neither."""
        duplicate = any(held.pin == pin for uid, held in self.users.items() if uid != user)
        return pin.isdigit() and not duplicate

    # -- the keypad's side -------------------------------------------------------------------

    def keypad_program(self, user: int, pin: str) -> list[Publish]:
        """Someone adds or changes the code of `user` at the keypad."""
        if not self._lock_accepts(user, pin):
            return []
        action = "pin_code_changed" if user in self.users else "pin_code_added"
        self.users[user] = PinUser(1, 0, pin)
        return [self._event(action, user)]

    def keypad_delete(self, user: int) -> list[Publish]:
        if self.users.pop(user, None) is None:
            return []
        return [self._event("pin_code_deleted", user)]

    def keypad_enter(self, pin: str) -> list[Publish]:
        """Someone types `pin` and presses the lock button: it opens if a user has it."""
        user = next((u for u, h in self.users.items() if h.pin == pin and h.status == 1), None)
        if user is None:
            return [self._event("unlock_failure_invalid_pin_or_id", UNKNOWN_USER)]
        self.locked = False
        return [self._event("unlock", user), self.state_publish(self._lock_state())]

    def _event(self, action: str, user: int) -> Publish:
        """fz.lock_programming_event / fz.lock_operation_event from the keypad."""
        return self.state_publish(
            {
                "action": action,
                "action_source": KEYPAD,
                "action_source_name": "keypad",
                "action_user": user,
            }
        )

    def physical_codes(self) -> dict[int, str]:
        """What is on the lock now, whatever anyone has read (enabled and disabled users)."""
        return {user: held.pin for user, held in sorted(self.users.items())}


def _log(message: str, *, delay: float = 0.0) -> Publish:
    """An error in `bridge/logging` (extension/bridge.ts: json-stable-stringify)."""
    return Publish(
        "bridge/logging", {"level": "error", "message": message, "namespace": "z2m"}, delay=delay
    )


def _user_type(name: Any) -> int:
    """utils.getFromLookup on the user type names."""
    if isinstance(name, str):
        for key in (name, name.lower(), name.upper()):
            if key in USER_TYPES:
                return USER_TYPES[key]
    raise ConverterError(f"Key '{name}' not found in: [{', '.join(USER_TYPES)}]")


def _js_type(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else "object"
