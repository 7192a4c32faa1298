"""The zigbee2mqtt adapter against the real Mosquitto and the Zigbee2MQTT emulator.

Each test acts as the engine does (discover, read, write with the slot content it expects) or
as a person at the lock (the emulator's control interface), and asserts on what the adapter
returns or pushes and on what is physically on the emulated lock.
"""

from __future__ import annotations

import json
from dataclasses import replace

import aiomqtt
import pytest

from pinwarden.domain.model import ObservedSlot
from pinwarden.providers.base import (
    ClearSlot,
    DeviceUnreachable,
    LockEventKind,
    Outcome,
    SetSlot,
)
from tests.providers.zigbee2mqtt.support import BROKER_HOST, BROKER_PORT, NOW, rig, run, spy, until


def guest(slot: int, pin: str, expect: ObservedSlot | None = None) -> SetSlot:
    return SetSlot(slot=slot, code=pin, name="Guest", expect=expect)


# -- discovery ---------------------------------------------------------------------------------


def test_discovery_lists_the_pin_locks_with_their_slot_counts_and_masking(base_topic: str) -> None:
    async def scenario() -> None:
        locks = {"front_door": "99100-045", "back_door": "YRD226HA2619"}
        options = {"back_door": {"expose_pin": False}}
        async with rig(base_topic, locks, lock_options=options) as w:
            found = {d.name: d for d in await w.account.discover()}
            assert set(found) == {"front_door", "back_door"}  # not the coordinator
            front, back = found["front_door"], found["back_door"]
            assert (front.brand, front.manufacturer, front.model) == (
                "zigbee_lock",
                "Kwikset",
                "99100-045",
            )
            assert front.lock_ref == w.ref("front_door")
            assert (front.capabilities.slot_count, back.capabilities.slot_count) == (29, 249)
            assert front.capabilities.pins_readable and not back.capabilities.pins_readable
            assert not front.capabilities.native_scheduling

    run(scenario())


