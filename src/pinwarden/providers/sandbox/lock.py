"""SandboxLock: an in-process simulator of one physical lock, with its brand's rules and failures.

The whole lock is `lock.state`, a JSON-serialisable dict: persist it, then rebuild the lock with
`SandboxLock(brand, state)`. Time only comes in as `now`; writes delayed by
`programming_delay_seconds` wait in `state["pending"]` and land on the first call whose `now` has
reached them. Each command's `now` is kept as `state["last_command_at"]`: the engine paces the
next one from it, and with the `drop_rushed_commands` fault a command sooner than the brand's
`min_command_interval_seconds` after it is dropped. Brand differences come from the catalog
profile and the brand's `SandboxQuirks`.

Slots: the brand's own codes (SmartThings) sit in the top `reserved_slots` slots, are never
reported by `read_codes` and cannot be written or removed; the engine uses slots
1..`slot_count - reserved_slots`.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from pinwarden.catalog.brands import BrandProfile, brand_profile
from pinwarden.domain.codes import generate_code
from pinwarden.domain.model import Capabilities, Observation, ObservedSlot, Window
from pinwarden.providers.base import DeviceUnreachable, WriteResult
from pinwarden.providers.sandbox import refusals
from pinwarden.providers.sandbox.faults import FAULT_DEFAULTS, validated_faults
from pinwarden.providers.sandbox.registry import quirks_for
from pinwarden.providers.sandbox.slots import SlotTable, iso, make_entry, when

State = dict[str, Any]


def _copy(state: State) -> State:
    """A deep copy; the state is plain JSON, so a round trip through orjson is the fast one."""
    copied: State = orjson.loads(orjson.dumps(state))
    return copied


def _check_keypad_pin(code: str) -> None:
    """What any keypad accepts (Seam's simulate endpoint: 4-8 digits)."""
    if not (code.isascii() and code.isdigit() and 4 <= len(code) <= 8):
        raise ValueError(f"code must be 4 to 8 digits; got {code!r}")


class SandboxLock:
    """One simulated lock: the lock's own behaviour and the simulation controls. The engine
    reaches it through the sandbox account (`account.py`), like any other lock."""

    def __init__(self, profile: BrandProfile | str, state: State) -> None:
        self.profile = brand_profile(profile) if isinstance(profile, str) else profile
        if state.get("brand") != self.profile.brand:
            raise ValueError(
                f"state belongs to a {state.get('brand')!r} lock, not {self.profile.brand!r}"
            )
        self._quirks = quirks_for(self.profile.brand)
        self._state = _copy(state)
        self._faults: dict[str, Any] = {**FAULT_DEFAULTS, **self._state.get("faults", {})}
        self._state["faults"] = self._faults
        self._slots = SlotTable(self._state)

    @classmethod
    def new(cls, brand: str, rng_seed: int) -> SandboxLock:
        """A factory-fresh lock; SmartThings gets its own codes, Schlage a programming code."""
        fresh = {"brand": brand, "seed": rng_seed, "draws": 0, "online": True}
        lock = cls(brand, {**fresh, "programming_code": None, "third_party_wrote": False})
        lock._install_own_codes()
        lock._install_programming_code()
        return lock

    # -- what a lock does -----------------------------------------------------------------

    def describe(self) -> Capabilities:
        caps = self.profile.capabilities
        capacity = self._faults["slot_capacity"]
        return caps if capacity is None else replace(caps, slot_count=capacity)

    def read_codes(self, now: datetime) -> Observation:
        """Every slot the engine may see; PINs masked where the brand masks them."""
        self._slots.settle(now)
        if not self.is_online:
            raise DeviceUnreachable("device_offline", f"the {self.profile.brand} lock is offline")
        readable = self.profile.capabilities.pins_readable
        observed = tuple(
            ObservedSlot(
                slot=slot,
                code=entry["code"] if readable else None,
                name=entry["name"],
                starts_at=when(entry["starts_at"]),
                ends_at=when(entry["ends_at"]),
            )
            for slot, entry in self._slots.physical()
            if slot not in self._slots.reserved
        )
        return Observation(read_at=now, slots=observed, capabilities=self.describe())

    def read_slot(self, now: datetime, slot: int) -> ObservedSlot | None:
        """One slot as `read_codes` would report it (None: empty)."""
        return next((s for s in self.read_codes(now).slots if s.slot == slot), None)

    def set_code(
        self,
        now: datetime,
        slot: int,
        code: str | None,
        name: str | None,
        starts_at: datetime | None,
        ends_at: datetime | None,
    ) -> WriteResult:
        """Program `slot`, overwriting what is there; a JIT lock ignores the window."""
        self._slots.settle(now)
        profile, caps = self.profile, self.profile.capabilities
        window = (starts_at, ends_at) if caps.native_scheduling else (None, None)
        refusal = refusals.offline(profile, self.is_online) or refusals.rushed(
            profile, self._faults, now, self.last_command_at(), profile.errors.set_failed
        )
        if refusal is not None:
            return refusal
        self._took_command(now)
        refusal = (
            refusals.injected_failure(self._faults, "fail_next_sets", profile.errors.set_failed)
            or refusals.third_party(profile, self._quirks, self._faults["third_party_manager"])
            or refusals.no_slot(profile, self._slots, slot, self.describe().slot_count)
            or refusals.bad_format(profile, now, code, name, window, self.programming_code)
            or refusals.over_subscription(
                profile, self._slots, slot, self._faults["site_user_limit"]
            )
        )
        if refusal is not None:
            return refusal
        assigned = self._new_pin() if caps.pin_generated_by_provider else None
        pin = assigned or code
        assert pin is not None  # refusals.bad_format demands a PIN the lock does not make itself
        refusal = refusals.duplicate(profile, self._quirks, self._slots, slot, pin)
        if refusal is not None:
            return refusal
        if self._faults["unconfirmable_sets"]:
            return WriteResult.unconfirmed(assigned)
        entry = make_entry(pin, name, "managed", *window)
        delay = self._faults["programming_delay_seconds"]
        if delay != 0:
            lands_at = None if delay == -1 else now + timedelta(seconds=delay)
            self._slots.schedule(slot, entry, lands_at)
            return WriteResult.unconfirmed(assigned)
        self._slots.write(slot, entry)
        return WriteResult.confirmed(assigned)

    def remove_code(self, now: datetime, slot: int) -> WriteResult:
        """Empty `slot` (an empty slot is confirmed too)."""
        self._slots.settle(now)
        errors = self.profile.errors
        refusal = refusals.offline(self.profile, self.is_online) or refusals.rushed(
            self.profile, self._faults, now, self.last_command_at(), errors.remove_failed
        )
        if refusal is not None:
            return refusal
        self._took_command(now)
        refusal = refusals.injected_failure(self._faults, "fail_next_removes", errors.remove_failed)
        if refusal is not None:
            return refusal
        if slot in self._slots.reserved:
            message = f"slot {slot} holds one of the lock's own codes"
            return WriteResult.rejected(errors.remove_failed, message, terminal=True)
        if self._faults["unconfirmable_removes"]:
            return WriteResult.unconfirmed()
        self._slots.remove(slot)
        return WriteResult.confirmed()

    def last_command_at(self) -> datetime | None:
        return when(self._state.get("last_command_at"))

    def set_locked(self, now: datetime, locked: bool) -> WriteResult:
        """Lock or unlock the door on request (the bolt; codes are not touched)."""
        refusal = refusals.offline(self.profile, self.is_online)
        if refusal is not None:
            return refusal
        self._state["locked"] = locked
        return WriteResult.confirmed()

    @property
    def locked(self) -> bool | None:
        locked: bool | None = self._state.get("locked")
        return locked

    # -- simulation controls -----------------------------------------------------------------

    @property
    def state(self) -> State:
        """A JSON-serialisable copy of the whole lock."""
        return _copy(self._state)

    def fingerprint(self) -> bytes:
        """A cheap digest of the whole state, to tell whether anything changed."""
        return orjson.dumps(self._state, option=orjson.OPT_SORT_KEYS)

    @property
    def brand(self) -> str:
        return self.profile.brand

    @property
    def is_online(self) -> bool:
        return bool(self._state["online"])

    @property
    def programming_code(self) -> str | None:
        code: str | None = self._state["programming_code"]
        return code

    @property
    def faults(self) -> dict[str, Any]:
        return dict(self._faults)

    def connect(self) -> None:
        self._state["online"] = True

    def disconnect(self) -> None:
        self._state["online"] = False

    def set_faults(self, **faults: Any) -> None:
        """Change some faults; a bad name or value raises ValueError and changes nothing."""
        checked = validated_faults(faults, self.profile, self._quirks)
        self._faults.update(checked)
        if "third_party_manager" not in checked:
            return
        manager = checked["third_party_manager"]
        if manager is None:
            self._state["third_party_wrote"] = False
        elif not self._state["third_party_wrote"]:
            self._third_party_writes_its_code(manager)

    def add_unmanaged(self, now: datetime, name: str, code: str) -> int:
        """A code added at the keypad or in the brand's app; returns the slot it took."""
        self._slots.settle(now)
        self._check_external_pin(code, slot=None)
        slot = self._slots.free_slot(self.describe().slot_count)
        if slot is None:
            raise ValueError(f"no free slot on this {self.brand} lock")
        self._slots.write(slot, make_entry(code, name, "unmanaged"))
        return slot

    def modify_external(
        self,
        now: datetime,
        slot: int,
        code: str | None = None,
        name: str | None = None,
        remove: bool = False,
    ) -> None:
        """Someone changes or deletes a code directly on the lock."""
        self._slots.settle(now)
        entry = self._slots.get(slot)
        if entry is None:
            raise ValueError(f"slot {slot} is empty on this {self.brand} lock")
        if remove:
            self._slots.remove(slot)
            return
        if code is None and name is None:
            raise ValueError("give a new code or name, or remove=True")
        if code is not None:
            self._check_external_pin(code, slot=slot)
            entry["code"] = code
        if name is not None:
            entry["name"] = name

    def list_device_codes(self, now: datetime) -> list[dict[str, Any]]:
        """What is physically on the lock, PINs unmasked; windows as ISO 8601 when stored."""
        self._slots.settle(now)
        listed = []
        for slot, entry in self._slots.physical():
            item: dict[str, Any] = {"slot": slot, "code": entry["code"], "name": entry["name"]}
            item.update({k: entry[k] for k in ("starts_at", "ends_at") if entry[k] is not None})
            listed.append(item)
        return listed

    def keypad_entry(self, now: datetime, code: str) -> int | None:
        """The slot whose code opens the door now, or None."""
        self._slots.settle(now)
        for slot, entry in self._slots.physical():
            window = Window(when(entry["starts_at"]), when(entry["ends_at"]))
            if entry["code"] == code and window.contains(now):
                return slot
        return None

    # -- internals ---------------------------------------------------------------------------

    def _took_command(self, now: datetime) -> None:
        self._state["last_command_at"] = iso(now)

    def _rng(self) -> random.Random:
        self._state["draws"] += 1
        return random.Random(f"{self._state['seed']}:{self._state['draws']}")

    def _new_pin(self) -> str:
        """A PIN the lock makes up itself, unlike any code already on it."""
        return generate_code(
            self.profile.capabilities,
            self._rng(),
            avoid=set(self._slots.codes()),
            programming_code=self.programming_code,
        )

    def _check_external_pin(self, code: str, slot: int | None) -> None:
        _check_keypad_pin(code)
        holder = self._slots.codes(except_slot=slot).get(code)
        if holder is not None:
            raise ValueError(f"PIN {code} is already on this lock in slot {holder}")

    def _install_own_codes(self) -> None:
        caps = self.profile.capabilities
        first = caps.slot_count - caps.reserved_slots + 1
        names = self._quirks.own_code_names
        for index, slot in enumerate(range(first, caps.slot_count + 1)):
            name = names[index] if index < len(names) else f"{self.brand} code {index + 1}"
            self._slots.reserve(slot, make_entry(self._new_pin(), name, "own"))

    def _install_programming_code(self) -> None:
        length = self._quirks.programming_code_length
        if length is None:
            return
        caps = replace(
            self.profile.capabilities, supported_code_lengths=(length,), code_constraints=()
        )
        self._state["programming_code"] = generate_code(caps, self._rng())

    def _third_party_writes_its_code(self, manager: str) -> None:
        """The app grabs a free slot for a code of its own, once per activation."""
        self._state["third_party_wrote"] = True
        slot = self._slots.free_slot(self.describe().slot_count)
        if slot is not None:
            app_name = self._quirks.third_party_app_name(manager) or manager
            self._slots.write(slot, make_entry(self._new_pin(), app_name, "third_party"))
