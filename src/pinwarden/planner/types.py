"""The planner's inputs and outputs: plain frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pinwarden.domain.model import Capabilities, CodeStatus, Issue, ObservedSlot, Window


@dataclass(frozen=True, slots=True)
class Policy:
    """Per workspace, overridable per device."""

    horizon: timedelta = timedelta(days=9)  # program natively scheduled codes this early (P1)
    deadline: timedelta = timedelta(days=3)  # every problem is on the code by then (P2)
    jit_lead: timedelta = timedelta(minutes=60)  # just-in-time locks get codes this early
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(minutes=30)
    breaker_threshold: int = 8  # consecutive device failures before pausing the lock
    breaker_pause: timedelta = timedelta(hours=1)
    max_set_attempts: int = 5  # rejected writes before a code stops retrying on its own
    slow_write: timedelta = timedelta(minutes=15)  # acknowledged but unseen: warn after this
    # At least this between two commands to one lock; a brand's own minimum applies anyway.
    command_interval: timedelta = timedelta(0)
    # Read the lock back at least this often, to catch changes made at the keypad or in the
    # brand's app on a lock that does not report them (0: only when something is due).
    read_back_interval: timedelta = timedelta(0)
    # Pull a backup code for a code that will miss its start (the app can tell the guest).
    auto_pull_backup_on_failure: bool = False

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Policy:
        fields = {f for f in cls.__dataclass_fields__}
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            if key not in fields:
                continue
            default = getattr(cls(), key)
            if isinstance(default, timedelta):
                kwargs[key] = timedelta(seconds=float(value))
            elif isinstance(default, bool):
                kwargs[key] = value in (True, "true", "1", 1)
            else:
                kwargs[key] = int(value)
        return cls(**kwargs)

    @classmethod
    def effective(cls, workspace: Mapping[str, Any], device: Mapping[str, Any]) -> Policy:
        """A lock's policy: its own overrides on top of its workspace's, on top of defaults.
        The engine and everything that judges timing for a lock (the console) use this."""
        return cls.from_mapping({**workspace, **device})


@dataclass(frozen=True, slots=True)
class CodeState:
    """One access code (managed, backup or unmanaged) as the store knows it."""

    access_code_id: str
    code: str | None
    name: str | None
    window: Window
    created_at: datetime
    is_managed: bool = True
    is_backup: bool = False
    deleting: bool = False
    allow_external_modification: bool = False
    prefer_native_scheduling: bool = True
    code_generated: bool = False
    status: CodeStatus = CodeStatus.UNSET
    slot: int | None = None
    written_at: datetime | None = None
    removal_sent_at: datetime | None = None
    confirmed_at: datetime | None = None
    attempts: int = 0  # writes the lock refused, since the code last changed
    unconfirmed_writes: int = 0  # writes the lock acknowledged but did not show yet
    retry_at: datetime | None = None
    is_scheduled_on_device: bool = False
    pulled_backup_access_code_id: str | None = None
    issues: tuple[Issue, ...] = ()
    # The lock's last refusal of a write to this code (kept until a write succeeds).
    failure: Issue | None = None


@dataclass(frozen=True, slots=True)
class SlotWrite:
    """What pinwarden last wrote into a slot (the ledger, persisted): the slot holds what
    pinwarden put there while the lock shows that PIN (or, masking its PINs, while it reports
    no change to the slot since the write)."""

    slot: int
    code: str | None
    name: str | None
    access_code_id: str | None  # None: stale content an operator said to ignore (legacy)
    written_at: datetime  # when the write was decided (write-ahead)
    acked_at: datetime | None = None  # when the lock acknowledged it; None: maybe never sent
    changed_at: datetime | None = None  # the lock reported an outside change to the slot
    removal_sent_at: datetime | None = None  # when the lock last acknowledged clearing it
    # While this write is unacknowledged: (code, name, access code id) of the acknowledged
    # write before it, which the slot may still hold (the process stopped before it heard).
    prior: tuple[str | None, str | None, str | None] | None = None

    @property
    def trusted(self) -> bool:
        """Whether a masked read of the slot can be taken to hold this write."""
        return self.changed_at is None or (
            self.acked_at is not None and self.acked_at > self.changed_at
        )


@dataclass(frozen=True, slots=True)
class DeviceState:
    device_id: str
    capabilities: Capabilities
    brand_errors: Mapping[str, str | None]  # BrandErrorCodes as a mapping
    failure_count: int = 0
    retry_at: datetime | None = None
    # Why the last read failed; None when `observation` is fresh.
    unreachable_code: str | None = None
    unreachable_message: str = ""
    # pinwarden's connection to the lock's installation is down (not the lock's doing).
    account_down: bool = False
    third_party_detected: bool = False
    # How long the lock recently took to show a code it had acknowledged (0: at once).
    programming_delay: timedelta = timedelta(0)
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True, slots=True)
class SetCode:
    access_code_id: str
    slot: int
    code: str | None
    name: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    # What the plan saw in the slot (None: empty): the write happens only if it still does.
    expect: ObservedSlot | None = None


@dataclass(frozen=True, slots=True)
class RemoveCode:
    slot: int
    access_code_id: str | None
    expect: ObservedSlot | None = None  # as for SetCode


Operation = SetCode | RemoveCode


@dataclass(frozen=True, slots=True)
class CodeChange:
    """The new engine-visible state of one code; None fields are unchanged."""

    access_code_id: str
    status: CodeStatus | None = None
    slot: int | None = None
    clear_slot: bool = False
    confirmed_at: datetime | None = None
    is_scheduled_on_device: bool | None = None
    issues: tuple[Issue, ...] | None = None
    clear_failure: bool = False
    forget: bool = False  # removal confirmed (or never programmed): drop the record
    regenerate_code: bool = False  # a generated PIN broke a rule: pick a new one
    pull_backup: bool = False  # the code will miss its start: stand a backup in for it
    pending_mutations: tuple[Mapping[str, Any], ...] | None = None


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    event_type: str
    access_code_id: str | None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Plan:
    operations: tuple[Operation, ...] = ()
    changes: tuple[CodeChange, ...] = ()
    new_unmanaged: tuple[tuple[int, str | None, str | None], ...] = ()  # (slot, code, name)
    events: tuple[PlannedEvent, ...] = ()
    device_issues: tuple[Issue, ...] = ()
    next_wake_at: datetime | None = None
    programming_delay: timedelta | None = None  # the lock's measured delay, when it changed
    forget_writes: tuple[int, ...] = ()  # slots whose ledger entries no longer claim anything
