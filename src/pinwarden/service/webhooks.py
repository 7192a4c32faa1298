"""Webhooks (Seam's `/webhooks/*`) and their delivery log (pinwarden's addition)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
from sqlalchemy import Connection, Row, delete, func, select, update

from pinwarden.events import attempts
from pinwarden.events.signing import new_secret
from pinwarden.service import wire
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError, invalid, not_found
from pinwarden.store.schema import events, webhook_attempts, webhook_deliveries, webhooks

D = webhook_deliveries
# `*`, an event type, or every type under a prefix (`access_code.*`).
_EVENT_TYPE = re.compile(r"\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?")
MAX_EVENT_TYPES = 200
DELIVERIES_SHOWN = 100


def _url(value: str) -> str:
    """An http(s) URL the dispatcher can send to (its port in range, httpx can parse it)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError when out of range)
        httpx.URL(value)
    except (ValueError, httpx.InvalidURL):
        raise invalid("url", "is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("url", "must be an http:// or https:// URL with a host")
    if any(c.isspace() for c in value):
        raise invalid("url", "must not contain spaces")
    return value


def _event_types(values: list[str]) -> list[str]:
    if not values:
        raise invalid("event_types", 'name at least one event type, or "*" for all')
    if len(values) > MAX_EVENT_TYPES:
        raise invalid("event_types", f"at most {MAX_EVENT_TYPES} event types")
    for value in values:
        if not _EVENT_TYPE.fullmatch(value):
            raise invalid(
                "event_types",
                f'{value!r} is not an event type (e.g. "access_code.created", '
                '"access_code.*" or "*")',
            )
    return list(dict.fromkeys(values))


def _row(conn: Connection, workspace_id: str, webhook_id: str) -> Row[Any]:
    row = conn.execute(
        select(webhooks).where(
            webhooks.c.workspace_id == workspace_id, webhooks.c.webhook_id == webhook_id
        )
    ).first()
    if row is None:
        raise not_found("webhook")
    return row


def create(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    row = {
        "webhook_id": str(uuid4()),
        "workspace_id": workspace_id,
        "url": _url(p["url"]),
        "event_types": _event_types(p.get("event_types", ["*"])),
        "secret": new_secret(),
        "created_at": deps.clock.now(),
    }
    with deps.store.begin() as conn:
        latest = conn.execute(select(func.max(events.c.seq))).scalar()
        conn.execute(webhooks.insert().values({**row, "after_event_seq": latest or 0}))
        return {"webhook": wire.webhook(_row(conn, workspace_id, row["webhook_id"]))}


def list_webhooks(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    with deps.store.read() as conn:
        rows = conn.execute(
            select(webhooks)
            .where(webhooks.c.workspace_id == workspace_id)
            .order_by(webhooks.c.created_at, webhooks.c.webhook_id)
        )
        return {"webhooks": [wire.webhook(r) for r in rows]}


def get(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    with deps.store.read() as conn:
        return {"webhook": wire.webhook(_row(conn, workspace_id, p["webhook_id"]))}


def update_webhook(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """Seam's update (`event_types`), and pinwarden's `url` and `enabled`: `true` sends again
    to a webhook that was disabled, `false` stops sending."""
    if not {"event_types", "url", "enabled"} & p.keys():
        raise invalid("event_types", "give event_types (or url, or enabled) to change")
    values: dict[str, Any] = {}
    if "event_types" in p:
        values["event_types"] = _event_types(p["event_types"])
    if "url" in p:
        values["url"] = _url(p["url"])
    now = deps.clock.now()
    with deps.store.begin() as conn:
        row = _row(conn, workspace_id, p["webhook_id"])
        if p.get("enabled") is True:
            values.update(disabled_at=None, disabled_reason=None, failing_since=None)
        elif p.get("enabled") is False and row.disabled_at is None:
            attempts.disable(conn, row.webhook_id, now, "Disabled through the API.")
        if values:
            conn.execute(update(webhooks).where(webhooks.c.webhook_id == row.webhook_id), values)
    return {}


def delete_webhook(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    with deps.store.begin() as conn:
        webhook_id = _row(conn, workspace_id, p["webhook_id"]).webhook_id
        conn.execute(delete(webhook_attempts).where(webhook_attempts.c.webhook_id == webhook_id))
        conn.execute(delete(D).where(D.c.webhook_id == webhook_id))
        conn.execute(delete(webhooks).where(webhooks.c.webhook_id == webhook_id))
    return {}


# -- the delivery log ---------------------------------------------------------------------------


def _deliveries(conn: Connection, rows: list[Row[Any]]) -> list[dict[str, Any]]:
    ids = [r.delivery_id for r in rows]
    attempts: dict[str, list[Row[Any]]] = {i: [] for i in ids}
    for a in conn.execute(
        select(webhook_attempts)
        .where(webhook_attempts.c.delivery_id.in_(ids))
        .order_by(webhook_attempts.c.seq)
    ):
        attempts[a.delivery_id].append(a)
    return [wire.webhook_delivery(r, attempts[r.delivery_id]) for r in rows]


def _log_query(workspace_id: str) -> Any:
    return (
        select(D, events.c.event_type)
        .join(events, events.c.event_id == D.c.event_id)
        .where(D.c.workspace_id == workspace_id)
    )


def list_deliveries(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """The latest deliveries first, with every attempt of each."""
    query = _log_query(workspace_id)
    for key in ("webhook_id", "event_id", "status"):
        if key in p:
            query = query.where(D.c[key] == p[key])
    query = query.order_by(D.c.seq.desc()).limit(p.get("limit", DELIVERIES_SHOWN))
    with deps.store.read() as conn:
        return {"deliveries": _deliveries(conn, list(conn.execute(query)))}


def _delivery(conn: Connection, workspace_id: str, delivery_id: str) -> dict[str, Any]:
    row = conn.execute(_log_query(workspace_id).where(D.c.delivery_id == delivery_id)).first()
    if row is None:
        raise not_found("webhook_delivery")
    return _deliveries(conn, [row])[0]


def get_delivery(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    with deps.store.read() as conn:
        return {"delivery": _delivery(conn, workspace_id, p["delivery_id"])}


def resend(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """Send a delivery again now, under the same `webhook-id` (the dispatcher picks it up)."""
    now = deps.clock.now()
    with deps.store.begin() as conn:
        found = _delivery(conn, workspace_id, p["delivery_id"])
        hook = _row(conn, workspace_id, found["webhook_id"])
        if hook.disabled_at is not None:
            raise ServiceError(
                "webhook_disabled",
                "this webhook is disabled; enable it again (POST /webhooks/update with "
                "enabled: true) before resending",
            )
        conn.execute(
            update(D)
            .where(D.c.delivery_id == found["delivery_id"])
            .values(status="pending", next_attempt_at=now, claimed_until=None, trigger="manual")
        )
        return {"delivery": _delivery(conn, workspace_id, found["delivery_id"])}
