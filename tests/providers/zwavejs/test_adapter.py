"""The Z-Wave JS adapter on the real Z-Wave JS stack: what is particular to Z-Wave locks.

Each test takes one mock lock (locks.cjs), emptied, and drives it through a `zwave_js` account as
the engine would; the control channel plays the person at the lock and the radio. Nodes 2 and 3
are User Code v1 locks, node 4 a v2 lock under Supervision.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from emulators.zwave.stack import ZwaveStack

from pinwarden.domain.model import ObservedSlot
from pinwarden.providers.base import (
    AccountUnavailable,
    DeviceUnreachable,
    LockEventKind,
    Outcome,
    SetSlot,
)
from pinwarden.providers.zwavejs.reports import REREAD_AFTER
from tests.providers.contract import NOW, WAIT, codes, eventually
from tests.providers.zwavejs.conftest import one_lock, opened_account

pytestmark = pytest.mark.xdist_group("zwave")


# -- discovery ------------------------------------------------------------------------------------


async def test_discovery_lists_every_node_with_user_code_cc(zwave_stack: ZwaveStack) -> None:
    async with opened_account(zwave_stack) as opened:
        found = {lock.lock_ref: lock for lock in await opened.account.discover()}
    assert set(found) == {str(n["node"]) for n in zwave_stack.nodes()}  # not the controller
    first = found["2"]
    assert first.name == "Mock lock 1"
    assert first.brand == "zwave_lock"
    assert first.capabilities.slot_count == zwave_stack.slots_per_lock  # from User Code CC
    assert first.capabilities.native_scheduling is False
    assert first.capabilities.supported_code_lengths == tuple(range(4, 11))


# -- writes --------------------------------------------------------------------------------------


async def test_an_unsupervised_set_is_confirmed_by_a_fresh_read(zwave_stack: ZwaveStack) -> None:
    async with one_lock(zwave_stack, "v1") as v1:
        result = await v1.lock.write(NOW, SetSlot(1, "4821", "Guest", expect=None))
        # The lock only acknowledged the frame (no Supervision); the read proved it.
        assert result.outcome is Outcome.CONFIRMED
        assert await v1.on_lock() == {1: "4821"}


async def test_a_supervised_set_is_confirmed(zwave_stack: ZwaveStack) -> None:
    async with one_lock(zwave_stack, "v2") as v2:
        result = await v2.lock.write(NOW, SetSlot(1, "4821", "Guest", expect=None))
        assert result.outcome is Outcome.CONFIRMED
        assert await v2.on_lock() == {1: "4821"}


async def test_a_code_is_changed_in_place_when_the_slot_holds_what_the_plan_saw(
    zwave_stack: ZwaveStack,
) -> None:
    async with one_lock(zwave_stack, "v1") as v1:
        await v1.control("keypad_program", 2, "1111")
        changed = SetSlot(2, "2222", None, expect=ObservedSlot(2, "1111"))
        assert (await v1.lock.write(NOW, changed)).outcome is Outcome.CONFIRMED
        assert await v1.on_lock() == {2: "2222"}


@pytest.mark.parametrize("kind", ["v1", "v2"])
async def test_a_duplicate_pin_is_refused_for_good(kind: str, zwave_stack: ZwaveStack) -> None:
    async with one_lock(zwave_stack, kind) as one:
        await one.control("keypad_program", 3, "5555")  # someone's own code, set at the lock
        before = len(one.events.events)
        result = await one.lock.write(NOW, SetSlot(4, "5555", "Guest", expect=None))
        assert result.outcome is Outcome.REJECTED
        assert result.issue_code == "duplicate_code_on_device"
        assert result.terminal
        assert await one.on_lock() == {3: "5555"}
        refused = await one.events.wait_for(
            LockEventKind.DUPLICATE_REFUSED, one.ref, slot=4, after=before
        )
        assert refused.detail["zwave_event"] == 15


async def test_a_pin_no_keypad_takes_is_refused_without_sending_it(zwave_stack: ZwaveStack) -> None:
    async with one_lock(zwave_stack, "v1") as v1:
        for pin in ("123", "12345678901", "12a4"):
            result = await v1.lock.write(NOW, SetSlot(1, pin, None, expect=None))
            assert (result.outcome, result.terminal) == (Outcome.REJECTED, True)
            assert result.issue_code == "failed_to_set_on_device"
            assert pin not in result.message
        assert await v1.on_lock() == {}


# -- masked PINs ---------------------------------------------------------------------------------


async def test_a_masking_lock_reads_as_unknown_pins_and_its_writes_still_confirm(
    zwave_stack: ZwaveStack,
) -> None:
    async with one_lock(zwave_stack, "v1") as v1:
        await v1.control("configure", masked=True)
        await v1.control("keypad_program", 5, "9090")
        seen = await v1.lock.read(NOW)
        assert seen.slots == (ObservedSlot(5, None),)  # masked: never a guessed PIN
        result = await v1.lock.write(NOW, SetSlot(6, "3141", "Guest", expect=None))
        assert result.outcome is Outcome.CONFIRMED  # an empty slot now holds a code
        assert codes(await v1.lock.read(NOW)) == {5: None, 6: None}
        # A masked slot matches whatever the plan expected there, so a change goes ahead.
        change = SetSlot(6, "2718", None, expect=ObservedSlot(6, "3141"))
        changed = await v1.lock.write(NOW, change)
        assert changed.outcome in (Outcome.CONFIRMED, Outcome.ACCEPTED_UNCONFIRMED)
        assert (await v1.on_lock())[6] == "2718"


# -- reading a lock without asking every slot every time --------------------------------------------


async def test_a_lock_read_in_full_is_then_known_from_its_reports_until_a_keypad_change(
    zwave_stack: ZwaveStack,
) -> None:
    async with one_lock(zwave_stack, "v1") as v1:

        async def gets() -> int:
            return int((await v1.control("describe"))["user_code_gets"])

        slots = zwave_stack.slots_per_lock
        assert (await v1.lock.write(NOW, SetSlot(1, "4821", "Guest", expect=None))).outcome is (
            Outcome.CONFIRMED
        )
        before = await gets()
        assert codes(await v1.lock.read(NOW)) == {1: "4821"}
        assert await gets() == before + slots  # the first read asks every slot
        # Known now: a new code costs its own write's reads, not a full read each plan.
        await v1.lock.write(NOW, SetSlot(2, "5932", "Guest 2", expect=None))
        before = await gets()
        assert codes(await v1.lock.read(NOW + timedelta(minutes=1))) == {1: "4821", 2: "5932"}
        assert await gets() == before
        # A code programmed at the keypad: the lock is read in full again, and shows it.
        mark = len(v1.events.events)
        await v1.control("keypad_program", 5, "7070")
        await v1.events.wait_for(LockEventKind.SLOT_CHANGED, v1.ref, slot=5, after=mark)
        before = await gets()
        seen = codes(await v1.lock.read(NOW + timedelta(minutes=2)))
        assert seen == {1: "4821", 2: "5932", 5: "7070"}
        assert await gets() == before + slots


async def test_a_lock_that_changes_without_telling_is_read_in_full_again_in_time(
    zwave_stack: ZwaveStack,
) -> None:
    async with one_lock(zwave_stack, "v1") as v1:
        await v1.lock.write(NOW, SetSlot(3, "2468", "Guest", expect=None))
        await v1.lock.write(NOW, SetSlot(4, "1357", "Staff", expect=None))
        assert codes(await v1.lock.read(NOW)) == {3: "2468", 4: "1357"}
        await v1.control("reset")  # emptied with no report and no notification
        later = NOW + REREAD_AFTER - timedelta(seconds=1)
        assert codes(await v1.lock.read(later)) == {3: "2468", 4: "1357"}  # not seen yet
        # A write never trusts what it last heard: it reads its slot first, and learns.
        result = await v1.lock.write(later, SetSlot(3, "9753", "Guest", ObservedSlot(3, "2468")))
        assert result.outcome is Outcome.STALE
        assert codes(await v1.lock.read(later)) == {4: "1357"}
        # And the whole lock is read again no later than REREAD_AFTER after its full read.
        assert codes(await v1.lock.read(NOW + REREAD_AFTER)) == {}


# -- events --------------------------------------------------------------------------------------


async def test_a_keypad_unlock_is_attributed_to_its_slot(zwave_stack: ZwaveStack) -> None:
    async with one_lock(zwave_stack, "v1") as v1:
        await v1.lock.write(NOW, SetSlot(7, "8080", "Guest", expect=None))
        before = len(v1.events.events)
        assert await v1.control("keypad_enter", "8080") == {"opened": True, "slot": 7}
        unlocked = await v1.events.wait_for(LockEventKind.UNLOCKED, v1.ref, after=before)
        assert (unlocked.slot, unlocked.method) == (7, "keypad")


async def test_codes_added_changed_and_deleted_at_the_keypad_make_the_lock_due(
    zwave_stack: ZwaveStack,
) -> None:
    async with one_lock(zwave_stack, "v1") as v1:
        for action, args in (
            ("keypad_program", (8, "1212")),  # added
            ("keypad_program", (8, "3434")),  # changed
            ("keypad_delete", (8,)),  # deleted
        ):
            before = len(v1.events.events)
            await v1.control(action, *args)
            changed = await v1.events.wait_for(
                LockEventKind.SLOT_CHANGED, v1.ref, slot=8, after=before
            )
            assert changed.method == "keypad"
        assert 8 not in codes(await v1.lock.read(NOW))


# -- door control --------------------------------------------------------------------------------


async def test_lock_and_unlock_are_confirmed_by_the_lock(zwave_stack: ZwaveStack) -> None:
    async with one_lock(zwave_stack, "v1") as v1:
        assert (await v1.lock.set_locked(NOW, False)).outcome is Outcome.CONFIRMED
        assert zwave_stack.describe(v1.node)["locked"] is False
        assert (await v1.lock.set_locked(NOW, True)).outcome is Outcome.CONFIRMED
        assert zwave_stack.describe(v1.node)["locked"] is True


async def test_locking_at_the_keypad_is_reported(zwave_stack: ZwaveStack) -> None:
    async with one_lock(zwave_stack, "v1") as v1:
        before = len(v1.events.events)
        await v1.control("keypad_lock")
        locked = await v1.events.wait_for(LockEventKind.LOCKED, v1.ref, after=before)
        assert locked.method == "keypad"


# -- a lock that stops answering -------------------------------------------------------------------


async def test_a_dead_lock_is_unreachable_gets_nothing_queued_and_comes_back(
    zwave_stack: ZwaveStack,
) -> None:
    async with one_lock(zwave_stack, "v1", index=1) as spare:
        before = len(spare.events.events)
        await spare.control("configure", dead=True)
        # zwave-js finds out on the first command that gets no acknowledgement.
        first = await spare.lock.write(NOW, SetSlot(1, "6543", "Guest", expect=None))
        assert (first.outcome, first.issue_code) == (Outcome.UNREACHABLE, "device_offline")
        await spare.events.wait_for(LockEventKind.OFFLINE, spare.ref, after=before)
        # Now known dead: refused at once, and never handed to zwave-js to deliver later.
        again = await spare.lock.write(NOW, SetSlot(1, "6543", "Guest", expect=None))
        assert again.outcome is Outcome.UNREACHABLE
        with pytest.raises(DeviceUnreachable) as unreachable:
            await spare.lock.read(NOW)
        assert unreachable.value.issue_code == "device_offline"

        before = len(spare.events.events)
        await spare.control("configure", dead=False)
        await spare.events.wait_for(LockEventKind.ONLINE, spare.ref, after=before)
        assert await spare.on_lock() == {}  # nothing queued was delivered on its return
        result = await spare.lock.write(NOW, SetSlot(1, "6543", "Guest", expect=None))
        assert result.outcome is Outcome.CONFIRMED


# -- the server goes away --------------------------------------------------------------------------


async def test_a_server_restart_mid_write_is_no_failure_and_the_account_reconnects(
    zwave_stack: ZwaveStack,
) -> None:
    async with one_lock(zwave_stack, "v1", index=1) as spare:
        account, events = spare.opened.account, spare.events
        await spare.control("configure", delay_ms=3000)  # reads take 3 s: time to pull the plug
        write = asyncio.create_task(spare.lock.write(NOW, SetSlot(2, "7373", "Guest", expect=None)))
        # The set has landed on the lock; the write is reading the slot back when the server goes.
        await eventually(spare.on_lock, lambda slots: slots.get(2) == "7373")
        await asyncio.to_thread(zwave_stack.stop_server)
        with pytest.raises(AccountUnavailable):
            await write  # pinwarden lost the server: not the lock's failure, not the code's
        assert not account.connected
        with pytest.raises(AccountUnavailable):
            await spare.lock.read(NOW)
        with pytest.raises(AccountUnavailable):
            await spare.lock.write(NOW, SetSlot(3, "1000", None, expect=None))

        before = len(events.events)
        await asyncio.to_thread(zwave_stack.start_server)
        await spare.control("configure", delay_ms=0)

        async def connected() -> bool:
            return account.connected

        await eventually(connected, bool, timeout=WAIT * 2)  # reconnected on its own
        # ... and made every lock due: whatever happened meanwhile, the engine looks again.
        await events.wait_for(LockEventKind.ONLINE, spare.ref, after=before)
        # The engine re-reads, sees its code, and the write it repeats is confirmed.
        assert codes(await spare.lock.read(NOW)) == {2: "7373"}
        repeat = SetSlot(2, "7373", "Guest", expect=ObservedSlot(2, "7373"))
        assert (await spare.lock.write(NOW, repeat)).outcome is Outcome.CONFIRMED


# -- secrets -------------------------------------------------------------------------------------


async def test_no_pin_reaches_a_log_line(
    zwave_stack: ZwaveStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with one_lock(zwave_stack, "v1") as v1:
        await v1.control("keypad_program", 9, "86420")
        await v1.lock.write(NOW, SetSlot(10, "86420", "Guest", expect=None))  # a duplicate
        await v1.lock.write(NOW, SetSlot(11, "97531", "Guest", expect=None))
        await v1.lock.read(NOW)
    assert any("writing slot 11" in r.getMessage() for r in caplog.records)  # DEBUG is captured
    for record in caplog.records:
        text = record.getMessage()
        assert "86420" not in text and "97531" not in text, record.name
    # The client library logs whole messages at DEBUG; its logger stays at INFO.
    assert logging.getLogger("zwave_js_server").getEffectiveLevel() == logging.INFO
