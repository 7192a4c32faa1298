"""The event log: every state change appends an event in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, Row, and_, bindparam, select

from pinwarden.service import wire
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError, invalid
from pinwarden.service.pagination import asks_for_foreign
from pinwarden.store.prepared import Prepared, RawConnection
from pinwarden.store.schema import events
from pinwarden.store.writes import Writes

_INSERT = events.insert()
# One event, as a create writes it (on a driver connection: store/prepared.py).
_PREPARED_INSERT = Prepared(
    events.insert().values({c.key: bindparam(c.key) for c in events.c if c.key != "seq"})
)


def event_row(
    workspace_id: str,
    event_type: str,
    now: datetime,
    *,
    device: Row[Any] | None = None,
    access_code_id: str | None = None,
    **payload: Any,
) -> dict[str, Any]:
    return {
        "event_id": str(uuid4()),
        "workspace_id": workspace_id,
        "event_type": event_type,
        "device_id": device.device_id if device is not None else None,
        "connected_account_id": device.connected_account_id if device is not None else None,
        "access_code_id": access_code_id,
        "payload": payload,
        "created_at": now,
        "occurred_at": now,
    }


def record(
    conn: Connection | Writes | RawConnection,
    workspace_id: str,
    event_type: str,
    now: datetime,
    *,
    device: Row[Any] | None = None,
    access_code_id: str | None = None,
    **payload: Any,
) -> str:
    row = event_row(
        workspace_id, event_type, now, device=device, access_code_id=access_code_id, **payload
    )
    if isinstance(conn, RawConnection):
        _PREPARED_INSERT.run(conn, row).close()
    else:  # a SQLAlchemy connection, or the engine's write buffer (store/writes.py)
        conn.execute(_INSERT, row)
    return str(row["event_id"])


def record_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Append several events in one statement."""
    if rows:
        conn.execute(_INSERT, rows)


def list_events(deps: Deps, workspace_id: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    if "since" not in p and "between" not in p:
        raise invalid("since", "give `since` or `between` (two timestamps)")
    if asks_for_foreign(p):
        return []
    conds = [events.c.workspace_id == workspace_id]
    if "since" in p:
        conds.append(events.c.occurred_at >= p["since"])
    if "between" in p:
        if len(p["between"]) != 2:
            raise invalid("between", "must be two timestamps")
        conds += [events.c.occurred_at >= p["between"][0], events.c.occurred_at <= p["between"][1]]
    for one, many, column in (
        ("access_code_id", "access_code_ids", events.c.access_code_id),
        ("device_id", "device_ids", events.c.device_id),
        ("event_type", "event_types", events.c.event_type),
        (None, "event_ids", events.c.event_id),
        ("connected_account_id", None, events.c.connected_account_id),
    ):
        values = ([p[one]] if one and one in p else []) + (p.get(many, []) if many else [])
        if values or (many and many in p):  # an empty list of ids asks for none
            conds.append(column.in_(values))
    query = (
        select(events)
        .where(and_(*conds))
        .order_by(events.c.seq)
        .offset(int(p.get("unstable_offset", 0)))
        .limit(int(p.get("limit", 500)))
    )
    with deps.store.read() as conn:
        return [wire.event(row) for row in conn.execute(query)]


def get_event(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    conds = [events.c.workspace_id == workspace_id]
    if "event_id" in p:
        conds.append(events.c.event_id == p["event_id"])
    if "event_type" in p:
        conds.append(events.c.event_type == p["event_type"])
    if "device_id" in p:
        conds.append(events.c.device_id == p["device_id"])
    if len(conds) == 1:
        raise invalid("event_id", "give event_id, event_type or device_id")
    with deps.store.read() as conn:
        row = conn.execute(
            select(events).where(and_(*conds)).order_by(events.c.seq.desc()).limit(1)
        ).first()
    if row is None:
        raise ServiceError("event_not_found", "Event not found", 404)
    return wire.event(row)
