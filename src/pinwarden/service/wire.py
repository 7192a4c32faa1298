"""Rows to Seam-shaped JSON objects. The only place that knows the wire shape of a resource
(an access code's own JSON is rendered by the database: store/access_code_wire.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Row

from pinwarden.catalog.issues import issue_type
from pinwarden.domain.model import Issue


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds cut, as store/access_code_wire.py writes them."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def issue_to_wire(issue: Issue) -> dict[str, Any]:
    """An issue as stored on a code or device (already in wire shape, plus `mitigation`)."""
    t = issue_type(issue.code)
    key = "error_code" if issue.kind == "error" else "warning_code"
    body: dict[str, Any] = {
        key: issue.code,
        "message": issue.message,
        "created_at": iso(issue.created_at),
    }
    if issue.kind == "error":
        if t.scope == "access_code":
            body["is_access_code_error"] = True
        elif t.scope == "device":
            body["is_device_error"] = True
        else:
            body["is_connected_account_error"] = True
    body.update(issue.extra)
    body["mitigation"] = t.mitigation.as_wire()
    return body


def with_warning(
    stored: list[dict[str, Any]], code: str, message: str, now: datetime
) -> list[dict[str, Any]]:
    """`stored` warnings with `code` (re)placed, in the same shape the engine writes."""
    kept = [w for w in stored if w.get("warning_code") != code]
    return [*kept, issue_to_wire(Issue(code, "warning", message, now))]


def issue_from_wire(body: dict[str, Any]) -> Issue:
    code = body.get("error_code") or body["warning_code"]
    known = {
        "error_code",
        "warning_code",
        "message",
        "created_at",
        "mitigation",
        "is_access_code_error",
        "is_device_error",
        "is_connected_account_error",
    }
    return Issue(
        code=code,
        kind="error" if "error_code" in body else "warning",
        message=body["message"],
        created_at=datetime.fromisoformat(body["created_at"].replace("Z", "+00:00")),
        extra={k: v for k, v in body.items() if k not in known},
    )


def lock_errors_shown(lock_errors: Any, uses_backup_pool: bool) -> list[dict[str, Any]]:
    """The lock's errors that its codes carry too (the lock cannot be reached; the backup pool
    for codes that use it), never the others (a paused lock is the lock's own issue).
    `lock_errors` as the driver gives the column (JSON text on SQLite)."""
    if not lock_errors or lock_errors == "[]":
        return []
    errors = orjson.loads(lock_errors) if isinstance(lock_errors, str) else lock_errors
    return [
        e
        for e in errors
        if issue_type(e.get("error_code") or e["warning_code"]).shown_on(uses_backup_pool)
    ]


def access_code(
    wire: str, lock_errors: Any = (), backup_ready: Any = False, *, embed: bool = False
) -> Any:
    """An access code for a response: the JSON the database keeps for it
    (store/access_code_wire.py), plus what its lock adds: the lock's own errors, copied onto
    each of its codes, and a ready backup code (`backup_ready` is only ever true for a
    time-bound managed code). `lock_errors` is the lock's `errors` column as the driver gives
    it (JSON text on SQLite).

    `embed`: the result only goes out as JSON, so a code its lock adds nothing to is the
    stored text itself (an `orjson.Fragment`, embedded without being parsed); otherwise a dict.
    """
    if (not lock_errors or lock_errors == "[]") and not backup_ready:  # most codes, most days
        return orjson.Fragment(wire) if embed else orjson.loads(wire)
    errors = orjson.loads(lock_errors) if isinstance(lock_errors, str) else lock_errors
    body = orjson.loads(wire)
    body["errors"] = [*body["errors"], *errors]
    if backup_ready:
        body["is_backup_access_code_available"] = True
    return body


def action_attempt(row: Row[Any]) -> dict[str, Any]:
    return {
        "action_attempt_id": row.action_attempt_id,
        "action_type": row.action_type,
        "status": row.status,
        "result": row.result if row.status == "success" else None,
        "error": row.error if row.status == "error" else None,
    }


def event(row: Row[Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": row.event_id,
        "event_type": row.event_type,
        "workspace_id": row.workspace_id,
        "created_at": iso(row.created_at),
        "occurred_at": iso(row.occurred_at),
    }
    for key in ("device_id", "access_code_id", "connected_account_id"):
        if getattr(row, key) is not None:
            body[key] = getattr(row, key)
    body.update(row.payload)
    return body


def connected_account(row: Row[Any]) -> dict[str, Any]:
    return {
        "connected_account_id": row.connected_account_id,
        "account_type": row.account_type,
        "account_type_display_name": row.display_name,
        "display_name": row.display_name,
        "created_at": iso(row.created_at),
        "errors": list(row.errors),
        "warnings": [],
        "custom_metadata": dict(row.custom_metadata),
        "automatically_manage_new_devices": True,
        "accepted_capabilities": ["lock"],
        "user_identifier": {"username": row.display_name},
    }


def webhook(row: Row[Any]) -> dict[str, Any]:
    """Seam's `webhook`, and pinwarden's additions: whether it is sending, and why not."""
    status = "disabled" if row.disabled_at else "failing" if row.failing_since else "active"
    return {
        "webhook_id": row.webhook_id,
        "url": row.url,
        "event_types": list(row.event_types),
        "secret": row.secret,
        "created_at": iso(row.created_at),
        "status": status,
        "failing_since": iso(row.failing_since),
        "disabled_at": iso(row.disabled_at),
        "disabled_reason": row.disabled_reason,
    }


def webhook_delivery(row: Row[Any], attempts: list[Row[Any]]) -> dict[str, Any]:
    """One event sent to one webhook (`delivery_id` is its `webhook-id` header), with the
    attempts made so far, oldest first. `row` carries the event's `event_type`."""
    return {
        "delivery_id": row.delivery_id,
        "webhook_id": row.webhook_id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "status": row.status,
        "attempt_count": row.attempts,
        "created_at": iso(row.created_at),
        "last_attempt_at": iso(row.last_attempt_at),
        "next_attempt_at": iso(row.next_attempt_at),
        "attempts": [
            {
                "attempted_at": iso(a.attempted_at),
                "status": "succeeded" if a.succeeded else "failed",
                "response_status_code": a.response_status_code,
                "response_body": a.response_body,
                "error": a.error,
                "duration_ms": a.duration_ms,
                "trigger": a.trigger,
            }
            for a in attempts
        ],
    }
