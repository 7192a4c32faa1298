"""One Zigbee2MQTT keypad lock: read its slots, write one, lock and unlock the door.

Zigbee2MQTT acknowledges nothing, so every answer here comes from reading: a slot is read
with `/get` and its answer is the next state message that carries it (or a refusal in
`bridge/logging`). A write reads the slot first (STALE if it no longer holds what the plan
saw), sends the set, and reads the slot back: confirmed if it shows the write, accepted but
unconfirmed otherwise (a sleepy lock may apply it later, or never: the engine reads again).
Slots are Zigbee user ids 1 .. pinCodeCount-1.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pinwarden.domain.model import Capabilities, Observation, ObservedSlot
from pinwarden.providers.base import (
    ClearSlot,
    Command,
    DeviceUnreachable,
    SetSlot,
    WriteResult,
    slot_matches,
)
from pinwarden.providers.zigbee2mqtt import payloads

if TYPE_CHECKING:
    from pinwarden.providers.zigbee2mqtt.account import Zigbee2MQTTAccount

log = logging.getLogger(__name__)

OFFLINE = "device_offline"
DOOR_WAIT = 10.0  # seconds for a lock to report its new state before it is asked


class _Refused(Exception):
    def __init__(self, refusal: payloads.Refusal) -> None:
        super().__init__(refusal.reason)
        self.reason = refusal.reason


class _NoAnswer(Exception):
    pass


class Zigbee2MQTTLock:
    def __init__(self, account: Zigbee2MQTTAccount, ieee: str, capabilities: Capabilities) -> None:
        self._account = account
        self._ieee = ieee
        self._caps = capabilities

    @property
    def ref(self) -> str:
        return self._ieee

    # -- reading -----------------------------------------------------------------------------

    async def read(self, at: datetime) -> Observation:
        name = self._name_or_raise()
        slots = []
        for slot in range(1, self._caps.slot_count + 1):
            try:
                seen = await self._read_slot(name, slot)
            except _Refused as exc:
                if exc.reason != "out_of_range":
                    raise DeviceUnreachable(OFFLINE, f"the lock {name!r} did not answer") from exc
                log.warning(
                    "zigbee2mqtt: %r has fewer users than its model's; read %d", name, slot - 1
                )
                break
            except _NoAnswer as exc:
                raise DeviceUnreachable(
                    OFFLINE, f"the lock {name!r} did not answer a read"
                ) from exc
            if seen is not None:
                slots.append(seen)
        return Observation(read_at=at, slots=tuple(slots))

    async def _read_slot(self, name: str, slot: int) -> ObservedSlot | None:
        """Ask Zigbee2MQTT for one user; its answer is the next state message carrying it."""
        account, feed = self._account, self._account.feeds.feed(name)
        seq, refusals = feed.seq, account.feeds.refusal_seq
        feed.reading.add(slot)
        try:
            await account.send(name, "get", payloads.get_pin(slot))
            answer = await account.wait_for(
                lambda: self._answer(name, slot, seq, refusals), account.broker.response_timeout
            )
        finally:
            feed.reading.discard(slot)
        if answer is None:
            raise _NoAnswer(slot)
        if isinstance(answer, payloads.Refusal):
            raise _Refused(answer)
        trusted = account.feeds.expose_pin.get(self._ieee, True)
        return payloads.observed_slot(slot, answer[0], pins_trusted=trusted)

    def _answer(self, name: str, slot: int, seq: int, refusals: int) -> Any:
        refusal = self._account.feeds.refusal_since(refusals, name)
        if refusal is not None:
            return refusal
        feed = self._account.feeds.feed(name)
        users = payloads.users_of(feed.state or {})
        return (users[slot],) if feed.seq > seq and slot in users else None

    # -- writing -----------------------------------------------------------------------------

    async def write(self, at: datetime, command: Command) -> WriteResult:
        device = self._account.device(self._ieee)
        if device is None:
            return WriteResult.unreachable(OFFLINE, "Zigbee2MQTT no longer lists this lock")
        refused = self._refuse(command)
        if refused is not None:
            return refused
        if self._account.feeds.feed(device.name).available is False:
            return WriteResult.unreachable(
                OFFLINE, f"Zigbee2MQTT reports the lock {device.name!r} offline"
            )
        try:
            return await self._write(device.name, command)
        except _NoAnswer:
            return WriteResult.unreachable(OFFLINE, f"the lock {device.name!r} did not answer")
        except _Refused as exc:
            return _refusal_result(exc.reason)

    def _refuse(self, command: Command) -> WriteResult | None:
        """What is refused before anything is sent (a PIN never goes out that the lock
        cannot take; a slot outside the lock's users)."""
        if not 1 <= command.slot <= self._caps.slot_count:
            return WriteResult.rejected(
                "no_space_for_access_code_on_device",
                f"slot {command.slot} is not one of this lock's",
                terminal=True,
            )
        if isinstance(command, SetSlot) and not (command.code and command.code.isdigit()):
            return WriteResult.rejected(
                "failed_to_set_on_device", "a Zigbee lock takes PINs of digits only", terminal=True
            )
        return None

    async def _write(self, name: str, command: Command) -> WriteResult:
        seen = await self._read_slot(name, command.slot)
        if not slot_matches(seen, command.expect):
            return WriteResult.stale(seen)
        if isinstance(command, ClearSlot) and seen is None:
            return WriteResult.confirmed()
        refusals = self._account.feeds.refusal_seq
        if isinstance(command, SetSlot):
            assert command.code is not None
            await self._account.send(name, "set", payloads.set_pin(command.slot, command.code))
        else:
            await self._account.send(name, "set", payloads.clear_pin(command.slot))
        log.info("zigbee2mqtt: sent %s of slot %d to %r", _verb(command), command.slot, name)
        try:
            after = await self._read_slot(name, command.slot)
        except _NoAnswer:
            return WriteResult.unconfirmed()  # sent; the lock may still apply it
        refusal = self._account.feeds.refusal_since(refusals, name)
        if refusal is not None:
            return _refusal_result(refusal.reason)
        return self._judge(name, command, seen, after)

    def _judge(
        self, name: str, command: Command, seen: ObservedSlot | None, after: ObservedSlot | None
    ) -> WriteResult:
        if isinstance(command, ClearSlot):
            return WriteResult.confirmed() if after is None else WriteResult.unconfirmed()
        if after is not None and after.code == command.code:
            return WriteResult.confirmed()
        if after is not None and after.code is None and seen is None:
            return WriteResult.confirmed()  # masked: the empty slot now holds a code
        if self._held_elsewhere(name, command):
            return WriteResult.rejected(
                "duplicate_code_on_device", "another slot of the lock has this PIN", terminal=True
            )
        return WriteResult.unconfirmed()

    def _held_elsewhere(self, name: str, command: SetSlot) -> bool:
        """The lock refuses a PIN another user has, and Zigbee2MQTT says nothing: the cached
        state of the other slots (as last read) is the only witness."""
        if not self._account.feeds.expose_pin.get(self._ieee, True):
            return False
        state = self._account.feeds.feed(name).state or {}
        others = (
            payloads.observed_slot(user, entry, pins_trusted=True)
            for user, entry in payloads.users_of(state).items()
            if user != command.slot
        )
        return any(o is not None and o.code == command.code for o in others)

    # -- the door ----------------------------------------------------------------------------

    async def set_locked(self, at: datetime, locked: bool) -> WriteResult:
        device = self._account.device(self._ieee)
        if device is None or self._account.feeds.feed(device.name).available is False:
            return WriteResult.unreachable(OFFLINE, "the lock is offline")
        want = payloads.set_door(locked)["state"]
        for verb, message in (("set", payloads.set_door(locked)), ("get", {"state": ""})):
            reported = await self._door_round(device.name, verb, message, want)
            if isinstance(reported, payloads.Refusal):
                return _refusal_result(reported.reason)
            if reported:
                return WriteResult.confirmed()
        return WriteResult.unconfirmed()

    async def _door_round(self, name: str, verb: str, message: dict[str, Any], want: str) -> Any:
        """Send one door command or read; the lock's report of `want`, a refusal, or None."""
        seq, refusals = self._account.feeds.feed(name).seq, self._account.feeds.refusal_seq
        await self._account.send(name, verb, message)
        return await self._account.wait_for(
            lambda: self._door_answer(name, seq, refusals, want), DOOR_WAIT
        )

    def _door_answer(self, name: str, seq: int, refusals: int, want: str) -> Any:
        refusal = self._account.feeds.refusal_since(refusals, name)
        if refusal is not None:
            return refusal
        feed = self._account.feeds.feed(name)
        return True if feed.seq > seq and (feed.state or {}).get("state") == want else None

    def _name_or_raise(self) -> str:
        device = self._account.device(self._ieee)
        self._account.session()
        if device is None:
            raise DeviceUnreachable(OFFLINE, "Zigbee2MQTT no longer lists this lock")
        if self._account.feeds.feed(device.name).available is False:
            raise DeviceUnreachable(
                OFFLINE, f"Zigbee2MQTT reports the lock {device.name!r} offline"
            )
        return device.name


def _verb(command: Command) -> str:
    return "a set" if isinstance(command, SetSlot) else "a clear"


def _refusal_result(reason: str) -> WriteResult:
    if reason == "no_answer":
        return WriteResult.unreachable(OFFLINE, "the lock did not answer Zigbee2MQTT")
    if reason == "out_of_range":
        return WriteResult.rejected(
            "no_space_for_access_code_on_device",
            "Zigbee2MQTT refused the slot: it is beyond this lock's users",
            terminal=True,
        )
    return WriteResult.rejected(
        "failed_to_set_on_device", "Zigbee2MQTT refused the command's values", terminal=True
    )
