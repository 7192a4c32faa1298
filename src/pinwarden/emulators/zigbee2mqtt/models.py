"""The keypad lock models the emulator can be, as Zigbee2MQTT describes them in `bridge/devices`.

Every expose is built the way zigbee-herdsman-converters builds it (src/lib/exposes.ts: the
`Numeric`, `Binary`, `Enum`, `Composite` and `Lock` classes, and the presets `e.lock()`,
`e.battery()`, `e.pincode()`, `e.lock_action()`, `e.lock_action_source_name()`,
`e.lock_action_user()`, `e.auto_relock_time()`, `e.sound_volume()`, `e.battery_low()`), and
Zigbee2MQTT appends `linkquality` to every device's exposes (lib/model/device.ts). The models
are the definitions in src/devices/kwikset.ts, schlage.ts and yale.ts (`lockExtend`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# exposes.ts `access`: bit 1 published in state, bit 2 settable, bit 4 readable with /get.
STATE, SET, GET = 1, 2, 4
ALL = STATE | SET | GET

Expose = dict[str, Any]


def _label(name: str) -> str:
    """utils.getLabelFromName: underscores to spaces, first letter upper case."""
    label = name.replace("_", " ")
    return label[:1].upper() + label[1:]


def _feature(kind: str, name: str, access: int, description: str, **extra: Any) -> Expose:
    out = {
        "type": kind,
        "name": name,
        "label": extra.pop("label", None) or _label(name),
        "property": name,
        "access": access,
        "description": description,
    }
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


def _lock() -> Expose:
    state = _feature(
        "binary", "state", ALL, "State of the lock", value_on="LOCK", value_off="UNLOCK"
    )
    lock_state = _feature(
        "enum",
        "lock_state",
        STATE,
        "Actual state of the lock",
        values=["not_fully_locked", "locked", "unlocked"],
    )
    return {"type": "lock", "features": [state, lock_state]}


def _battery() -> Expose:
    return _feature(
        "numeric",
        "battery",
        STATE,
        "Remaining battery in %, can take up to 24 hours before reported",
        unit="%",
        value_min=0,
        value_max=100,
        category="diagnostic",
    )


def _pincode() -> Expose:
    features = [
        _feature("numeric", "user", SET, "User ID to set or clear the pincode for"),
        _feature(
            "enum",
            "user_type",
            SET,
            "Type of user, unrestricted: owner (default), (year|week)_day_schedule: user has "
            "ability to open lock based on specific time period, master: user has ability to "
            "both program and operate the door lock, non_access: user is recognized by the lock "
            "but does not have the ability to open the lock",
            values=[
                "unrestricted",
                "year_day_schedule",
                "week_day_schedule",
                "master",
                "non_access",
            ],
        ),
        _feature(
            "binary",
            "user_enabled",
            SET,
            "Whether the user is enabled/disabled",
            value_on=True,
            value_off=False,
        ),
        _feature(
            "numeric",
            "pin_code",
            SET,
            "Pincode to set, set pincode to null to clear",
            label="PIN code",
        ),
    ]
    return {
        "type": "composite",
        "name": "pin_code",
        "label": "Pin code",
        "property": "pin_code",
        "access": ALL,
        "features": features,
    }


LOCK_ACTIONS = [
    "unknown",
    "lock",
    "unlock",
    "lock_failure_invalid_pin_or_id",
    "lock_failure_invalid_schedule",
    "unlock_failure_invalid_pin_or_id",
    "unlock_failure_invalid_schedule",
    "one_touch_lock",
    "key_lock",
    "key_unlock",
    "auto_lock",
    "schedule_lock",
    "schedule_unlock",
    "manual_lock",
    "manual_unlock",
    "non_access_user_operational_event",
]


def _lock_action() -> Expose:
    return _feature("enum", "action", STATE, "Triggered action on the lock", values=LOCK_ACTIONS)


def _lock_action_source_name() -> Expose:
    return _feature(
        "enum",
        "action_source_name",
        STATE,
        "Source of the triggered action on the lock",
        values=["keypad", "rfid", "manual", "rf"],
    )


def _lock_action_user() -> Expose:
    return _feature(
        "numeric", "action_user", STATE, "ID of user that triggered the action on the lock"
    )


def _auto_relock_time() -> Expose:
    return _feature(
        "numeric",
        "auto_relock_time",
        ALL,
        "The number of seconds to wait after unlocking a lock before it automatically locks "
        "again. 0=disabled",
        unit="s",
        value_min=0,
        value_max=3600,
    )


def _sound_volume() -> Expose:
    return _feature(
        "enum",
        "sound_volume",
        ALL,
        "Sound volume of the lock",
        values=["silent_mode", "low_volume", "high_volume"],
    )


def _battery_low() -> Expose:
    return _feature(
        "binary",
        "battery_low",
        STATE,
        "Indicates if the battery of this device is almost empty",
        value_on=True,
        value_off=False,
        category="diagnostic",
    )


def _linkquality() -> Expose:
    return _feature(
        "numeric",
        "linkquality",
        STATE,
        "Link quality (signal strength)",
        unit="lqi",
        value_min=0,
        value_max=255,
        category="diagnostic",
    )


def expose_pin_option() -> Expose:
    """The device option `fz.lock_pin_code_response` adds (exposes.options.expose_pin)."""
    return _feature(
        "binary",
        "expose_pin",
        SET,
        "Expose pin of this lock in the published payload (default false).",
        label="Expose PIN",
        value_on=True,
        value_off=False,
    )


_KEYPAD_LOCK = (
    _lock,
    _battery,
    _pincode,
    _lock_action,
    _lock_action_source_name,
    _lock_action_user,
)


@dataclass(frozen=True, slots=True)
class LockModel:
    """One Zigbee keypad lock model as zigbee-herdsman-converters defines it."""

    zigbee_model: str  # the modelID the lock reports (`model_id` in bridge/devices)
    model: str
    vendor: str
    description: str
    pin_code_count: int  # meta.pinCodeCount: users 0 .. count-1
    endpoint: int
    # tz.lock_userstatus and fz.lock_user_status_response are in its converters.
    user_status: bool
    extra_exposes: tuple[str, ...] = ()
    extra_state: tuple[tuple[str, Any], ...] = ()

    def exposes(self) -> list[Expose]:
        extras = {
            "auto_relock_time": _auto_relock_time,
            "sound_volume": _sound_volume,
            "battery_low": _battery_low,
        }
        built = [make() for make in _KEYPAD_LOCK]
        built += [extras[name]() for name in self.extra_exposes]
        return [*built, _linkquality()]


MODELS: dict[str, LockModel] = {
    m.model: m
    for m in (
        LockModel(
            zigbee_model="SMARTCODE_DEADBOLT_5",
            model="99100-045",
            vendor="Kwikset",
            description="910 SmartCode traditional electronic deadbolt",
            pin_code_count=30,
            endpoint=2,
            user_status=False,
        ),
        LockModel(
            zigbee_model="BE468",
            model="BE468",
            vendor="Schlage",
            description="Connect smart deadbolt",
            pin_code_count=30,
            endpoint=1,
            user_status=False,
        ),
        LockModel(
            zigbee_model="YRD226 TSDB",
            model="YRD226HA2619",
            vendor="Yale",
            description="Assure lock",
            pin_code_count=250,
            endpoint=1,
            user_status=True,
            extra_exposes=("auto_relock_time", "sound_volume", "battery_low"),
            extra_state=(
                ("auto_relock_time", 30),
                ("sound_volume", "low_volume"),
                ("battery_low", False),
            ),
        ),
    )
}
