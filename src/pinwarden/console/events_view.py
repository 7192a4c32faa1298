"""The events page: the newest events, filtered by lock, code and type, with names for ids."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pinwarden.console.views import Wire, all_devices, managed_codes, unmanaged_codes
from pinwarden.service import events
from pinwarden.service.deps import Deps

EVENTS_SHOWN = 200
_EVENT_BATCH = 1000
# Look back this far for the newest events before reading further back.
_EVENT_LOOKBACKS = (timedelta(hours=1), timedelta(days=1), timedelta(days=30), None)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The event types pinwarden emits, offered in the type filter (with any other type seen).
KNOWN_TYPES = (
    "access_code.created",
    "access_code.changed",
    "access_code.scheduled_on_device",
    "access_code.set_on_device",
    "access_code.removed_from_device",
    "access_code.deleted",
    "access_code.failed_to_set_on_device",
    "access_code.failed_to_remove_from_device",
    "access_code.delay_in_setting_on_device",
    "access_code.delay_in_removing_from_device",
    "access_code.modified_external_to_seam",
    "access_code.backup_access_code_pulled",
    "access_code.unmanaged.created",
    "access_code.unmanaged.converted_to_managed",
    "access_code.unmanaged.removed",
    "device.connected",
    "device.disconnected",
    "device.removed",
    "lock.unlocked",
    "lock.access_denied",
)
# Filters the page takes from its query string, and the event field each one matches.
FILTERS = {"device": "device_id", "code": "access_code_id", "type": "event_type"}


@dataclass(frozen=True)
class EventsPage:
    events: list[Wire]
    filters: dict[str, str]  # the active filters, as in the query string
    show_pins: bool
    device_names: dict[str, str]
    code_names: dict[str, str]  # access code id to its name (managed and unmanaged codes)
    codes: list[tuple[str, str]]  # (id, label) choices for the code filter
    types: list[str]


def _tail(deps: Deps, ws: str, since: datetime, count: int, p: dict[str, Any]) -> list[Wire]:
    """The last `count` events since `since`, oldest first."""
    tail: deque[Wire] = deque(maxlen=count)
    offset = 0
    while True:
        batch = events.list_events(
            deps, ws, {**p, "since": since, "limit": _EVENT_BATCH, "unstable_offset": offset}
        )
        tail.extend(batch)
        if len(batch) < _EVENT_BATCH:
            return list(tail)
        offset += _EVENT_BATCH


def recent_events(
    deps: Deps, ws: str, filters: dict[str, str] | None = None, count: int = EVENTS_SHOWN
) -> list[Wire]:
    """The newest `count` events matching `filters` (event fields), newest first.

    The event service lists oldest first from `since`, so read a short recent stretch first
    and reach further back only when it holds fewer than `count`.
    """
    now = deps.clock.now()
    for lookback in _EVENT_LOOKBACKS:
        since = _EPOCH if lookback is None else now - lookback
        tail = _tail(deps, ws, since, count, filters or {})
        if len(tail) >= count or lookback is None:
            return tail[::-1]
    return []


def _code_label(code: Wire, devices: dict[str, str]) -> str:
    name = code.get("name") or "Unnamed code"
    where = devices.get(code["device_id"], "")
    kind = "" if code.get("is_managed", True) else ", unmanaged"
    return f"{name} ({where}{kind})"


def _names(codes: list[Wire]) -> dict[str, str]:
    """Access code id to name, pulled backups (not listed themselves) named for their guest."""
    names = {c["access_code_id"]: c.get("name") or "Unnamed code" for c in codes}
    for code in codes:
        if code.get("pulled_backup_access_code_id"):
            names[code["pulled_backup_access_code_id"]] = (
                f"backup for {names[code['access_code_id']]}"
            )
    return names


def events_page(deps: Deps, ws: str, query: dict[str, str]) -> EventsPage:
    """The page for `query`: `device`, `code` and `type` filter, `pins=shown` shows PINs."""
    filters = {k: query[k] for k in FILTERS if query.get(k)}
    devices = {
        d["device_id"]: d.get("display_name") or d["device_id"] for d in all_devices(deps, ws)
    }
    codes = managed_codes(deps, ws) + unmanaged_codes(deps, ws)
    found = recent_events(deps, ws, {FILTERS[k]: v for k, v in filters.items()})
    chosen = {filters["type"]} if "type" in filters else set()
    types = sorted({*KNOWN_TYPES, *(e["event_type"] for e in found)} | chosen)
    choices = sorted(
        ((c["access_code_id"], _code_label(c, devices)) for c in codes), key=lambda c: c[1]
    )
    return EventsPage(
        events=found,
        filters=filters,
        show_pins=query.get("pins") == "shown",
        device_names=devices,
        code_names=_names(codes),
        codes=choices,
        types=types,
    )
