"""What the at-risk and device pages show, assembled from the service layer. No HTTP here.

Timing is judged lock by lock with the lock's effective policy (`service.policy`, the same
`Policy.effective` the engine plans with), never with the defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from pinwarden.console.calendar import Calendar, build_calendar
from pinwarden.console.views import (
    CodeView,
    IssueView,
    Wire,
    all_devices,
    can_convert,
    code_names,
    code_view,
    confirmed,
    issues_of,
    managed_codes,
    parse_time,
    unmanaged_codes,
)
from pinwarden.planner.types import Policy
from pinwarden.service import devices, policy
from pinwarden.service.deps import Deps

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Verdict = Literal["at_risk", "flagged", "ongoing", "removal", "on_track", "upcoming", "fine"]


def verdict(code: Wire, now: datetime, deadline: timedelta) -> Verdict:
    """Where a managed code belongs on the first page.

    Only time-bound codes are arrivals. One starting within the issue deadline (or already
    started) is at risk when it carries an error or is not confirmed; a later one, or a
    confirmed one, that already carries an error or warning is flagged early. Ongoing codes
    (staff, owners) are listed only when they carry an issue.
    """
    if code.get("status") == "removing":
        return "removal"
    starts_at, ends_at = parse_time(code.get("starts_at")), parse_time(code.get("ends_at"))
    has_issue = bool(code.get("errors") or code.get("warnings"))
    if ends_at is None:
        return "ongoing" if has_issue else "fine"
    if ends_at <= now:
        return "fine"
    soon = starts_at is None or starts_at <= now + deadline
    if soon and (code.get("errors") or not confirmed(code, now)):
        return "at_risk"
    if has_issue:
        return "flagged"
    return "on_track" if soon else "upcoming"


def _by_start(view: CodeView) -> tuple[datetime, str]:
    start = parse_time(view.code.get("starts_at")) or _EPOCH
    return start, view.code.get("name") or ""


@dataclass(frozen=True)
class AtRisk:
    now: datetime
    deadlines: list[timedelta]  # the issue deadlines of the workspace's locks, shortest first
    arrivals: list[CodeView]  # within the deadline: an error, or not yet confirmed
    flagged: list[CodeView]  # later (or confirmed) arrivals that already carry an issue
    ongoing: list[CodeView]  # ongoing codes that carry an issue
    removals: list[CodeView]  # removals the lock has not confirmed
    on_track: int  # time-bound arrivals within the deadline, confirmed and clean
    upcoming: int  # later time-bound arrivals with no issue so far

    @property
    def deadline_days(self) -> str:
        """`3` or `2–5`: the issue deadline in days, across the workspace's locks."""
        days = sorted({round(d.total_seconds() / 86400, 1) for d in self.deadlines} or {3.0})
        shown = [f"{d:g}" for d in days]
        return shown[0] if len(shown) == 1 else f"{shown[0]}–{shown[-1]}"

    @property
    def all_clear(self) -> bool:
        return not (self.arrivals or self.flagged or self.ongoing or self.removals)


def at_risk(deps: Deps, ws: str) -> AtRisk:
    now = deps.clock.now()
    policies = policy.effective_by_device(deps, ws)
    fallback = policy.workspace_default(deps, ws)
    by_id = {d["device_id"]: d for d in all_devices(deps, ws)}
    codes = [c for c in managed_codes(deps, ws) if not c.get("is_backup")]
    names = code_names(codes)
    groups: dict[Verdict, list[Wire]] = {}
    for code in codes:
        deadline = policies.get(code["device_id"], fallback).deadline
        groups.setdefault(verdict(code, now, deadline), []).append(code)

    def views(kind: Verdict) -> list[CodeView]:
        found = [
            code_view(deps, ws, c, by_id.get(c["device_id"]), names) for c in groups.get(kind, [])
        ]
        return sorted(found, key=_by_start)

    return AtRisk(
        now,
        sorted({p.deadline for p in policies.values()}),
        views("at_risk"),
        views("flagged"),
        views("ongoing"),
        views("removal"),
        on_track=len(groups.get("on_track", [])),
        upcoming=len(groups.get("upcoming", [])),
    )


# -- devices -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceSummary:
    device: Wire
    issues: list[IssueView]
    managed: int
    unmanaged: int
    at_risk: int
    flagged: int


@dataclass(frozen=True)
class DeviceDetail:
    device: Wire
    issues: list[IssueView]
    codes: list[CodeView]
    unmanaged: list[Wire]
    can_convert: bool
    calendar: Calendar
    policy: Policy
    form: dict[str, str] = field(default_factory=dict)


def _count(codes: Iterable[Wire], now: datetime, deadline: timedelta) -> dict[Verdict, int]:
    counts: dict[Verdict, int] = {}
    for code in codes:
        kind = verdict(code, now, deadline)
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def device_summaries(deps: Deps, ws: str) -> list[DeviceSummary]:
    now = deps.clock.now()
    policies = policy.effective_by_device(deps, ws)
    managed: dict[str, list[Wire]] = {}
    for code in managed_codes(deps, ws):
        managed.setdefault(code["device_id"], []).append(code)
    foreign: dict[str, int] = {}
    for code in unmanaged_codes(deps, ws):
        foreign[code["device_id"]] = foreign.get(code["device_id"], 0) + 1
    summaries = []
    for device in all_devices(deps, ws):
        codes = managed.get(device["device_id"], [])
        counts = _count(codes, now, policies[device["device_id"]].deadline)
        summaries.append(
            DeviceSummary(
                device,
                issues_of(device),
                managed=len(codes),
                unmanaged=foreign.get(device["device_id"], 0),
                at_risk=counts.get("at_risk", 0) + counts.get("removal", 0),
                flagged=counts.get("flagged", 0) + counts.get("ongoing", 0),
            )
        )
    return sorted(summaries, key=lambda s: s.device.get("display_name") or "")


def device_detail(deps: Deps, ws: str, device_id: str) -> DeviceDetail:
    device = devices.get_device(deps, ws, {"device_id": device_id})
    codes = managed_codes(deps, ws, device_id=device_id)
    names = code_names(codes)
    views = sorted((code_view(deps, ws, c, device, names) for c in codes), key=_by_start)
    foreign = unmanaged_codes(deps, ws, device_id=device_id)
    lock_policy = policy.effective_by_device(deps, ws)[device_id]
    calendar = build_calendar(deps.clock.now(), [device], codes, foreign, {device_id: lock_policy})
    return DeviceDetail(
        device, issues_of(device), views, foreign, can_convert(device), calendar, lock_policy
    )


def device_names(deps: Deps, ws: str) -> dict[str, str]:
    return {d["device_id"]: d.get("display_name") or d["device_id"] for d in all_devices(deps, ws)}


def workspace_calendar(deps: Deps, ws: str) -> Calendar:
    """Every lock's next 14 days."""
    return build_calendar(
        deps.clock.now(),
        sorted(all_devices(deps, ws), key=lambda d: d.get("display_name") or ""),
        managed_codes(deps, ws),
        unmanaged_codes(deps, ws),
        policy.effective_by_device(deps, ws),
    )
