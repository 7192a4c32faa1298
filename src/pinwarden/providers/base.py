"""The provider seam: how pinwarden talks to locks, whoever makes them.

Two layers, as in lock_code_manager's provider base:

- an *adapter* per kind of installation (`sandbox`, `zwave_js`, `zigbee2mqtt`) says only how to
  talk to its locks. An `Account` is one connected installation (a Z-Wave JS server, a
  Zigbee2MQTT bridge, the sandbox): its connection, the locks it has (`discover`) and what its
  locks push (`LockEvent`s into an `EventSink`). A `Lock` is one lock of an account: read its
  slots, write or clear one slot.
- the engine's host (`engine/host.py`) does the rest the same way for every adapter: one command
  at a time per lock, pacing, recording outcomes, backoff.

Results are honest about uncertainty. A write is confirmed (read back), accepted but not yet
seen (the engine reads back later), rejected with a catalog code, refused because the slot no
longer holds what the plan expected (`STALE`: nothing was written, re-read and re-plan), or the
lock is unreachable. No adapter ever guesses a PIN it cannot read: a masked slot reads as
`code=None` and the engine trusts its own last write there.

Everything here is asynchronous: real adapters wait on a radio or a broker. The sandbox answers
at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pinwarden.domain.model import Capabilities, Observation, ObservedSlot

# -- results -----------------------------------------------------------------------------------


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    ACCEPTED_UNCONFIRMED = "accepted_unconfirmed"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"
    # The slot did not hold what the command expected: nothing was written.
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class WriteResult:
    outcome: Outcome
    # Catalog code explaining a rejection or unreachability (`august_device_slots_full`, ...).
    issue_code: str | None = None
    message: str = ""
    # Some locks assign the PIN themselves (Salto); the value the lock chose.
    assigned_code: str | None = None
    # True when retrying the same write cannot help (bad format, duplicate, no slot).
    terminal: bool = False
    # STALE: what the slot held instead of what was expected (None: empty).
    found: ObservedSlot | None = None

    @classmethod
    def confirmed(cls, assigned_code: str | None = None) -> WriteResult:
        return cls(Outcome.CONFIRMED, assigned_code=assigned_code)

    @classmethod
    def unconfirmed(cls, assigned_code: str | None = None) -> WriteResult:
        return cls(Outcome.ACCEPTED_UNCONFIRMED, assigned_code=assigned_code)

    @classmethod
    def rejected(cls, issue_code: str, message: str, *, terminal: bool) -> WriteResult:
        return cls(Outcome.REJECTED, issue_code=issue_code, message=message, terminal=terminal)

    @classmethod
    def unreachable(cls, issue_code: str, message: str) -> WriteResult:
        return cls(Outcome.UNREACHABLE, issue_code=issue_code, message=message)

    @classmethod
    def stale(cls, found: ObservedSlot | None) -> WriteResult:
        what = "empty" if found is None else "holding another code"
        return cls(Outcome.STALE, message=f"the slot was {what}", found=found)


class DeviceUnreachable(Exception):
    """The lock could not be read; `issue_code` says why (`device_offline`, ...)."""

    def __init__(self, issue_code: str, message: str) -> None:
        super().__init__(message)
        self.issue_code = issue_code
        self.message = message


class AccountUnavailable(Exception):
    """pinwarden has no working connection to the account's installation (its Z-Wave JS server
    or MQTT broker is down, or the credentials are refused). Never the lock's fault: codes are
    not failed for it; the account carries `account_disconnected`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetSlot:
    """Program `slot` with `code` (None: the lock makes the PIN up itself, as Salto does).

    `expect` is what the plan saw in the slot (None: empty). The adapter writes only if the
    slot still holds it, checked atomically where the lock allows, else by a fresh read of that
    one slot just before writing; otherwise it returns `WriteResult.stale(found)`. A window is
    given only to locks with native scheduling."""

    slot: int
    code: str | None
    name: str | None
    expect: ObservedSlot | None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClearSlot:
    """Empty `slot`, but only if it still holds `expect` (see `SetSlot`). Clearing a slot that
    is already empty is confirmed."""

    slot: int
    expect: ObservedSlot | None


Command = SetSlot | ClearSlot


def slot_matches(seen: ObservedSlot | None, expect: ObservedSlot | None) -> bool:
    """Whether a slot read as `seen` still holds what a command expected. A masked PIN (None)
    on either side matches any PIN; names are compared only when both are known."""
    if seen is None or expect is None:
        return seen is None and expect is None
    if seen.code is not None and expect.code is not None and seen.code != expect.code:
        return False
    return seen.name is None or expect.name is None or seen.name == expect.name


