"""Plain values the planner, the engine and the providers share.

Nothing here does I/O or reads a clock. Datetimes are always timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal


class CodeStatus(StrEnum):
    """Seam's `access_code.status`, shown to users as it is."""

    UNSET = "unset"
    SETTING = "setting"
    SET = "set"
    REMOVING = "removing"
    UNKNOWN = "unknown"


IssueKind = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Issue:
    """An error or warning saved on an access code or a device.

    `code` is a catalog code (`failed_to_set_on_device`, ...); `extra` holds wire fields such as
    `unmanaged_access_code_id` or `change_type`.
    """

    code: str
    kind: IssueKind
    message: str
    created_at: datetime
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Window:
    """When a code may open the door; both ends None means ongoing."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @property
    def is_ongoing(self) -> bool:
        return self.starts_at is None and self.ends_at is None

    def overlaps(self, other: Window) -> bool:
        """Half-open interval overlap; a missing end is infinite."""
        a_start, a_end = self.starts_at, self.ends_at
        b_start, b_end = other.starts_at, other.ends_at
        starts_before_other_ends = b_end is None or a_start is None or a_start < b_end
        other_starts_before_end = a_end is None or b_start is None or b_start < a_end
        return starts_before_other_ends and other_starts_before_end

    def contains(self, moment: datetime) -> bool:
        after_start = self.starts_at is None or moment >= self.starts_at
        before_end = self.ends_at is None or moment < self.ends_at
        return after_start and before_end


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one lock can do; comes from the brand profile, overridable per device."""

    brand: str
    slot_count: int
    native_scheduling: bool
    supported_code_lengths: tuple[int, ...]
    code_constraints: tuple[str, ...] = ()
    name_min_length: int | None = None
    name_max_length: int | None = None
    supports_backup_pool: bool = True
    reserved_slots: int = 0
    pin_generated_by_provider: bool = False
    pins_readable: bool = True
    supports_unmanaged_conversion: bool = True
    # Seconds after an acknowledged write during which a read-back that does not yet show the
    # change is not yet a failure.
    confirm_grace_seconds: int = 60
    min_command_interval_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class ObservedSlot:
    """One occupied slot as read back from the lock.

    `code` is None when the lock masks PINs or the read could not return it.
    """

    slot: int
    code: str | None
    name: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """A snapshot of a lock's slots; empty slots are absent."""

    read_at: datetime
    slots: tuple[ObservedSlot, ...] = ()
    # What the lock says it can do now, when it says (a Z-Wave lock's slot count, a sandbox
    # lock's simulated capacity); None: the stored profile stands.
    capabilities: Capabilities | None = None

    def by_slot(self) -> dict[int, ObservedSlot]:
        return {s.slot: s for s in self.slots}
