"""What each console page shows, assembled from the service layer. No HTTP here.

Every function takes the signed-in workspace and passes it to the services, which scope every
lookup to it; nothing here reads another workspace's rows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pinwarden.catalog.brands import BRANDS
from pinwarden.catalog.issues import ISSUE_TYPES
from pinwarden.planner.types import Policy
from pinwarden.service import access_codes, devices, events, unmanaged
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError
from pinwarden.service.pagination import Page

Wire = dict[str, Any]

EVENTS_SHOWN = 200
_EVENT_BATCH = 1000
# Look back this far for the newest events before reading further back.
_EVENT_LOOKBACKS = (timedelta(hours=1), timedelta(days=1), timedelta(days=30), None)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Mitigations a retry cannot help with: something on or about the lock has to change first.
_RETRY_DOES_NOT_HELP = {
    "free_slots",
    "remove_or_convert_duplicate",
    "fix_code_format",
    "change_pin",
}


@dataclass(frozen=True)
class Action:
    """One mitigation button: a POST to `path`."""

    label: str
    path: str
    style: str = "secondary"  # primary | secondary | danger


@dataclass(frozen=True)
class IssueView:
    kind: str  # error | warning
    code: str
    message: str
    created_at: str | None
    mitigation: str
    automatic: bool
    action: str
    unmanaged_access_code_id: str | None = None


@dataclass(frozen=True)
class CodeView:
    code: Wire
    device: Wire | None
    issues: list[IssueView]
    actions: list[Action]
    backup: Wire | None = None  # the pulled backup code standing in for this one

    @property
    def errors(self) -> list[IssueView]:
        return [i for i in self.issues if i.kind == "error"]


@dataclass(frozen=True)
class AtRisk:
    now: datetime
    until: datetime  # arrivals starting before this are checked (now + issue deadline)
    arrivals: list[CodeView]
    removals: list[CodeView]
    on_track: int  # arrivals in the window that are confirmed or passed preflight

    @property
    def deadline_days(self) -> int:
        return (self.until - self.now).days

    @property
    def all_clear(self) -> bool:
        return not self.arrivals and not self.removals


@dataclass(frozen=True)
class DeviceSummary:
    device: Wire
    issues: list[IssueView]
    managed: int
    unmanaged: int
    at_risk: int


@dataclass(frozen=True)
class DeviceDetail:
    device: Wire
    issues: list[IssueView]
    codes: list[CodeView]
    unmanaged: list[Wire]
    can_convert: bool
    form: dict[str, str] = field(default_factory=dict)


# -- reading through the services --------------------------------------------------------------


def _all(list_page: Callable[[dict[str, Any]], Page], p: dict[str, Any]) -> list[Wire]:
    """Every item of a paginated listing."""
    items: list[Wire] = []
    cursor: str | None = None
    while True:
        page = list_page({**p, "page_cursor": cursor} if cursor else p)
        items += page.items
        cursor = page.pagination.get("next_page_cursor")
        if not cursor:
            return items


def _devices(deps: Deps, ws: str) -> list[Wire]:
    return _all(lambda p: devices.list_devices(deps, ws, p), {})


def _managed(deps: Deps, ws: str, **p: Any) -> list[Wire]:
    return _all(lambda q: access_codes.list_codes(deps, ws, q), p)


def _unmanaged(deps: Deps, ws: str, **p: Any) -> list[Wire]:
    return _all(lambda q: unmanaged.list_unmanaged(deps, ws, q), p)


def parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


# -- issues and their mitigations --------------------------------------------------------------


def issues_of(thing: Wire) -> list[IssueView]:
    found = []
    for kind, key in (("error", "error_code"), ("warning", "warning_code")):
        for raw in thing.get(f"{kind}s", []):
            code = raw.get(key, "unknown")
            mitigation = raw.get("mitigation") or _catalog_mitigation(code)
            found.append(
                IssueView(
                    kind=kind,
                    code=code,
                    message=raw.get("message", ""),
                    created_at=raw.get("created_at"),
                    mitigation=mitigation.get("description", ""),
                    automatic=bool(mitigation.get("automatic")),
                    action=mitigation.get("action", "none"),
                    unmanaged_access_code_id=raw.get("unmanaged_access_code_id"),
                )
            )
    return found


def _catalog_mitigation(code: str) -> dict[str, Any]:
    """For issues stored without their mitigation (some services write warnings directly)."""
    known = ISSUE_TYPES.get(code)
    return known.mitigation.as_wire() if known is not None else {}


def can_convert(device: Wire | None) -> bool:
    """Whether the lock's brand lets pinwarden take over codes it did not set."""
    if device is None:
        return False
    for profile in BRANDS.values():
        if profile.device_type == device.get("device_type"):
            return profile.capabilities.supports_unmanaged_conversion
    return True


