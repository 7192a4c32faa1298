"""Brand profiles: what each lock brand can do and which catalog codes its failures map to.

Data, not branches: the engine, preflight and the sandbox simulators read these tables instead of
asking which brand they talk to. Values follow Seam's docs and the peers' notes
(shared/spec/peers-and-protocols.md section 4); where no source gives a number, the value is a
documented choice:

- august: 4-6 digit PINs (August keypad), 100 slots, names up to 32 characters.
- yale: 4-8 digit PINs, 250 slots (Z2M `pinCodeCount`), names up to 32 characters.
- kwikset: 4-8 digits, names 2-14 characters, time-bound codes must start in the future, 30 slots.
- schlage: one code length per lock (4), user codes differ from the programming code's first four
  digits, 19 user slots, PINs masked on read.
- salto: the lock system generates the PIN (6 digits), 100 slots, site subscription user limit.
- smartthings: no native schedules (codes set just in time), 30 slots of which 3 are its own.
- igloohome: 6-digit PINs, 100 slots, no backup pool.

Real locks reached through a home-automation stack rather than a vendor cloud have profiles of
their own (`REAL_LOCK_BRANDS`); the sandbox, the demo and the simulation use only the seven
brands above (`BRANDS`):

- zwave_lock: any Z-Wave keypad lock with User Code CC, through a Z-Wave JS server. No native
  schedules (codes are set just in time). The slot count is the lock's own (User Code CC
  `getUsersCount`, found at discovery; 30 until then); PINs of 4-10 digits, what User Code CC
  allows; commands to one lock 2 s apart (lock_code_manager's pacing for every lock).
- zigbee_lock: a keypad lock behind Zigbee2MQTT. No native schedules, 4-8 digit PINs (the ZCL
  Door Lock cluster's usual min/max PIN length), 2 s between commands, slot count per model
  from `catalog/zigbee_models.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pinwarden.domain.model import Capabilities


@dataclass(frozen=True, slots=True)
class BrandErrorCodes:
    """The catalog code a brand's lock produces for each kind of failure."""

    offline: str = "device_offline"
    slots_full: str = "no_space_for_access_code_on_device"
    bad_format: str = "failed_to_set_on_device"
    duplicate: str = "duplicate_code_on_device"
    # Warning while an acknowledged write has not landed yet.
    programming_delay: str = "delay_in_setting_on_device"
    set_failed: str = "failed_to_set_on_device"
    remove_failed: str = "failed_to_remove_from_device"
    # Read-back never shows an acknowledged set / removal.
    unconfirmed_set: str = "failed_to_set_on_device"
    unconfirmed_removal: str = "failed_to_remove_from_device"
    # None: the brand has no subscription limit.
    subscription_limit: str | None = None
    # Raised after repeated set failures instead of `set_failed`; None: keep `set_failed`.
    repeated_set_failures: str | None = None


@dataclass(frozen=True, slots=True)
class BrandProfile:
    brand: str
    device_type: str
    manufacturer_display_name: str
    model_display_name: str
    capabilities: Capabilities
    errors: BrandErrorCodes


_AUGUST_ERRORS = BrandErrorCodes(
    offline="august_lock_temporarily_offline",
    slots_full="august_device_slots_full",
    bad_format="august_lock_bad_access_code_format",
    programming_delay="august_device_programming_delay",
)

