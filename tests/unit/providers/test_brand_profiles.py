"""Brand profiles and the Seam-shaped device properties built from them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pinwarden.catalog.brands import BRANDS, brand_profile, capabilities_to_seam_properties

SEAM_CONSTRAINT_TYPES = {
    "no_zeros",
    "cannot_start_with_12",
    "no_triple_consecutive_ints",
    "cannot_specify_pin_code",
    "pin_code_matches_existing_set",
    "start_date_in_future",
    "no_ascending_or_descending_sequence",
    "at_least_three_unique_digits",
    "cannot_contain_089",
    "cannot_contain_0789",
    "unique_first_four_digits",
    "no_all_same_digits",
}


def test_the_seven_sandbox_brands_have_profiles() -> None:
    assert set(BRANDS) == {
        "august",
        "yale",
        "kwikset",
        "schlage",
        "salto",
        "smartthings",
        "igloohome",
    }


@pytest.mark.parametrize("brand", sorted(BRANDS))
def test_profiles_use_seam_vocabulary(brand: str) -> None:
    profile = BRANDS[brand]
    assert profile.capabilities.brand == brand
    assert profile.device_type == f"{brand}_lock"
    assert set(profile.capabilities.code_constraints) <= SEAM_CONSTRAINT_TYPES
    assert all(4 <= n <= 20 for n in profile.capabilities.supported_code_lengths)


def test_unknown_brand_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="august"):
        brand_profile("acme")


def test_conversion_of_unmanaged_codes_follows_seam() -> None:
    unconvertible = {
        b for b, p in BRANDS.items() if not p.capabilities.supports_unmanaged_conversion
    }
    assert unconvertible == {"igloohome", "kwikset", "smartthings"}


def test_kwikset_properties_carry_constraints_and_name_length() -> None:
    profile = BRANDS["kwikset"]
    properties = capabilities_to_seam_properties(profile, profile.capabilities)
    assert properties["code_constraints"] == [
        {"constraint_type": "start_date_in_future"},
        {"constraint_type": "name_length", "min_length": 2, "max_length": 14},
    ]
    assert properties["supported_code_lengths"] == [4, 5, 6, 7, 8]
    assert properties["model"] == {
        "display_name": profile.model_display_name,
        "manufacturer_display_name": "Kwikset",
        "has_built_in_keypad": True,
        "can_connect_accessory_keypad": False,
    }


def test_smartthings_advertises_only_the_slots_left_for_codes() -> None:
    profile = BRANDS["smartthings"]
    properties = capabilities_to_seam_properties(profile, profile.capabilities)
    assert properties["max_active_codes_supported"] == 27
    smaller = replace(profile.capabilities, slot_count=10)
    assert capabilities_to_seam_properties(profile, smaller)["max_active_codes_supported"] == 7


def test_igloohome_has_no_backup_pool_and_no_name_rule() -> None:
    profile = BRANDS["igloohome"]
    properties = capabilities_to_seam_properties(profile, profile.capabilities)
    assert properties["supports_backup_access_code_pool"] is False
    assert properties["code_constraints"] == []
    assert properties["supported_code_lengths"] == [6]


def test_zwave_keypad_locks_have_a_just_in_time_profile_of_their_own() -> None:
    profile = brand_profile("zwave_lock")
    assert "zwave_lock" not in BRANDS  # no sandbox simulator: the Z-Wave JS emulator plays it
    assert profile.device_type == "zwave_lock"
    caps = profile.capabilities
    assert caps.native_scheduling is False
    assert caps.supported_code_lengths == tuple(range(4, 11))  # User Code CC: 4-10 characters
    assert caps.min_command_interval_seconds == 2.0
    assert set(caps.code_constraints) <= SEAM_CONSTRAINT_TYPES