def actions_for(code: Wire, device: Wire | None, issues: list[IssueView]) -> list[Action]:
    """The buttons for the mitigations that apply to this code now."""
    cid = code["access_code_id"]
    has_error = any(i.kind == "error" for i in issues)
    retry_helps = any(i.kind == "error" and i.action not in _RETRY_DOES_NOT_HELP for i in issues)
    actions: list[Action] = []
    if code.get("status") == "removing":
        if any(i.action == "force_forget" for i in issues):
            actions.append(Action("Forget", f"/console/codes/{cid}/forget", "danger"))
        if has_error:
            actions.append(Action("Retry", f"/console/codes/{cid}/retry"))
        return actions
    if code.get("is_backup_access_code_available") and not code.get("pulled_backup_access_code_id"):
        actions.append(Action("Pull backup code", f"/console/codes/{cid}/pull-backup", "primary"))
    duplicates = dict.fromkeys(i.unmanaged_access_code_id for i in issues)
    for other in (d for d in duplicates if d):
        if can_convert(device):
            actions.append(
                Action("Convert duplicate to managed", f"/console/unmanaged/{other}/convert")
            )
        actions.append(Action("Delete duplicate", f"/console/unmanaged/{other}/delete", "danger"))
    if retry_helps:
        actions.append(Action("Retry", f"/console/codes/{cid}/retry"))
    actions.append(Action("Delete", f"/console/codes/{cid}/delete", "danger"))
    return actions


def code_view(deps: Deps, ws: str, code: Wire, device: Wire | None) -> CodeView:
    issues = issues_of(code)
    backup = None
    if code.get("pulled_backup_access_code_id"):
        try:
            backup = access_codes.get(
                deps, ws, {"access_code_id": code["pulled_backup_access_code_id"]}
            )
        except ServiceError:  # the backup has already been removed from the lock
            backup = None
    return CodeView(code, device, issues, actions_for(code, device, issues), backup)


# -- which arrivals are at risk ----------------------------------------------------------------


def _confirmed(code: Wire, now: datetime) -> bool:
    """On the lock (or scheduled on it), or deferred to just-in-time with a clean preflight.

    Locks without native schedules only get a code shortly before it starts; until then
    preflight stands in for confirmation (promise P2), and a failed preflight is an error.
    """
    if code.get("status") == "set" or code.get("is_scheduled_on_device"):
        return True
    for mutation in code.get("pending_mutations", []):
        if mutation.get("mutation_code") == "deferring_creation":
            scheduled = parse_time(mutation.get("scheduled_at"))
            if scheduled is not None and scheduled > now:
                return True
    return False


def _starts_soon(code: Wire, now: datetime, until: datetime) -> bool:
    starts_at, ends_at = parse_time(code.get("starts_at")), parse_time(code.get("ends_at"))
    if ends_at is not None and ends_at <= now:
        return False
    return starts_at is None or starts_at <= until


def _by_start(view: CodeView) -> tuple[datetime, str]:
    start = parse_time(view.code.get("starts_at")) or _EPOCH
    return start, view.code.get("name") or ""