_PROFILES = (
    BrandProfile(
        brand="august",
        device_type="august_lock",
        manufacturer_display_name="August",
        model_display_name="Wi-Fi Smart Lock",
        capabilities=Capabilities(
            brand="august",
            slot_count=100,
            native_scheduling=True,
            supported_code_lengths=(4, 5, 6),
            name_min_length=1,
            name_max_length=32,
            confirm_grace_seconds=120,
            min_command_interval_seconds=1.0,
        ),
        errors=_AUGUST_ERRORS,
    ),
    BrandProfile(
        brand="yale",
        device_type="yale_lock",
        manufacturer_display_name="Yale",
        model_display_name="Assure Lock 2",
        capabilities=Capabilities(
            brand="yale",
            slot_count=250,
            native_scheduling=True,
            supported_code_lengths=(4, 5, 6, 7, 8),
            name_min_length=1,
            name_max_length=32,
            confirm_grace_seconds=120,
            min_command_interval_seconds=1.0,
        ),
        errors=_AUGUST_ERRORS,
    ),
    BrandProfile(
        brand="kwikset",
        device_type="kwikset_lock",
        manufacturer_display_name="Kwikset",
        model_display_name="Halo Touchscreen Smart Lock",
        capabilities=Capabilities(
            brand="kwikset",
            slot_count=30,
            native_scheduling=True,
            supported_code_lengths=(4, 5, 6, 7, 8),
            code_constraints=("start_date_in_future",),
            name_min_length=2,
            name_max_length=14,
            supports_unmanaged_conversion=False,
            confirm_grace_seconds=120,
            min_command_interval_seconds=2.0,
        ),
        errors=BrandErrorCodes(
            unconfirmed_set="kwikset_unable_to_confirm_code",
            unconfirmed_removal="kwikset_unable_to_confirm_deletion",
        ),
    ),
    BrandProfile(
        brand="schlage",
        device_type="schlage_lock",
        manufacturer_display_name="Schlage",
        model_display_name="Keypad Deadbolt",
        capabilities=Capabilities(
            brand="schlage",
            slot_count=19,
            native_scheduling=True,
            supported_code_lengths=(4,),
            code_constraints=("unique_first_four_digits",),
            pins_readable=False,
            min_command_interval_seconds=1.0,
        ),
        errors=BrandErrorCodes(),
    ),
    BrandProfile(
        brand="salto",
        device_type="salto_lock",
        manufacturer_display_name="Salto",
        model_display_name="KS XS4 Original+",
        capabilities=Capabilities(
            brand="salto",
            slot_count=100,
            native_scheduling=True,
            supported_code_lengths=(6,),
            code_constraints=("cannot_specify_pin_code",),
            pin_generated_by_provider=True,
            min_command_interval_seconds=0.5,
        ),
        errors=BrandErrorCodes(subscription_limit="salto_site_user_not_subscribed"),
    ),
    BrandProfile(
        brand="smartthings",
        device_type="smartthings_lock",
        manufacturer_display_name="SmartThings",
        model_display_name="Z-Wave Keypad Deadbolt",
        capabilities=Capabilities(
            brand="smartthings",
            slot_count=30,
            native_scheduling=False,
            supported_code_lengths=(4, 5, 6, 7, 8),
            reserved_slots=3,
            supports_unmanaged_conversion=False,
            min_command_interval_seconds=2.0,
        ),
        errors=BrandErrorCodes(
            slots_full="smartthings_no_free_slots_available",
            repeated_set_failures="smartthings_failed_to_set_after_multiple_retries",
        ),
    ),
    BrandProfile(
        brand="igloohome",
        device_type="igloohome_lock",
        manufacturer_display_name="igloohome",
        model_display_name="Smart Deadbolt 02",
        capabilities=Capabilities(
            brand="igloohome",
            slot_count=100,
            native_scheduling=True,
            supported_code_lengths=(6,),
            supports_backup_pool=False,
            supports_unmanaged_conversion=False,
            min_command_interval_seconds=0.5,
        ),
        errors=BrandErrorCodes(),
    ),
)

