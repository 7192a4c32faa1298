"""Each brand's own rules and failure modes, beyond the shared contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinwarden.providers.base import Outcome
from pinwarden.providers.sandbox import SandboxLock

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
START = NOW + timedelta(hours=2)
END = NOW + timedelta(days=2)


def test_august_uses_its_own_codes_for_offline_format_and_full_slots() -> None:
    lock = SandboxLock.new("august", rng_seed=1)
    too_long = lock.set_code(NOW, 1, "4827193", "Guest", START, END)
    assert (too_long.issue_code, too_long.terminal) == ("august_lock_bad_access_code_format", True)
    lock.set_faults(slot_capacity=1)
    lock.set_code(NOW, 1, "4827", "Guest", START, END)
    full = lock.set_code(NOW, 2, "5938", "Guest", START, END)
    assert full.issue_code == "august_device_slots_full"
    lock.disconnect()
    assert lock.remove_code(NOW, 1).issue_code == "august_lock_temporarily_offline"


def test_august_has_100_slots_and_4_to_6_digit_pins() -> None:
    caps = SandboxLock.new("august", rng_seed=1).describe()
    assert (caps.slot_count, caps.supported_code_lengths) == (100, (4, 5, 6))


def test_yale_accepts_8_digit_pins_and_speaks_august_codes() -> None:
    lock = SandboxLock.new("yale", rng_seed=1)
    assert lock.set_code(NOW, 1, "48271935", "Guest", START, END).outcome is Outcome.CONFIRMED
    assert lock.set_code(NOW, 2, "482719351", "Guest", START, END).issue_code == (
        "august_lock_bad_access_code_format"
    )
    assert lock.describe().slot_count == 250


def test_kwikset_acknowledges_a_duplicate_pin_but_never_stores_it() -> None:
    lock = SandboxLock.new("kwikset", rng_seed=1)
    lock.add_unmanaged(NOW, "Neighbour", "4827")
    result = lock.set_code(NOW, 2, "4827", "Guest", START, END)
    assert result.outcome is Outcome.ACCEPTED_UNCONFIRMED
    assert 2 not in lock.read_codes(NOW + timedelta(hours=1)).by_slot()


def test_kwikset_refuses_a_window_that_started_in_the_past() -> None:
    lock = SandboxLock.new("kwikset", rng_seed=1)
    result = lock.set_code(NOW, 1, "4827", "Guest", NOW - timedelta(minutes=1), END)
    assert (result.outcome, result.issue_code) == (Outcome.REJECTED, "failed_to_set_on_device")
    assert "start_date_in_future" in result.message
    ongoing = lock.set_code(NOW, 1, "4827", "Guest", None, None)
    assert ongoing.outcome is Outcome.CONFIRMED


@pytest.mark.parametrize("name", ["A", "Fifteen chars!!"])
def test_kwikset_refuses_names_outside_2_to_14_characters(name: str) -> None:
    lock = SandboxLock.new("kwikset", rng_seed=1)
    result = lock.set_code(NOW, 1, "4827", name, START, END)
    assert result.issue_code == "failed_to_set_on_device"
    assert "name_length" in result.message


def test_kwikset_unconfirmed_writes_map_to_its_own_codes() -> None:
    errors = SandboxLock.new("kwikset", rng_seed=1).profile.errors
    assert (errors.unconfirmed_set, errors.unconfirmed_removal) == (
        "kwikset_unable_to_confirm_code",
        "kwikset_unable_to_confirm_deletion",
    )


def test_schlage_masks_pins_on_read_but_not_on_the_lock() -> None:
    lock = SandboxLock.new("schlage", rng_seed=1)
    lock.set_code(NOW, 1, "4827", "Guest", START, END)
    assert lock.read_codes(NOW).by_slot()[1].code is None
    assert lock.list_device_codes(NOW)[0]["code"] == "4827"


def test_schlage_refuses_a_pin_sharing_the_programming_codes_first_four_digits() -> None:
    lock = SandboxLock.new("schlage", rng_seed=1)
    programming = lock.programming_code
    assert programming is not None and len(programming) == 6
    result = lock.set_code(NOW, 1, programming[:4], "Guest", START, END)
    assert (result.issue_code, result.terminal) == ("failed_to_set_on_device", True)
    assert "unique_first_four_digits" in result.message


def test_schlage_takes_one_code_length_and_19_codes() -> None:
    lock = SandboxLock.new("schlage", rng_seed=1)
    result = lock.set_code(NOW, 1, "48271", "Guest", START, END)
    assert "supported_code_lengths" in result.message
    assert lock.describe().slot_count == 19


def test_salto_makes_up_the_pin_itself() -> None:
    lock = SandboxLock.new("salto", rng_seed=1)
    result = lock.set_code(NOW, 1, "482719", "Guest", START, END)
    assert result.outcome is Outcome.CONFIRMED
    assert result.assigned_code is not None and result.assigned_code != "482719"
    assert lock.read_codes(NOW).by_slot()[1].code == result.assigned_code
    assert lock.keypad_entry(START, result.assigned_code) == 1


def test_salto_refuses_users_beyond_the_site_subscription() -> None:
    lock = SandboxLock.new("salto", rng_seed=1)
    lock.set_faults(site_user_limit=1)
    assert lock.set_code(NOW, 1, None, "Guest", START, END).outcome is Outcome.CONFIRMED
    over = lock.set_code(NOW, 2, None, "Guest 2", START, END)
    assert (over.outcome, over.issue_code) == (Outcome.REJECTED, "salto_site_user_not_subscribed")
    rewrite = lock.set_code(NOW, 1, None, "Guest renamed", START, END)
    assert rewrite.outcome is Outcome.CONFIRMED
    lock.set_faults(site_user_limit=None)
    assert lock.set_code(NOW, 2, None, "Guest 2", START, END).outcome is Outcome.CONFIRMED


def test_site_user_limit_is_refused_on_brands_without_subscriptions() -> None:
    with pytest.raises(ValueError, match="site_user_limit"):
        SandboxLock.new("august", rng_seed=1).set_faults(site_user_limit=3)


def test_smartthings_keeps_three_codes_of_its_own_out_of_reads() -> None:
    lock = SandboxLock.new("smartthings", rng_seed=1)
    own = lock.list_device_codes(NOW)
    assert [c["slot"] for c in own] == [28, 29, 30]
    assert lock.read_codes(NOW).slots == ()
    assert lock.keypad_entry(NOW, own[0]["code"]) == 28
    result = lock.set_code(NOW, 28, "4827", "Guest", None, None)
    assert (result.issue_code, result.terminal) == ("smartthings_no_free_slots_available", True)
    assert lock.remove_code(NOW, 28).outcome is Outcome.REJECTED


def test_smartthings_runs_out_of_slots_after_27_codes() -> None:
    lock = SandboxLock.new("smartthings", rng_seed=1)
    for slot in range(1, 28):
        pin = f"{4000 + slot * 37:04d}"
        assert lock.set_code(NOW, slot, pin, "Guest", None, None).outcome is Outcome.CONFIRMED
    with pytest.raises(ValueError, match="no free slot"):
        lock.add_unmanaged(NOW, "Cleaner", "9182")


def test_smartthings_ignores_windows_it_cannot_store() -> None:
    lock = SandboxLock.new("smartthings", rng_seed=1)
    lock.set_code(NOW, 1, "4827", "Guest", NOW - timedelta(days=1), NOW - timedelta(hours=1))
    assert lock.keypad_entry(NOW, "4827") == 1


def test_rboy_makes_every_smartthings_set_fail_and_grabs_one_slot() -> None:
    lock = SandboxLock.new("smartthings", rng_seed=1)
    lock.set_faults(third_party_manager="rboy")
    lock.set_faults(third_party_manager="rboy")
    grabbed = lock.read_codes(NOW).slots
    assert [(s.slot, s.name) for s in grabbed] == [(1, "RBoy Apps Lock Manager")]
    results = [lock.set_code(NOW, 2, "4827", "Guest", None, None) for _ in range(3)]
    assert {(r.outcome, r.issue_code, r.terminal) for r in results} == {
        (Outcome.REJECTED, "failed_to_set_on_device", False)
    }
    assert "third-party" in results[0].message
    lock.set_faults(third_party_manager=None)
    assert lock.set_code(NOW, 2, "4827", "Guest", None, None).outcome is Outcome.CONFIRMED


def test_third_party_manager_is_refused_where_no_such_app_exists() -> None:
    with pytest.raises(ValueError, match="third_party_manager"):
        SandboxLock.new("august", rng_seed=1).set_faults(third_party_manager="rboy")
    with pytest.raises(ValueError, match="third_party_manager"):
        SandboxLock.new("smartthings", rng_seed=1).set_faults(third_party_manager="other")


def test_igloohome_takes_only_6_digit_pins() -> None:
    lock = SandboxLock.new("igloohome", rng_seed=1)
    assert lock.set_code(NOW, 1, "4827", "Guest", START, END).issue_code == (
        "failed_to_set_on_device"
    )
    assert lock.set_code(NOW, 1, "482719", "Guest", START, END).outcome is Outcome.CONFIRMED
    assert not lock.describe().supports_backup_pool


def test_same_seed_builds_the_same_lock() -> None:
    first = SandboxLock.new("smartthings", rng_seed=42)
    assert first.state == SandboxLock.new("smartthings", rng_seed=42).state
    assert first.state != SandboxLock.new("smartthings", rng_seed=43).state
