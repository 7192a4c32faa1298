"""The one small interface every lock provider implements.

Adapters know their brand; the engine knows nothing of brands. Results are honest about
uncertainty: a write can be confirmed, accepted but not yet confirmed (read back later),
rejected with a catalog code, or the lock can be unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pinwarden.domain.model import Capabilities, Observation


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    ACCEPTED_UNCONFIRMED = "accepted_unconfirmed"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"


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


class DeviceUnreachable(Exception):
    """The lock could not be read; `issue_code` says why (`device_offline`, ...)."""

    def __init__(self, issue_code: str, message: str) -> None:
        super().__init__(message)
        self.issue_code = issue_code
        self.message = message


class Provider(Protocol):
    """A connection to one lock. Sandbox, Zigbee2MQTT and Z-Wave JS all look like this."""

    def describe(self) -> Capabilities: ...

    def read_codes(self, now: datetime) -> Observation:
        """Read every occupied slot; raises DeviceUnreachable."""
        ...

    def set_code(
        self,
        now: datetime,
        slot: int,
        code: str | None,
        name: str | None,
        starts_at: datetime | None,
        ends_at: datetime | None,
    ) -> WriteResult:
        """Program `slot`. A window is passed only to locks with native scheduling."""
        ...

    def remove_code(self, now: datetime, slot: int) -> WriteResult: ...

    def last_command_at(self) -> datetime | None:
        """When the lock last took a command (set or remove), so the next one can be paced."""
        ...
