"""Why a simulated lock refuses a command, in the brand's own catalog codes.

Each function returns the WriteResult that refuses the command, or None to let it through.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pinwarden.catalog.brands import BrandProfile
from pinwarden.domain.codes import code_violations, name_violations, window_violations
from pinwarden.providers.base import WriteResult
from pinwarden.providers.sandbox.quirks import SandboxQuirks
from pinwarden.providers.sandbox.slots import SlotTable


def offline(profile: BrandProfile, online: bool) -> WriteResult | None:
    if online:
        return None
    message = f"the {profile.brand} lock is offline"
    return WriteResult.unreachable(profile.errors.offline, message)


def rushed(
    profile: BrandProfile,
    faults: dict[str, Any],
    now: datetime,
    last_command_at: datetime | None,
    issue_code: str,
) -> WriteResult | None:
    """With `drop_rushed_commands`, a command that comes sooner than the lock can take the
    next one is dropped."""
    interval = profile.capabilities.min_command_interval_seconds
    if (
        not faults["drop_rushed_commands"]
        or last_command_at is None
        or (now - last_command_at).total_seconds() >= interval
    ):
        return None
    message = (
        f"the {profile.brand} lock was still busy with the previous command and dropped this "
        f"one; it takes one command every {interval:g} s"
    )
    return WriteResult.rejected(issue_code, message, terminal=False)


def injected_failure(faults: dict[str, Any], fault: str, issue_code: str) -> WriteResult | None:
    """Consumes one of the `fail_next_*` failures left in `faults`."""
    remaining = faults[fault]
    if remaining <= 0:
        return None
    faults[fault] = remaining - 1
    message = f"the lock reported a failure ({fault}, {remaining - 1} more to come)"
    return WriteResult.rejected(issue_code, message, terminal=False)


def third_party(
    profile: BrandProfile, quirks: SandboxQuirks, manager: str | None
) -> WriteResult | None:
    if manager is None:
        return None
    app_name = quirks.third_party_app_name(manager) or manager
    message = f"a third-party app ({app_name}) manages this lock's codes and undid the change"
    return WriteResult.rejected(profile.errors.set_failed, message, terminal=False)


def no_slot(
    profile: BrandProfile, table: SlotTable, slot: int, capacity: int
) -> WriteResult | None:
    occupied = table.occupied()
    if slot in table.reserved:
        problem = f"slot {slot} holds one of the lock's own codes"
    elif not 1 <= slot <= capacity:
        problem = f"slot {slot} does not exist; the lock has slots 1 to {capacity}"
    elif slot not in occupied and len(occupied) >= capacity:
        problem = f"all {capacity} slots on the lock are taken"
    else:
        return None
    return WriteResult.rejected(profile.errors.slots_full, problem, terminal=True)


def bad_format(
    profile: BrandProfile,
    now: datetime,
    code: str | None,
    name: str | None,
    window: tuple[datetime | None, datetime | None],
    programming_code: str | None,
) -> WriteResult | None:
    """PIN, name or window breaking the lock's rules; the message names each rule."""
    caps = profile.capabilities
    problems = name_violations(name, caps) if name is not None else []
    if not caps.pin_generated_by_provider:
        if code is None:
            problems.append("a PIN is required on this lock")
        else:
            problems += code_violations(code, caps, programming_code=programming_code)
    if caps.native_scheduling:
        problems += window_violations(caps, now, *window)
    if not problems:
        return None
    return WriteResult.rejected(profile.errors.bad_format, "; ".join(problems), terminal=True)


def over_subscription(
    profile: BrandProfile, table: SlotTable, slot: int, limit: int | None
) -> WriteResult | None:
    issue_code = profile.errors.subscription_limit
    if limit is None or issue_code is None:
        return None
    users = len(table.occupied() - {slot} - table.reserved) + 1
    if users <= limit:
        return None
    message = f"the site's subscription allows {limit} users; this code would be user {users}"
    return WriteResult.rejected(issue_code, message, terminal=True)


def duplicate(
    profile: BrandProfile, quirks: SandboxQuirks, table: SlotTable, slot: int, pin: str
) -> WriteResult | None:
    """A PIN already in another slot; some locks acknowledge it and silently drop it."""
    holder = table.codes(except_slot=slot).get(pin)
    if holder is None:
        return None
    if quirks.duplicate_pin_silently_dropped:
        return WriteResult.unconfirmed()
    message = f"PIN is already used by slot {holder} on this lock"
    return WriteResult.rejected(profile.errors.duplicate, message, terminal=True)
