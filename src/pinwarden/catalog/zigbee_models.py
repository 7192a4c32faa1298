"""How many PIN users each Zigbee keypad lock model holds, and the capabilities that follow.

Zigbee2MQTT checks every `pin_code` command against the model's `meta.pinCodeCount` (users
`0 .. pinCodeCount-1`) but does not publish that number: `bridge/devices` carries the model and
vendor only. So the numbers are kept here, as zigbee-herdsman-converters defines them
(src/devices/<vendor>.ts, `meta: {pinCodeCount: N}` or `m.lock({pinCodeCount: N})`). A model
not listed falls back to its vendor's usual count, then to 30 (the most common value).

Slots are Zigbee user ids, as lock_code_manager and keymaster number them, so a self-hoster's
slot 3 is the lock's user 3. User 0 is left alone: many locks keep their first or master code
there, and pinwarden's slots start at 1. A lock with pinCodeCount N therefore has N-1 slots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from pinwarden.domain.model import Capabilities

DEFAULT_PIN_CODE_COUNT = 30

# (vendor, model) as Zigbee2MQTT's `definition` names them.
_MODEL_PIN_CODE_COUNT: Mapping[tuple[str, str], int] = MappingProxyType(
    {
        ("Kwikset", "99140-002"): 30,
        ("Kwikset", "99140-031"): 30,
        ("Kwikset", "99100-045"): 30,
        ("Kwikset", "99120-021"): 30,
        ("Weiser", "9GED18000-009"): 30,
        ("Weiser", "9GED21500-005"): 30,
        ("Schlage", "BE468"): 30,
        ("Yale", "YMI70A"): 100,
        ("Danalock", "V3-BTZB/V3-BTZBE"): 20,
        ("Datek", "0402946"): 109,
        ("ShinaSystem", "DLM-300Z"): 4,
        ("Onesti Products AS", "easyCodeTouch_v1"): 1000,
        ("Onesti Products AS", "Nimly"): 1000,
    }
)

# A vendor's usual count, for a model of theirs not listed above.
_VENDOR_PIN_CODE_COUNT: Mapping[str, int] = MappingProxyType(
    {
        "Kwikset": 30,
        "Weiser": 30,
        "Schlage": 30,
        "Yale": 250,
        "Danalock": 20,
        "Heimgard Technologies": 39,
    }
)


def pin_code_count(vendor: str | None, model: str | None) -> int:
    """Zigbee2MQTT's pinCodeCount for a lock model (users 0 .. count-1)."""
    known = _MODEL_PIN_CODE_COUNT.get((vendor or "", model or ""))
    if known is not None:
        return known
    return _VENDOR_PIN_CODE_COUNT.get(vendor or "", DEFAULT_PIN_CODE_COUNT)


def zigbee_lock_capabilities(
    base: Capabilities, vendor: str | None, model: str | None, *, pins_readable: bool
) -> Capabilities:
    """`base` (the zigbee_lock profile) fitted to one lock: its slots (users 1 .. count-1) and
    whether Zigbee2MQTT shows its PINs (the device option `expose_pin`)."""
    slots = max(pin_code_count(vendor, model) - 1, 0)
    return replace(base, slot_count=slots, pins_readable=pins_readable)
