"""Which issues a code carries, built fresh on every plan; `created_at` survives re-planning."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pinwarden.catalog.events import device_issue_cleared_event, device_issue_event
from pinwarden.catalog.issues import issue_type
from pinwarden.domain.model import Issue, ObservedSlot
from pinwarden.planner.types import CodeState, DeviceState, PlannedEvent, Policy

# Issues whose appearance an event of its own already tells: pulling a backup
# (`backup_access_code_pulled`) and deleting (`deleted`, once the lock confirms it).
_TOLD_ELSEWHERE = frozenset({"using_backup_access_code", "being_deleted"})
_EXTERNAL = frozenset({"code_modified_external_to_seam", "external_modification_in_effect"})
# Issues about taking a code off the lock, even while it is not being deleted.
_REMOVAL = frozenset(
    {
        "failed_to_remove_from_device",
        "kwikset_unable_to_confirm_deletion",
        "delay_in_removing_from_device",
    }
)


def make(code: str, now: datetime, message: str | None = None, **extra: Any) -> Issue:
    t = issue_type(code)
    return Issue(code, t.kind, message or t.message, now, extra)


def brand_code(device: DeviceState, kind: str, fallback: str) -> str:
    return device.brand_errors.get(kind) or fallback


def keep(
    c: CodeState, found: Iterable[Issue], now: datetime, *, in_sync: bool = False
) -> tuple[Issue, ...]:
    """The code's issues: what was found now, the lock's last refusal unless the code is now on
    the lock, and the standing warnings; an issue already present keeps its `created_at`."""
    wanted: list[Issue] = list(found)
    if c.failure is not None and not in_sync:
        wanted.append(c.failure)
    if c.pulled_backup_access_code_id:
        wanted.append(
            make(
                "using_backup_access_code",
                now,
                f"Backup code {c.pulled_backup_access_code_id} stands in for this code.",
            )
        )
    if c.deleting:
        wanted.append(make("being_deleted", now))
    before = {i.code: i for i in c.issues}
    out: dict[str, Issue] = {}
    for issue in wanted:
        if issue.code in out:
            continue
        old = before.get(issue.code)
        out[issue.code] = (
            issue
            if old is None
            else Issue(issue.code, issue.kind, issue.message, old.created_at, issue.extra)
        )
    return tuple(out.values())


def raise_events(c: CodeState, issues: Iterable[Issue]) -> list[PlannedEvent]:
    """Events for the issues that were not on the code before, one per event type, each with
    every issue the code now carries (and each issue's mitigation, added when it is written).

    An error is `failed_to_set_on_device` (`failed_to_remove_from_device` when the code is on
    its way off the lock), a warning `delay_in_setting_on_device` (`delay_in_removing_...`):
    so a problem found by preflight days before the arrival is told the moment it is found."""
    current = tuple(issues)
    before = {i.code for i in c.issues}
    types: dict[str, None] = {}
    for issue in current:
        if issue.code not in before and issue.code not in _TOLD_ELSEWHERE:
            types[_code_event_type(c, issue)] = None
    return [
        PlannedEvent(t, c.access_code_id, {} if t in _NO_FIELDS else issue_fields(code=current))
        for t in types
    ]


_NO_FIELDS = frozenset(
    {"access_code.deleted_external_to_seam", "access_code.modified_external_to_seam"}
)


def _code_event_type(c: CodeState, issue: Issue) -> str:
    if issue.code in _EXTERNAL:
        removed = issue.extra.get("change_type") == "removed"
        return f"access_code.{'deleted' if removed else 'modified'}_external_to_seam"
    removing = c.deleting or issue.code in _REMOVAL
    if issue.kind == "error":
        return f"access_code.failed_to_{'remove_from' if removing else 'set_on'}_device"
    return f"access_code.delay_in_{'removing_from' if removing else 'setting_on'}_device"


def device_events(device: DeviceState, issues: Iterable[Issue]) -> list[PlannedEvent]:
    """Events for the lock's issues that appeared, and for those that cleared where Seam's
    catalogue tells it (catalog/events.py)."""
    current = tuple(issues)
    before = {i.code for i in device.issues}
    fields = issue_fields(device=current)
    appeared = [device_issue_event(i.kind, i.code) for i in current if i.code not in before]
    cleared = [
        device_issue_cleared_event(code) for code in sorted(before - {i.code for i in current})
    ]
    return [PlannedEvent(t, None, fields) for t in appeared if t is not None] + [
        PlannedEvent(t, None) for t in cleared if t is not None
    ]


def issue_fields(*, code: Iterable[Issue] = (), device: Iterable[Issue] = ()) -> Mapping[str, Any]:
    """Seam's issue fields of an event. The issues stay domain values here; the event log
    writes them in their wire shape, with their mitigation."""
    code, device = tuple(code), tuple(device)
    return {
        "access_code_errors": [i for i in code if i.kind == "error"],
        "access_code_warnings": [i for i in code if i.kind == "warning"],
        "device_errors": [i for i in device if i.kind == "error"],
        "device_warnings": [i for i in device if i.kind == "warning"],
        "connected_account_errors": [],
        "connected_account_warnings": [],
    }


def offline_issues(
    device: DeviceState, c: CodeState, now: datetime, *, removing: bool = False
) -> list[Issue]:
    """What a code on an unreachable lock carries: the brand's offline warning, or, for a code
    that should be coming off the lock, the removal delay (a departed guest's PIN may still
    open the door until the lock is back)."""
    if device.unreachable_code is None:
        return []
    if removing:
        return [
            make(
                "delay_in_removing_from_device",
                now,
                "The lock is offline, so the code is still on it; pinwarden removes it as soon "
                "as the lock is back.",
            )
        ]
    code = brand_code(device, "offline", "device_offline")
    if issue_type(code).scope != "access_code":
        return []
    return [make(code, now)]


def escalate(
    c: CodeState, issues: tuple[Issue, ...], now: datetime, *, last_known_set: bool = False
) -> tuple[Issue, ...]:
    """A time-bound code not on the lock at `starts_at` fails, naming what is known.
    `last_known_set`: the lock cannot be read now, but the code was on it when last seen."""
    start = c.window.starts_at
    if last_known_set or start is None or now < start or c.deleting:
        return issues
    if any(i.code == "failed_to_set_on_device" for i in issues):
        return issues
    reasons = "; ".join(i.message for i in issues if i.code != "using_backup_access_code")
    message = "The code was not on the lock when it was due to start" + (
        f": {reasons}" if reasons else "; pinwarden keeps trying."
    )
    previous = {i.code: i for i in c.issues}.get("failed_to_set_on_device")
    when = previous.created_at if previous else now
    return (*issues, Issue("failed_to_set_on_device", "error", message, when))


def removal_issues(device: DeviceState, c: CodeState, now: datetime, policy: Policy) -> list[Issue]:
    """A removal the lock acknowledged but does not show after the grace window: a delay at
    first, a failure once it has been sent again. Resending does not hide an issue already
    raised (it stays until the lock shows the code gone)."""
    if c.removal_sent_at is None:
        return []
    unconfirmed = brand_code(device, "unconfirmed_removal", "failed_to_remove_from_device")
    raised = {i.code for i in c.issues}
    waited = now - c.removal_sent_at
    resent = c.unconfirmed_writes > 1
    if not (
        resent
        or waited.total_seconds() >= device.capabilities.confirm_grace_seconds
        or raised & {unconfirmed, "delay_in_removing_from_device"}
    ):
        return []
    if unconfirmed != "failed_to_remove_from_device":
        return [make(unconfirmed, now)]
    if resent or waited >= policy.retry_max or unconfirmed in raised:
        return [make("failed_to_remove_from_device", now)]
    return [make("delay_in_removing_from_device", now)]


def unconfirmed_set(device: DeviceState, c: CodeState, now: datetime) -> list[Issue]:
    unconfirmed = brand_code(device, "unconfirmed_set", "failed_to_set_on_device")
    if unconfirmed != "failed_to_set_on_device":
        return [make(unconfirmed, now)]
    return [make(brand_code(device, "programming_delay", "delay_in_setting_on_device"), now)]


def already_delayed(device: DeviceState, c: CodeState) -> bool:
    """The code already carries the delay issue (kept through a resend's grace window)."""
    codes = {
        brand_code(device, "unconfirmed_set", "failed_to_set_on_device"),
        brand_code(device, "programming_delay", "delay_in_setting_on_device"),
    }
    codes.discard("failed_to_set_on_device")
    return any(i.code in codes for i in c.issues)


def slots_full(device: DeviceState, now: datetime) -> Issue:
    return make(brand_code(device, "slots_full", "no_space_for_access_code_on_device"), now)


def gave_up(device: DeviceState, c: CodeState, now: datetime) -> Issue:
    code = brand_code(device, "repeated_set_failures", "failed_to_set_on_device")
    cause = f": {c.failure.message}" if c.failure else ""
    return make(
        code,
        now,
        f"pinwarden stopped after {c.attempts} failed attempts{cause}. "
        "Fix the cause, then retry the code.",
    )


_FORMAT_CODES = {"august_lock_bad_access_code_format", "bad_format"}
_BLOCKING = {
    "duplicate_code_on_device",
    "august_device_slots_full",
    "smartthings_no_free_slots_available",
    "no_space_for_access_code_on_device",
    "august_lock_bad_access_code_format",
}


def is_format_issue(issue: Issue) -> bool:
    return issue.code in _FORMAT_CODES or bool(issue.extra.get("format_rule"))


def blocking(found: Iterable[Issue]) -> bool:
    """Issues that make a write pointless until the code or the lock changes."""
    return any(i.code in _BLOCKING or is_format_issue(i) for i in found)


def needs_new_pin(c: CodeState, found: Iterable[Issue]) -> bool:
    """A PIN pinwarden generated gets a new one when it breaks the lock's PIN rules or another
    code has it; a name the lock refuses never costs the PIN."""
    return c.code_generated and any(
        (is_format_issue(i) and i.extra.get("pin_rule", True))
        or i.code == "duplicate_code_on_device"
        for i in found
    )


def external_change(
    seen: ObservedSlot | None, c: CodeState, now: datetime, device: DeviceState
) -> Issue:
    """The code was on the lock as pinwarden wrote it, and now the lock shows something else
    in its slot (or nothing): somebody changed or removed it at the lock or in the brand's
    app."""
    change = "removed" if seen is None else "modified"
    code = (
        "external_modification_in_effect"
        if c.allow_external_modification
        else "code_modified_external_to_seam"
    )
    message = (
        "The code was deleted on the lock outside pinwarden"
        if seen is None
        else "The code was changed on the lock outside pinwarden"
    )
    extra: dict[str, Any] = {"change_type": change}
    if seen is not None and seen.code is not None:
        extra["modified_fields"] = [{"field": "code", "from": c.code, "to": seen.code}]
    if c.allow_external_modification:
        message += " and is kept as it is."
    elif device.capabilities.pin_generated_by_provider:
        # Putting it back would make the lock choose yet another PIN behind the API's back.
        extra["needs_approval"] = True
        message += (
            ". This lock chooses its own PINs, so pinwarden cannot put the guest's PIN back; "
            "POST /access_codes/retry to program the code again (the lock gives it a new PIN, "
            "announced by access_code.changed), or delete the code."
        )
    else:
        message += "; pinwarden is putting it back."
    return make(code, now, message, **extra)


def needs_approval(drift: Issue) -> bool:
    """An outside change that pinwarden may not undo by itself (see `external_change`)."""
    return bool(drift.extra.get("needs_approval"))


def old_pin_removed(issue: Issue) -> Issue:
    """The same issue, saying that the code's earlier PIN was taken off the lock because the
    new one cannot go on it."""
    if issue.extra.get("old_pin_removed") or issue.kind != "error":
        return issue
    message = (
        issue.message.rstrip(".")
        + ". The code's earlier PIN is taken off the lock, so neither PIN opens the door "
        "until this is fixed."
    )
    extra = {**issue.extra, "old_pin_removed": True}
    return Issue(issue.code, issue.kind, message, issue.created_at, extra)


def deferred(c: CodeState, program_at: datetime | None) -> tuple[Mapping[str, Any], ...]:
    if program_at is None:
        return ()
    return (
        {
            "mutation_code": "deferring_creation",
            "created_at": _iso(c.created_at),
            "scheduled_at": _iso(program_at),
            "message": "The code will be programmed onto the lock at scheduled_at.",
        },
    )


def device_issues(
    device: DeviceState, now: datetime, policy: Policy, pool: tuple[int, int] = (0, 0)
) -> tuple[Issue, ...]:
    """Issues of the lock itself; `pool` is (backups programmed, backups wanted)."""
    found: list[Issue] = []
    ready, wanted = pool
    if wanted and not ready:
        found.append(
            make(
                "empty_backup_access_code_pool",
                now,
                f"None of the {wanted} backup codes is on the lock yet.",
            )
        )
    elif ready < wanted:
        found.append(
            make(
                "partial_backup_access_code_pool",
                now,
                f"{ready} of {wanted} backup codes are on the lock.",
            )
        )
    if device.account_down:
        found.append(make("account_disconnected", now))
    elif device.unreachable_code is not None:
        found.append(make("device_offline", now, device.unreachable_message or None))
    if device.failure_count >= policy.breaker_threshold:
        found.append(
            make(
                "device_communication_degraded",
                now,
                f"pinwarden paused this lock after {device.failure_count} failed attempts in a row "
                f"({device.unreachable_message or 'the lock did not answer'}). Check the lock's "
                "connection; pinwarden tries again on its own within "
                f"{int(policy.breaker_pause.total_seconds() // 60)} minutes, or retry now.",
            )
        )
    if device.third_party_detected:
        found.append(make("third_party_integration_detected", now))
    before = {i.code: i for i in device.issues}
    return tuple(
        i
        if i.code not in before
        else Issue(i.code, i.kind, i.message, before[i.code].created_at, i.extra)
        for i in found
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
