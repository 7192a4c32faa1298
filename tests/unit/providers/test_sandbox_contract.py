"""The contract every sandbox lock keeps, whatever its brand.

`SandboxLockContract` is the mixin; each brand runs it through a `Test<Brand>Contract` class.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from pinwarden.domain.codes import generate_code
from pinwarden.providers.base import DeviceUnreachable, Outcome, WriteResult
from pinwarden.providers.sandbox import SandboxLock

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
START = NOW + timedelta(hours=2)
END = NOW + timedelta(days=2)


def pin_for(lock: SandboxLock, seed: int = 0) -> str:
    """A PIN the lock accepts that is on none of its slots."""
    on_lock = [c["code"] for c in lock.list_device_codes(NOW)]
    return generate_code(
        lock.describe(),
        random.Random(seed),
        avoid=on_lock,
        programming_code=lock.programming_code,
    )


def request_pin(lock: SandboxLock, seed: int = 0) -> str | None:
    """What the engine would send: nothing where the lock makes up its PINs."""
    return None if lock.describe().pin_generated_by_provider else pin_for(lock, seed)


def set_guest(lock: SandboxLock, slot: int = 1, seed: int = 0) -> tuple[WriteResult, str]:
    """Sets a code in `slot`; returns the result and the PIN sent or assigned ("" if neither)."""
    pin = request_pin(lock, seed)
    result = lock.set_code(NOW, slot, pin, "Guest", START, END)
    return result, result.assigned_code or pin or ""


class SandboxLockContract:
    brand: str

    @pytest.fixture
    def lock(self) -> SandboxLock:
        return SandboxLock.new(self.brand, rng_seed=11)

    def test_set_code_is_confirmed_and_read_back(self, lock: SandboxLock) -> None:
        result, pin = set_guest(lock, slot=3)
        assert result.outcome is Outcome.CONFIRMED
        observed = lock.read_codes(NOW).by_slot()[3]
        expected_pin = pin if lock.describe().pins_readable else None
        assert (observed.code, observed.name) == (expected_pin, "Guest")

    def test_removed_code_is_no_longer_read(self, lock: SandboxLock) -> None:
        set_guest(lock, slot=3)
        assert lock.remove_code(NOW, 3).outcome is Outcome.CONFIRMED
        assert 3 not in lock.read_codes(NOW).by_slot()
        assert 3 not in {c["slot"] for c in lock.list_device_codes(NOW)}

    def test_removing_an_empty_slot_is_confirmed(self, lock: SandboxLock) -> None:
        assert lock.remove_code(NOW, 5).outcome is Outcome.CONFIRMED

    def test_writing_an_occupied_slot_overwrites_it(self, lock: SandboxLock) -> None:
        set_guest(lock, slot=2, seed=1)
        _, second = set_guest(lock, slot=2, seed=2)
        assert [c["code"] for c in lock.list_device_codes(NOW) if c["slot"] == 2] == [second]

    def test_native_locks_keep_the_window_and_jit_locks_ignore_it(self, lock: SandboxLock) -> None:
        set_guest(lock, slot=1)
        observed = lock.read_codes(NOW).by_slot()[1]
        window = (START, END) if lock.describe().native_scheduling else (None, None)
        assert (observed.starts_at, observed.ends_at) == window

    def test_keypad_opens_only_when_the_code_is_active(self, lock: SandboxLock) -> None:
        _, pin = set_guest(lock, slot=1)
        native = lock.describe().native_scheduling
        assert lock.keypad_entry(START, pin) == 1
        assert lock.keypad_entry(NOW, pin) == (None if native else 1)
        assert lock.keypad_entry(END, pin) == (None if native else 1)
        assert lock.keypad_entry(START, "00000000") is None

    def test_offline_lock_answers_writes_with_its_offline_code(self, lock: SandboxLock) -> None:
        lock.disconnect()
        offline_code = lock.profile.errors.offline
        set_result, _ = set_guest(lock)
        remove_result = lock.remove_code(NOW, 1)
        for result in (set_result, remove_result):
            assert (result.outcome, result.issue_code) == (Outcome.UNREACHABLE, offline_code)
        assert not lock.is_online

    def test_offline_lock_cannot_be_read(self, lock: SandboxLock) -> None:
        lock.disconnect()
        with pytest.raises(DeviceUnreachable) as raised:
            lock.read_codes(NOW)
        assert raised.value.issue_code == "device_offline"

    def test_reconnected_lock_accepts_writes(self, lock: SandboxLock) -> None:
        lock.disconnect()
        lock.connect()
        assert set_guest(lock)[0].outcome is Outcome.CONFIRMED

    def test_state_round_trips_through_json(self, lock: SandboxLock) -> None:
        set_guest(lock, slot=1, seed=1)
        lock.set_faults(programming_delay_seconds=60, fail_next_removes=2)
        set_guest(lock, slot=2, seed=2)
        rebuilt = SandboxLock(self.brand, json.loads(json.dumps(lock.state)))
        assert rebuilt.state == lock.state
        later = NOW + timedelta(seconds=60)
        assert rebuilt.read_codes(later) == lock.read_codes(later)
        assert rebuilt.faults == lock.faults

    def test_state_of_another_brand_is_refused(self, lock: SandboxLock) -> None:
        other = "august" if self.brand != "august" else "yale"
        with pytest.raises(ValueError, match=other):
            SandboxLock(other, lock.state)

    def test_pin_breaking_the_rules_is_rejected_terminally(self, lock: SandboxLock) -> None:
        if lock.describe().pin_generated_by_provider:
            pytest.skip("the lock makes up its PINs")
        result = lock.set_code(NOW, 1, "12a", "Guest", START, END)
        assert result.outcome is Outcome.REJECTED and result.terminal
        assert result.issue_code == lock.profile.errors.bad_format
        assert "digits_only" in result.message

    def test_a_pin_never_lands_in_two_slots(self, lock: SandboxLock) -> None:
        pin = pin_for(lock)
        lock.add_unmanaged(NOW, "Neighbour", pin)
        result = lock.set_code(NOW, 2, pin, "Guest", START, END)
        assert result.outcome in (Outcome.REJECTED, Outcome.ACCEPTED_UNCONFIRMED, Outcome.CONFIRMED)
        codes = [c["code"] for c in lock.list_device_codes(NOW + timedelta(days=1))]
        assert codes.count(pin) == 1

    def test_set_is_refused_when_every_usable_slot_is_taken(self, lock: SandboxLock) -> None:
        caps = lock.describe()
        lock.set_faults(slot_capacity=caps.reserved_slots + 2)
        set_guest(lock, slot=1, seed=1)
        set_guest(lock, slot=2, seed=2)
        result, _ = set_guest(lock, slot=3, seed=3)
        assert (result.outcome, result.issue_code) == (
            Outcome.REJECTED,
            lock.profile.errors.slots_full,
        )
        assert result.terminal
        assert lock.describe().slot_count == caps.reserved_slots + 2

    def test_fail_next_sets_fails_that_many_sets(self, lock: SandboxLock) -> None:
        lock.set_faults(fail_next_sets=2)
        outcomes = [set_guest(lock, slot=1, seed=n)[0] for n in range(3)]
        assert [r.issue_code for r in outcomes[:2]] == [lock.profile.errors.set_failed] * 2
        assert not any(r.terminal for r in outcomes[:2])
        assert outcomes[2].outcome is Outcome.CONFIRMED
        assert lock.faults["fail_next_sets"] == 0

    def test_fail_next_removes_fails_that_many_removes(self, lock: SandboxLock) -> None:
        set_guest(lock, slot=1)
        lock.set_faults(fail_next_removes=1)
        first = lock.remove_code(NOW, 1)
        assert (first.outcome, first.issue_code) == (
            Outcome.REJECTED,
            "failed_to_remove_from_device",
        )
        assert 1 in lock.read_codes(NOW).by_slot()
        assert lock.remove_code(NOW, 1).outcome is Outcome.CONFIRMED

    def test_delayed_programming_lands_after_the_delay(self, lock: SandboxLock) -> None:
        lock.set_faults(programming_delay_seconds=30)
        result, pin = set_guest(lock, slot=4)
        assert result.outcome is Outcome.ACCEPTED_UNCONFIRMED
        assert 4 not in lock.read_codes(NOW + timedelta(seconds=29)).by_slot()
        assert 4 in lock.read_codes(NOW + timedelta(seconds=30)).by_slot()
        assert lock.keypad_entry(START, pin) == 4

    def test_programming_that_never_lands_still_holds_the_slot(self, lock: SandboxLock) -> None:
        caps = lock.describe()
        lock.set_faults(programming_delay_seconds=-1, slot_capacity=caps.reserved_slots + 1)
        assert set_guest(lock, slot=1, seed=1)[0].outcome is Outcome.ACCEPTED_UNCONFIRMED
        assert lock.read_codes(NOW + timedelta(days=30)).slots == ()
        assert set_guest(lock, slot=2, seed=2)[0].issue_code == lock.profile.errors.slots_full

    def test_removing_a_slot_cancels_its_delayed_programming(self, lock: SandboxLock) -> None:
        lock.set_faults(programming_delay_seconds=30)
        set_guest(lock, slot=4)
        lock.remove_code(NOW, 4)
        assert 4 not in lock.read_codes(NOW + timedelta(minutes=5)).by_slot()

    def test_unconfirmable_sets_are_acknowledged_but_never_read(self, lock: SandboxLock) -> None:
        lock.set_faults(unconfirmable_sets=True)
        result, _ = set_guest(lock, slot=1)
        assert result.outcome is Outcome.ACCEPTED_UNCONFIRMED
        assert 1 not in lock.read_codes(NOW + timedelta(hours=1)).by_slot()

    def test_unconfirmable_removes_keep_the_code_read(self, lock: SandboxLock) -> None:
        set_guest(lock, slot=1)
        lock.set_faults(unconfirmable_removes=True)
        assert lock.remove_code(NOW, 1).outcome is Outcome.ACCEPTED_UNCONFIRMED
        assert 1 in lock.read_codes(NOW + timedelta(hours=1)).by_slot()

    def test_unmanaged_code_takes_the_lowest_free_slot(self, lock: SandboxLock) -> None:
        set_guest(lock, slot=1)
        pin = pin_for(lock, seed=5)
        slot = lock.add_unmanaged(NOW, "Cleaner", pin)
        assert slot == 2
        assert lock.read_codes(NOW).by_slot()[2].name == "Cleaner"
        assert lock.keypad_entry(NOW, pin) == 2

    def test_unmanaged_code_is_refused_when_duplicate_or_full(self, lock: SandboxLock) -> None:
        pin = pin_for(lock)
        lock.add_unmanaged(NOW, "Cleaner", pin)
        with pytest.raises(ValueError, match="already"):
            lock.add_unmanaged(NOW, "Cleaner 2", pin)
        lock.set_faults(slot_capacity=lock.describe().reserved_slots + 1)
        with pytest.raises(ValueError, match="no free slot"):
            lock.add_unmanaged(NOW, "Cleaner 3", pin_for(lock, seed=9))

    def test_external_change_shows_on_the_lock(self, lock: SandboxLock) -> None:
        set_guest(lock, slot=1)
        new_pin = pin_for(lock, seed=3)
        lock.modify_external(NOW, 1, code=new_pin, name="Changed")
        in_slot_1 = [c for c in lock.list_device_codes(NOW) if c["slot"] == 1]
        assert in_slot_1 == [
            {"slot": 1, "code": new_pin, "name": "Changed", **self._window_fields(lock)}
        ]
        lock.modify_external(NOW, 1, remove=True)
        assert 1 not in lock.read_codes(NOW).by_slot()
        with pytest.raises(ValueError, match="empty"):
            lock.modify_external(NOW, 1, name="Ghost")

    def test_rushed_commands_are_dropped_only_with_the_fault(self, lock: SandboxLock) -> None:
        interval = timedelta(seconds=lock.describe().min_command_interval_seconds)
        assert interval > timedelta(0)
        set_guest(lock, slot=1)
        assert lock.last_command_at() == NOW
        assert lock.remove_code(NOW, 1).outcome is Outcome.CONFIRMED  # no fault: taken
        lock.set_faults(drop_rushed_commands=True)
        rushed = lock.set_code(NOW + interval / 2, 2, request_pin(lock), "Guest", START, END)
        assert (rushed.outcome, rushed.terminal) == (Outcome.REJECTED, False)
        assert rushed.issue_code == lock.profile.errors.set_failed
        assert "busy" in rushed.message
        assert 2 not in lock.read_codes(NOW + interval).by_slot()
        assert lock.last_command_at() == NOW  # a dropped command does not count
        dropped = lock.remove_code(NOW + interval / 2, 1)
        assert dropped.issue_code == lock.profile.errors.remove_failed
        paced = lock.set_code(NOW + interval, 2, request_pin(lock), "Guest", START, END)
        assert paced.outcome is Outcome.CONFIRMED
        assert lock.last_command_at() == NOW + interval

    @staticmethod
    def _window_fields(lock: SandboxLock) -> dict[str, str]:
        if not lock.describe().native_scheduling:
            return {}
        return {"starts_at": START.isoformat(), "ends_at": END.isoformat()}

    @pytest.mark.parametrize(
        ("faults", "named"),
        [
            ({"explode": True}, "explode"),
            ({"fail_next_sets": -1}, "fail_next_sets"),
            ({"fail_next_removes": "2"}, "fail_next_removes"),
            ({"unconfirmable_sets": 1}, "unconfirmable_sets"),
            ({"programming_delay_seconds": -5}, "programming_delay_seconds"),
            ({"slot_capacity": 0}, "slot_capacity"),
            ({"drop_rushed_commands": "yes"}, "drop_rushed_commands"),
            ({"unconfirmable_removes": True, "fail_next_sets": True}, "fail_next_sets"),
        ],
    )
    def test_bad_faults_are_refused_by_name_and_change_nothing(
        self, lock: SandboxLock, faults: dict[str, object], named: str
    ) -> None:
        before = lock.faults
        with pytest.raises(ValueError, match=named):
            lock.set_faults(**faults)
        assert lock.faults == before

    def test_faults_read_back_with_defaults(self, lock: SandboxLock) -> None:
        lock.set_faults(fail_next_sets=3)
        assert lock.faults == {
            "programming_delay_seconds": 0,
            "fail_next_sets": 3,
            "fail_next_removes": 0,
            "third_party_manager": None,
            "unconfirmable_sets": False,
            "unconfirmable_removes": False,
            "site_user_limit": None,
            "slot_capacity": None,
            "drop_rushed_commands": False,
        }


class TestAugustContract(SandboxLockContract):
    brand = "august"


class TestYaleContract(SandboxLockContract):
    brand = "yale"


class TestKwiksetContract(SandboxLockContract):
    brand = "kwikset"


class TestSchlageContract(SandboxLockContract):
    brand = "schlage"


class TestSaltoContract(SandboxLockContract):
    brand = "salto"


class TestSmartthingsContract(SandboxLockContract):
    brand = "smartthings"


class TestIgloohomeContract(SandboxLockContract):
    brand = "igloohome"
