"""Action attempts: the receipt Seam returns for every write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select, update

from pinwarden.domain.ids import new_id
from pinwarden.service import wire
from pinwarden.service.deps import Deps
from pinwarden.service.errors import not_found
from pinwarden.service.pagination import Page, each, paginate
from pinwarden.store.prepared import AnyConnection, Prepared, RawConnection
from pinwarden.store.schema import action_attempts

_INSERT = Prepared(
    action_attempts.insert().values(
        {c.key: bindparam(c.key) for c in action_attempts.c if c.key != "seq"}
    )
)


def record(
    conn: AnyConnection,
    workspace_id: str,
    action_type: str,
    now: datetime,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    device_id: str | None = None,
    access_code_id: str | None = None,
) -> dict[str, Any]:
    """Store a finished attempt and return its wire form."""
    row = {
        "action_attempt_id": new_id(),
        "workspace_id": workspace_id,
        "action_type": action_type,
        "status": "error" if error else "success",
        "result": result if error is None else None,
        "error": error,
        "device_id": device_id,
        "access_code_id": access_code_id,
        "created_at": now,
    }
    _INSERT.run(RawConnection.of(conn), row).close()
    return {
        "action_attempt_id": row["action_attempt_id"],
        "action_type": action_type,
        "status": row["status"],
        "result": row["result"],
        "error": error,
    }


def start(
    conn: Connection, workspace_id: str, action_type: str, now: datetime, *, device_id: str
) -> dict[str, Any]:
    """Store an attempt that is still under way (`pending`) and return its wire form."""
    attempt_id = new_id()
    conn.execute(
        action_attempts.insert().values(
            action_attempt_id=attempt_id,
            workspace_id=workspace_id,
            action_type=action_type,
            status="pending",
            device_id=device_id,
            created_at=now,
        )
    )
    return {
        "action_attempt_id": attempt_id,
        "action_type": action_type,
        "status": "pending",
        "result": None,
        "error": None,
    }


def finish(
    conn: Connection,
    attempt_id: str,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> None:
    """A pending attempt ends: `success` with its result, or `error` ({type, message})."""
    conn.execute(
        update(action_attempts)
        .where(
            action_attempts.c.action_attempt_id == attempt_id,
            action_attempts.c.status == "pending",
        )
        .values(
            status="error" if error else "success",
            result=None if error else (result or {}),
            error=error,
        )
    )


def get_attempt(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    with deps.store.read() as conn:
        row = conn.execute(
            select(action_attempts).where(
                action_attempts.c.workspace_id == workspace_id,
                action_attempts.c.action_attempt_id == p["action_attempt_id"],
            )
        ).first()
    if row is None:
        raise not_found("action_attempt", action_attempt_id=p["action_attempt_id"])
    return wire.action_attempt(row)


def list_attempts(deps: Deps, workspace_id: str, p: dict[str, Any]) -> Page:
    conds = [action_attempts.c.workspace_id == workspace_id]
    if "action_attempt_ids" in p:  # an empty list asks for none
        conds.append(action_attempts.c.action_attempt_id.in_(p["action_attempt_ids"]))
    if "device_id" in p:
        conds.append(action_attempts.c.device_id == p["device_id"])
    return paginate(
        deps, action_attempts, and_(*conds), p, each(wire.action_attempt), default_limit=500
    )