# -- what locks push -------------------------------------------------------------------------


class LockEventKind(StrEnum):
    UNLOCKED = "unlocked"  # `slot`: the code that opened it (None: not by a code, or unknown)
    LOCKED = "locked"
    ACCESS_DENIED = "access_denied"  # a wrong or out-of-schedule code at the keypad
    SLOT_CHANGED = "slot_changed"  # a code added, changed or deleted at the lock (None: all)
    DUPLICATE_REFUSED = "duplicate_refused"  # the lock refused a code: its PIN is in `slot`
    ONLINE = "online"
    OFFLINE = "offline"
    LOCK_ADDED = "lock_added"  # the installation has a new lock: discover again
    LOCK_REMOVED = "lock_removed"


@dataclass(frozen=True, slots=True)
class LockEvent:
    """Something a lock reported on its own. It only makes the lock due for the engine (and,
    for unlocks, records who came in); it never writes the engine's records directly.
    `detail` never holds a PIN."""

    kind: LockEventKind
    lock_ref: str  # the adapter's own name for the lock (node id, friendly name, device id)
    at: datetime | None = None  # None: when it was received
    slot: int | None = None
    method: str | None = None  # keypad, manual, remote, auto
    detail: Mapping[str, Any] = field(default_factory=dict)


class EventSink(Protocol):
    """Where an account delivers its events (pinwarden's service layer). Called from the
    adapter's event loop; it must not block for long."""

    def __call__(self, account_id: str, event: LockEvent) -> None: ...


# -- the adapter -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiscoveredLock:
    """A lock an installation has, as its account reports it."""

    lock_ref: str
    name: str
    brand: str  # a catalog brand profile (`zwave_lock`, `zigbee_lock`, ...)
    capabilities: Capabilities
    online: bool = True
    manufacturer: str | None = None
    model: str | None = None


class Lock(Protocol):
    """One lock of an account."""

    @property
    def ref(self) -> str: ...

    async def read(self, at: datetime) -> Observation:
        """Every occupied slot (PINs masked where the lock masks them, as `code=None`).
        Raises DeviceUnreachable (the lock) or AccountUnavailable (the installation)."""
        ...

    async def write(self, at: datetime, command: Command) -> WriteResult:
        """Carry out one command. `at` is the moment the engine sends it (paced; a virtual
        clock's time in simulations). Raises AccountUnavailable when the installation cannot
        be reached; a lock that does not answer is `WriteResult.unreachable`."""
        ...


class DoorControl(Protocol):
    """Optional for a lock: lock and unlock the door on request (Z-Wave Door Lock CC,
    Zigbee2MQTT `state`). The result is confirmed once the lock reports the new state."""

    async def set_locked(self, at: datetime, locked: bool) -> WriteResult: ...


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """What opening an account needs. `secrets` (a password, say) are decrypted only to open
    the connection: never logged, never part of an error message."""

    account_id: str
    account_type: str  # the registry key: `sandbox`, `zwave_js`, `zigbee2mqtt`
    settings: Mapping[str, Any]  # url, base topic, TLS, ...
    secrets: Mapping[str, str] = field(default_factory=dict)


class Account(Protocol):
    """One connected installation; opened once per process and shared by its locks."""

    @property
    def connected(self) -> bool: ...

    async def open(self, sink: EventSink | None) -> None:
        """Connect, and keep reconnecting with backoff until closed. With a sink, deliver what
        the locks push to it; without one (a process that only sends commands) the account may
        still listen for its own use (a duplicate refusal after a write, say)."""
        ...

    async def close(self) -> None: ...

    async def discover(self) -> Sequence[DiscoveredLock]:
        """The locks the installation has now; raises AccountUnavailable."""
        ...

    def lock(self, lock_ref: str, capabilities: Capabilities) -> Lock: ...


class AccountBatch(Protocol):
    """Optional for an account: read or write many of its locks in one round trip (the
    sandbox: one transaction). The host falls back to one call per lock."""

    async def read_many(
        self, locks: Sequence[tuple[Lock, datetime]]
    ) -> list[Observation | Exception]: ...

    async def write_many(
        self, commands: Sequence[tuple[Lock, datetime, Command]]
    ) -> list[WriteResult | Exception]: ...


__all__ = [
    "Account",
    "AccountBatch",
    "AccountConfig",
    "AccountUnavailable",
    "ClearSlot",
    "Command",
    "DeviceUnreachable",
    "DiscoveredLock",
    "DoorControl",
    "EventSink",
    "Lock",
    "LockEvent",
    "LockEventKind",
    "Outcome",
    "SetSlot",
    "WriteResult",
    "slot_matches",
]