def classify(
    codes: Iterable[Wire], now: datetime, until: datetime
) -> tuple[list[Wire], list[Wire], int]:
    """(arrivals at risk, removals not yet confirmed, arrivals on track)."""
    arrivals, removals, on_track = [], [], 0
    for code in codes:
        if code.get("status") == "removing":
            removals.append(code)
        elif _starts_soon(code, now, until):
            if code.get("errors") or not _confirmed(code, now):
                arrivals.append(code)
            else:
                on_track += 1
    return arrivals, removals, on_track


def at_risk(deps: Deps, ws: str) -> AtRisk:
    now = deps.clock.now()
    until = now + Policy().deadline
    by_id = {d["device_id"]: d for d in _devices(deps, ws)}
    arrivals, removals, on_track = classify(_managed(deps, ws), now, until)

    def views(codes: list[Wire]) -> list[CodeView]:
        found = [code_view(deps, ws, c, by_id.get(c["device_id"])) for c in codes]
        return sorted(found, key=_by_start)

    return AtRisk(now, until, views(arrivals), views(removals), on_track)


# -- devices -------------------------------------------------------------------------------------


def device_summaries(deps: Deps, ws: str) -> list[DeviceSummary]:
    now = deps.clock.now()
    until = now + Policy().deadline
    managed: dict[str, list[Wire]] = {}
    for code in _managed(deps, ws):
        managed.setdefault(code["device_id"], []).append(code)
    foreign: dict[str, int] = {}
    for code in _unmanaged(deps, ws):
        foreign[code["device_id"]] = foreign.get(code["device_id"], 0) + 1
    summaries = []
    for device in _devices(deps, ws):
        codes = managed.get(device["device_id"], [])
        arrivals, removals, _ = classify(codes, now, until)
        summaries.append(
            DeviceSummary(
                device,
                issues_of(device),
                managed=len(codes),
                unmanaged=foreign.get(device["device_id"], 0),
                at_risk=len(arrivals) + len(removals),
            )
        )
    return sorted(summaries, key=lambda s: s.device.get("display_name") or "")


def device_detail(deps: Deps, ws: str, device_id: str) -> DeviceDetail:
    device = devices.get_device(deps, ws, {"device_id": device_id})
    codes = _managed(deps, ws, device_id=device_id)
    views = sorted((code_view(deps, ws, c, device) for c in codes), key=_by_start)
    foreign = _unmanaged(deps, ws, device_id=device_id)
    return DeviceDetail(
        device,
        issues_of(device),
        views,
        foreign,
        can_convert(device),
    )


def device_names(deps: Deps, ws: str) -> dict[str, str]:
    return {d["device_id"]: d.get("display_name") or d["device_id"] for d in _devices(deps, ws)}


# -- events --------------------------------------------------------------------------------------


def _tail(deps: Deps, ws: str, since: datetime, count: int) -> list[Wire]:
    """The last `count` events since `since`, oldest first."""
    tail: deque[Wire] = deque(maxlen=count)
    offset = 0
    while True:
        batch = events.list_events(
            deps, ws, {"since": since, "limit": _EVENT_BATCH, "unstable_offset": offset}
        )
        tail.extend(batch)
        if len(batch) < _EVENT_BATCH:
            return list(tail)
        offset += _EVENT_BATCH


def recent_events(deps: Deps, ws: str, count: int = EVENTS_SHOWN) -> list[Wire]:
    """The newest `count` events, newest first.

    The event service lists oldest first from `since`, so read a short recent stretch first
    and reach further back only when it holds fewer than `count`.
    """
    now = deps.clock.now()
    for lookback in _EVENT_LOOKBACKS:
        since = _EPOCH if lookback is None else now - lookback
        tail = _tail(deps, ws, since, count)
        if len(tail) >= count or lookback is None:
            return tail[::-1]
    return []