_REAL_LOCK_PROFILES = (
    BrandProfile(
        brand="zwave_lock",
        device_type="zwave_lock",
        manufacturer_display_name="Z-Wave",
        model_display_name="Keypad lock (User Code CC)",
        capabilities=Capabilities(
            brand="zwave_lock",
            slot_count=30,
            native_scheduling=False,
            supported_code_lengths=(4, 5, 6, 7, 8, 9, 10),
            min_command_interval_seconds=2.0,
        ),
        errors=BrandErrorCodes(),
    ),
    BrandProfile(
        brand="zigbee_lock",
        device_type="zigbee_lock",
        manufacturer_display_name="Zigbee",
        model_display_name="Keypad Lock (Zigbee2MQTT)",
        capabilities=Capabilities(
            brand="zigbee_lock",
            # Overridden per lock from its model's pinCodeCount (catalog/zigbee_models.py).
            slot_count=29,
            native_scheduling=False,
            supported_code_lengths=(4, 5, 6, 7, 8),
            # Zigbee2MQTT sends no acknowledgement: a write is confirmed by reading it back,
            # and a sleepy lock may take a while to answer.
            confirm_grace_seconds=120,
            min_command_interval_seconds=2.0,
        ),
        errors=BrandErrorCodes(),
    ),
)

# The sandbox brands: one simulator each (seeded by `--demo`).
BRANDS: Mapping[str, BrandProfile] = MappingProxyType({p.brand: p for p in _PROFILES})
# Locks pinwarden reaches through a real installation (a Z-Wave JS server, ...).
REAL_LOCK_BRANDS: Mapping[str, BrandProfile] = MappingProxyType(
    {p.brand: p for p in _REAL_LOCK_PROFILES}
)
ALL_BRANDS: Mapping[str, BrandProfile] = MappingProxyType({**BRANDS, **REAL_LOCK_BRANDS})


def brand_profile(brand: str) -> BrandProfile:
    """The profile for `brand`; raises ValueError naming the known brands."""
    try:
        return ALL_BRANDS[brand]
    except KeyError:
        known = ", ".join(ALL_BRANDS)
        raise ValueError(f"unknown lock brand {brand!r}; known brands: {known}") from None


# Seam's device types for locks of these makers: a lock behind Z-Wave JS or Zigbee2MQTT that
# one of them made is shown as that maker's lock, so a client that checks Seam's schema takes it.
_SEAM_TYPES_BY_MAKER: Mapping[str, str] = MappingProxyType(
    {
        "august": "august_lock",
        "yale": "yale_lock",
        "kwikset": "kwikset_lock",
        "weiser": "kwikset_lock",
        "schlage": "schlage_lock",
        "lockly": "lockly_lock",
        "ultraloq": "ultraloq_lock",
        "u-tec": "ultraloq_lock",
        "nuki": "nuki_lock",
        "igloohome": "igloohome_lock",
    }
)


def seam_device_type(profile: BrandProfile, manufacturer: str | None) -> str:
    """The device type a lock is shown with: its maker's Seam type when there is one, else the
    profile's own (pinwarden's `zwave_lock` / `zigbee_lock` for other makers)."""
    if manufacturer:
        for maker, device_type in _SEAM_TYPES_BY_MAKER.items():
            if maker in manufacturer.lower():
                return device_type
    return profile.device_type


def capabilities_to_seam_properties(profile: BrandProfile, caps: Capabilities) -> dict[str, Any]:
    """Seam-shaped `device.properties` pieces for a lock with `caps` (possibly overridden).

    `max_active_codes_supported` counts the slots left for codes, not the brand's own
    reserved ones.
    """
    constraints: list[dict[str, Any]] = [{"constraint_type": c} for c in caps.code_constraints]
    if caps.name_min_length is not None or caps.name_max_length is not None:
        name_rule: dict[str, Any] = {"constraint_type": "name_length"}
        if caps.name_min_length is not None:
            name_rule["min_length"] = caps.name_min_length
        if caps.name_max_length is not None:
            name_rule["max_length"] = caps.name_max_length
        constraints.append(name_rule)
    return {
        "code_constraints": constraints,
        "supported_code_lengths": list(caps.supported_code_lengths),
        "max_active_codes_supported": max(caps.slot_count - caps.reserved_slots, 0),
        "supports_backup_access_code_pool": caps.supports_backup_pool,
        "model": {
            "display_name": profile.model_display_name,
            "manufacturer_display_name": profile.manufacturer_display_name,
            "has_built_in_keypad": True,
            "can_connect_accessory_keypad": False,
        },
    }