def test_locks_joining_leaving_and_renamed_are_pushed(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w:
            await w.account.discover()
            await w.emulator.add_lock("side_door", "BE468")
            await w.event(LockEventKind.LOCK_ADDED, "side_door")
            ref = w.ref("side_door")
            await w.emulator.rename_lock("side_door", "patio_door")
            renamed = await w.event(
                LockEventKind.LOCK_ADDED,
                "patio_door",
                detail={"name": "patio_door", "renamed_from": "side_door"},
            )
            assert renamed.lock_ref == ref
            await w.emulator.remove_lock("patio_door")
            await until(
                lambda: any(
                    e.kind is LockEventKind.LOCK_REMOVED and e.lock_ref == ref for e in w.events
                )
            )
            assert [d.name for d in await w.account.discover()] == ["front_door"]

    run(scenario())


# -- reading and writing -------------------------------------------------------------------------


def test_a_set_code_is_confirmed_by_reading_it_back(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w, spy(base_topic) as seen:
            lock = await w.lock("front_door")
            result = await lock.write(NOW, guest(3, "0427"))
            assert result.outcome is Outcome.CONFIRMED
            assert w.emulator.lock("front_door").physical_codes() == {3: "0427"}
            sent = seen.on(f"{base_topic}/front_door/set")
            # The PIN goes as a string, so its leading zero survives.
            assert sent == [
                {
                    "pin_code": {
                        "user": 3,
                        "user_type": "unrestricted",
                        "user_enabled": True,
                        "pin_code": "0427",
                    }
                }
            ]

    run(scenario())


def test_read_returns_every_occupied_slot_and_nothing_else(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w:
            await w.emulator.keypad_program("front_door", 2, "1111")
            await w.emulator.keypad_program("front_door", 29, "2222")
            lock = await w.lock("front_door")
            observed = await lock.read(NOW)
            assert observed.read_at == NOW
            assert observed.slots == (ObservedSlot(2, "1111"), ObservedSlot(29, "2222"))

    run(scenario())


def test_clearing_is_confirmed_and_an_empty_slot_needs_no_write(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w, spy(base_topic) as seen:
            await w.emulator.keypad_program("front_door", 4, "5150")
            lock = await w.lock("front_door")
            result = await lock.write(NOW, ClearSlot(4, expect=ObservedSlot(4, "5150")))
            assert result.outcome is Outcome.CONFIRMED
            assert w.emulator.lock("front_door").physical_codes() == {}
            assert seen.on(f"{base_topic}/front_door/set") == [
                {"pin_code": {"user": 4, "user_enabled": False, "pin_code": None}}
            ]
            again = await lock.write(NOW, ClearSlot(4, expect=None))
            assert again.outcome is Outcome.CONFIRMED
            assert len(seen.on(f"{base_topic}/front_door/set")) == 1

    run(scenario())


def test_a_cleared_slot_reads_empty_although_zigbee2mqtt_keeps_its_old_pin(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w:
            lock = await w.lock("front_door")
            await lock.write(NOW, guest(6, "8080"))
            await lock.write(NOW, ClearSlot(6, expect=ObservedSlot(6, "8080")))
            # Zigbee2MQTT's deep-merged cache still carries the PIN beside `available`.
            cached = w.account.feeds.feed("front_door").state or {}
            assert cached["users"]["6"] == {"status": "available", "pin_code": "8080"}
            assert (await lock.read(NOW)).slots == ()

    run(scenario())


def test_a_slot_changed_at_the_keypad_since_the_plan_is_stale_and_not_written(
    base_topic: str,
) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w, spy(base_topic) as seen:
            lock = await w.lock("front_door")
            planned_empty = guest(5, "2468", expect=None)
            await w.emulator.keypad_program("front_door", 5, "1357")  # between plan and write
            result = await lock.write(NOW, planned_empty)
            assert result.outcome is Outcome.STALE
            assert result.found == ObservedSlot(5, "1357")
            assert w.emulator.lock("front_door").physical_codes() == {5: "1357"}
            assert seen.on(f"{base_topic}/front_door/set") == []
            stale_clear = await lock.write(NOW, ClearSlot(5, expect=ObservedSlot(5, "9999")))
            assert stale_clear.outcome is Outcome.STALE

    run(scenario())


def test_a_masked_lock_reads_pins_as_unknown_and_confirms_a_write_to_an_empty_slot(
    base_topic: str,
) -> None:
    async def scenario() -> None:
        options = {"front_door": {"expose_pin": False}}
        async with rig(base_topic, lock_options=options) as w:
            await w.emulator.keypad_program("front_door", 2, "4444")
            lock = await w.lock("front_door")
            assert (await lock.read(NOW)).slots == (ObservedSlot(2, None),)
            assert (await lock.write(NOW, guest(3, "7777"))).outcome is Outcome.CONFIRMED
            # A masked slot matches whatever PIN the plan saw there.
            overwrite = await lock.write(NOW, guest(3, "7878", expect=ObservedSlot(3, "7777")))
            assert overwrite.outcome is Outcome.ACCEPTED_UNCONFIRMED  # masked: cannot tell
            assert w.emulator.lock("front_door").physical_codes() == {2: "4444", 3: "7878"}

    run(scenario())


def test_a_dropped_set_is_accepted_but_not_confirmed(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w:
            lock = await w.lock("front_door")
            await w.emulator.drop_sets("front_door", 1)  # a sleepy lock drops it (Z2M #32289)
            result = await lock.write(NOW, guest(7, "3141"))
            assert result.outcome is Outcome.ACCEPTED_UNCONFIRMED
            assert w.emulator.lock("front_door").physical_codes() == {}
            retry = await lock.write(NOW, guest(7, "3141"))
            assert retry.outcome is Outcome.CONFIRMED

    run(scenario())


def test_a_duplicate_pin_is_refused_as_a_duplicate(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w:
            lock = await w.lock("front_door")
            await w.emulator.keypad_program("front_door", 1, "2580")
            await lock.read(NOW)
            result = await lock.write(NOW, guest(8, "2580"))
            assert (result.outcome, result.issue_code, result.terminal) == (
                Outcome.REJECTED,
                "duplicate_code_on_device",
                True,
            )
            assert w.emulator.lock("front_door").physical_codes() == {1: "2580"}

    run(scenario())


# -- refusals ---------------------------------------------------------------------------------------


def test_zigbee2mqtt_refusing_a_user_beyond_the_lock_is_a_terminal_rejection(
    base_topic: str,
) -> None:
    async def scenario() -> None:
        async with rig(base_topic, {"front_door": "YRD226HA2619"}) as w:
            await w.account.discover()
            # The account believes a Yale has 249 slots; this one holds only 30 users.
            small = w.emulator.lock("front_door")
            small.model = replace(small.model, pin_code_count=30)
            lock = await w.lock("front_door")
            result = await lock.write(NOW, guest(120, "1234"))
            assert (result.outcome, result.issue_code, result.terminal) == (
                Outcome.REJECTED,
                "no_space_for_access_code_on_device",
                True,
            )
            assert "1234" not in result.message

    run(scenario())


def test_a_pin_that_is_not_digits_is_refused_before_anything_is_sent(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w, spy(base_topic) as seen:
            lock = await w.lock("front_door")
            result = await lock.write(NOW, guest(3, "12a4"))
            assert (result.outcome, result.terminal) == (Outcome.REJECTED, True)
            assert seen.on(f"{base_topic}/front_door/set") == []

    run(scenario())


# -- events -------------------------------------------------------------------------------------------


def test_a_keypad_unlock_is_attributed_to_its_slot(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w:
            lock = await w.lock("front_door")
            await lock.write(NOW, guest(3, "4821"))
            await w.emulator.keypad_enter("front_door", "4821")
            event = await w.event(LockEventKind.UNLOCKED, "front_door")
            assert (event.slot, event.method) == (3, "keypad")
            await w.emulator.keypad_enter("front_door", "0000")
            denied = await w.event(LockEventKind.ACCESS_DENIED, "front_door")
            assert denied.slot is None

    run(scenario())


def test_a_keypad_unlock_action_with_its_user_is_attributed(base_topic: str) -> None:
    """Vendor converters (Onesti/Nimly, Yale C4) name it `keypad_unlock`."""

    async def scenario() -> None:
        async with rig(base_topic) as w:
            await w.account.discover()
            state = {"action": "keypad_unlock", "action_user": 12, "battery": 80, "state": "UNLOCK"}
            async with aiomqtt.Client(BROKER_HOST, BROKER_PORT) as client:
                await client.publish(f"{base_topic}/front_door", json.dumps(state))
            event = await w.event(LockEventKind.UNLOCKED, "front_door")
            assert (event.slot, event.method) == (12, "keypad")

    run(scenario())


def test_codes_programmed_at_the_keypad_mark_their_slot_changed(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w:
            await w.account.discover()
            await w.emulator.keypad_program("front_door", 9, "1212")
            await w.event(LockEventKind.SLOT_CHANGED, "front_door", slot=9, method="keypad")
            await w.emulator.keypad_program("front_door", 9, "3434")
            await w.emulator.keypad_delete("front_door", 9)
            await until(
                lambda: len([e for e in w.events if e.kind is LockEventKind.SLOT_CHANGED]) == 3
            )
            assert all(e.detail == {} for e in w.events)  # never a PIN

    run(scenario())


def test_a_republished_identical_state_is_no_change(base_topic: str) -> None:
    """Zigbee2MQTT republishes its whole cache on every report (lock_code_manager #1335)."""

    async def scenario() -> None:
        async with rig(base_topic) as w:
            lock = await w.lock("front_door")
            await lock.write(NOW, guest(3, "4821"))
            await lock.set_locked(NOW, True)  # more republishes of the same users
            await lock.read(NOW)
            assert [e for e in w.events if e.kind is LockEventKind.SLOT_CHANGED] == []

    run(scenario())


def test_availability_makes_the_lock_offline_and_online(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w:
            lock = await w.lock("front_door")
            await w.emulator.go_offline("front_door")
            await w.event(LockEventKind.OFFLINE, "front_door")
            with pytest.raises(DeviceUnreachable) as raised:
                await lock.read(NOW)
            assert raised.value.issue_code == "device_offline"
            offline_write = await lock.write(NOW, guest(3, "4821"))
            assert (offline_write.outcome, offline_write.issue_code) == (
                Outcome.UNREACHABLE,
                "device_offline",
            )
            await w.emulator.go_online("front_door")
            await w.event(LockEventKind.ONLINE, "front_door")
            assert (await lock.write(NOW, guest(3, "4821"))).outcome is Outcome.CONFIRMED

    run(scenario())


def test_a_lock_that_does_not_answer_is_unreachable(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w:
            lock = await w.lock("front_door")
            await w.emulator.go_offline("front_door", announce=False)  # asleep, still "online"
            result = await lock.write(NOW, guest(3, "4821"))
            assert (result.outcome, result.issue_code) == (Outcome.UNREACHABLE, "device_offline")
            assert "4821" not in result.message
            with pytest.raises(DeviceUnreachable):
                await lock.read(NOW)

    run(scenario())


# -- the door ------------------------------------------------------------------------------------------


def test_lock_and_unlock_are_confirmed_when_the_lock_reports_them(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w, spy(base_topic) as seen:
            lock = await w.lock("front_door")
            assert (await lock.set_locked(NOW, False)).outcome is Outcome.CONFIRMED
            assert not w.emulator.lock("front_door").locked
            assert (await lock.set_locked(NOW, True)).outcome is Outcome.CONFIRMED
            assert w.emulator.lock("front_door").locked
            assert seen.on(f"{base_topic}/front_door/set") == [
                {"state": "UNLOCK"},
                {"state": "LOCK"},
            ]

    run(scenario())


def test_locking_a_lock_that_does_not_answer_is_unreachable(base_topic: str) -> None:
    async def scenario() -> None:
        async with rig(base_topic) as w:
            lock = await w.lock("front_door")
            await w.emulator.go_offline("front_door", announce=False)
            assert (await lock.set_locked(NOW, False)).outcome is Outcome.UNREACHABLE

    run(scenario())
