"""Reading the console's code form: the same checks as the API's, and times in the lock's zone.

A `datetime-local` field has no zone; the console reads it in the lock's time zone (UTC when
the lock has none), so an operator types check-in as the property's clock shows it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pinwarden.api.access_codes import CODE, NAME
from pinwarden.api.params import parse
from pinwarden.service.errors import invalid

FIELDS = ("name", "code", "starts_at", "ends_at")


def moment(name: str, value: str, zone: str | None) -> datetime:
    """A `datetime-local` value in the lock's zone (or full ISO 8601 with an offset), in UTC."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise invalid(name, "must be a date and time like 2026-12-03T15:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(zone) if zone else UTC)
    return when.astimezone(UTC)


def _window(fields: dict[str, str], zone: str | None) -> dict[str, Any]:
    """Both times, or neither (an ongoing code)."""
    given = {k: fields.get(k, "").strip() for k in ("starts_at", "ends_at")}
    if not any(given.values()):
        return {"type": "ongoing"}
    missing = [k for k, v in given.items() if not v]
    if missing:
        raise invalid(missing[0], "give both times for a stay, or neither for an ongoing code")
    return {k: moment(k, v, zone) for k, v in given.items()}


def code_params(fields: dict[str, str], zone: str | None, *, editing: bool) -> dict[str, Any]:
    """The service parameters for a filled-in code form. An empty PIN lets pinwarden pick one
    (or, when editing, keeps the PIN)."""
    raw = {k: fields[k].strip() for k in ("name", "code") if fields.get(k, "").strip()}
    p = parse((NAME, CODE), raw, from_query=True)
    if editing and "name" not in p:
        p["name"] = None
    window = _window(fields, zone)
    if not editing and window == {"type": "ongoing"}:
        window = {}
    return {**p, **window}


def kept(fields: dict[str, str]) -> dict[str, str]:
    """What was typed, to show the form again after a refusal."""
    return {k: fields.get(k, "") for k in FIELDS}
