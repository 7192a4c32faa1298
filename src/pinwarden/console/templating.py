"""The Jinja2 environment and the filters the templates use to show times and issues."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
PIN_MASK = "••••"

# Event payload fields the events page does not repeat (they have their own columns).
_EVENT_COLUMNS = {
    "event_id",
    "event_type",
    "workspace_id",
    "created_at",
    "occurred_at",
    "device_id",
    "access_code_id",
    "connected_account_id",
}


def _moment(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc(value: datetime | str | None) -> str:
    """`2026-12-03T15:00:00Z`: UTC, ISO 8601, whole seconds."""
    moment = _moment(value)
    if moment is None:
        return "—"
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def local(value: datetime | str | None, zone: str | None) -> str:
    """`Thu 3 Dec 2026 15:00 CET` in the lock's time zone; UTC (as `utc`) when it has none."""
    moment = _moment(value)
    if moment is None:
        return "—"
    if not zone:
        return utc(moment)
    here = moment.astimezone(ZoneInfo(zone))
    return f"{here:%a} {here.day} {here:%b %Y %H:%M} {here.tzname()}"


def local_input(value: datetime | str | None, zone: str | None) -> str:
    """The value of a `datetime-local` field: the lock's local time (UTC without a zone)."""
    moment = _moment(value)
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone) if zone else UTC).strftime("%Y-%m-%dT%H:%M")


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def relative(value: datetime | str | None, now: datetime) -> str:
    """`in 2 d 3 h` or `5 min ago`, against the server's clock (which may be virtual)."""
    moment = _moment(value)
    if moment is None:
        return ""
    delta = (moment - now).total_seconds()
    if abs(delta) < 60:
        return "now"
    return f"in {_span(delta)}" if delta > 0 else f"{_span(-delta)} ago"


def short_id(value: str | None) -> str:
    return value[:8] if value else "—"


def event_details(event: dict[str, Any], show_pins: bool = False) -> list[tuple[str, str]]:
    """The event's own payload fields, as (name, value) pairs; empty ones left out, and PINs
    hidden unless the operator asked to see them."""
    details = []
    for key, value in event.items():
        if key in _EVENT_COLUMNS or value is None or value in ([], {}, ""):
            continue
        shown = value if show_pins else hide_pins(value, key)
        details.append((key, _compact(shown)))
    return details


def hide_pins(value: Any, key: str = "") -> Any:
    """`value` with every PIN in it replaced by dots: a `code` field, or the `from` and `to` of
    a changed `code` property."""
    if key == "code" and isinstance(value, str):
        return PIN_MASK
    if isinstance(value, list):
        return [hide_pins(item) for item in value]
    if isinstance(value, dict):
        pin_change = value.get("property") == "code"
        return {
            k: PIN_MASK if pin_change and k in ("from", "to") and v else hide_pins(v, k)
            for k, v in value.items()
        }
    return value


def _compact(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_compact(v) for v in value)
    if isinstance(value, dict):
        code = value.get("error_code") or value.get("warning_code")
        if code:  # an issue: its code and message say what happened
            return f"{code}: {value.get('message', '')}"
        return ", ".join(f"{k} {_compact(v)}" for k, v in value.items())
    return str(value)


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        utc=utc,
        local=local,
        local_input=local_input,
        relative=relative,
        short_id=short_id,
        event_details=event_details,
    )
    return env
