"""The event log: every state change appends an event in the same transaction, and with it the
webhook outbox row that will carry it to the workspace's webhooks (events/outbox.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, select

from pinwarden.catalog.events import PINWARDEN_EVENT_TYPES
from pinwarden.catalog.issues import ISSUE_TYPES
from pinwarden.domain.ids import new_id
from pinwarden.domain.model import Issue
from pinwarden.service import wire
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError, invalid
from pinwarden.service.pagination import asks_for_foreign
from pinwarden.store.prepared import Prepared, RawConnection
from pinwarden.store.schema import events, webhook_outbox
from pinwarden.store.writes import Writes

_INSERT = events.insert()
_OUTBOX = webhook_outbox.insert()
_OUTBOX_KEYS = ("event_id", "workspace_id", "event_type", "created_at")
# One event and its outbox row, as a create writes them (on a driver connection:
# store/prepared.py).
_PREPARED_INSERT = Prepared(
    events.insert().values({c.key: bindparam(c.key) for c in events.c if c.key != "seq"})
)
_PREPARED_OUTBOX = Prepared(
    webhook_outbox.insert().values({key: bindparam(key) for key in _OUTBOX_KEYS})
)


def event_row(
    workspace_id: str,
    event_type: str,
    now: datetime,
    *,
    device: Row[Any] | None = None,
    access_code_id: str | None = None,
    device_id: str | None = None,
    connected_account_id: str | None = None,
    **payload: Any,
) -> dict[str, Any]:
    """An event as stored; `device` (a row) gives its device and connected account ids.
    Issues in the payload (a planner's issue fields) are written in their wire shape,
    mitigation included."""
    if device is not None:
        device_id, connected_account_id = device.device_id, device.connected_account_id
    return {
        "event_id": new_id(),
        "workspace_id": workspace_id,
        "event_type": event_type,
        "device_id": device_id,
        "connected_account_id": connected_account_id,
        "access_code_id": access_code_id,
        "payload": {key: _wire(value) for key, value in payload.items()},
        "created_at": now,
        "occurred_at": now,
    }


def _wire(value: Any) -> Any:
    """Every issue in an event in its wire shape, and with its mitigation."""
    if isinstance(value, Issue):
        return wire.issue_to_wire(value)
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    code = value.get("error_code") or value.get("warning_code") if isinstance(value, dict) else None
    if code in ISSUE_TYPES and "mitigation" not in value:
        return {**value, "mitigation": ISSUE_TYPES[code].mitigation.as_wire()}
    return value


def record(
    conn: Connection | Writes | RawConnection,
    workspace_id: str,
    event_type: str,
    now: datetime,
    *,
    device: Row[Any] | None = None,
    access_code_id: str | None = None,
    device_id: str | None = None,
    connected_account_id: str | None = None,
    **payload: Any,
) -> str:
    row = event_row(
        workspace_id,
        event_type,
        now,
        device=device,
        access_code_id=access_code_id,
        device_id=device_id,
        connected_account_id=connected_account_id,
        **payload,
    )
    if isinstance(conn, RawConnection):
        _PREPARED_INSERT.run(conn, row).close()
        _PREPARED_OUTBOX.run(conn, {key: row[key] for key in _OUTBOX_KEYS}).close()
    else:  # a SQLAlchemy connection, or the engine's write buffer (store/writes.py)
        record_many(conn, [row])
    return str(row["event_id"])


def record_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Append events, each with its outbox row (two statements, whatever the number)."""
    if rows:
        conn.execute(_INSERT, rows)
        conn.execute(_OUTBOX, [{key: row[key] for key in _OUTBOX_KEYS} for row in rows])


def list_events(deps: Deps, workspace_id: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    if "since" not in p and "between" not in p:
        raise invalid("since", "give `since` or `between` (two timestamps)")
    if asks_for_foreign(p):
        return []
    conds = [events.c.workspace_id == workspace_id, *_time_window(p)]
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
    if not {"event_type", "event_types", "event_ids"} & p.keys():  # pinwarden's own: if named
        conds.append(events.c.event_type.not_in(PINWARDEN_EVENT_TYPES))
    order = events.c.seq.desc() if p.get("order") == "newest_first" else events.c.seq
    query = (
        select(events)
        .where(and_(*conds))
        .order_by(order)
        .offset(int(p.get("unstable_offset", 0)))
        .limit(int(p.get("limit", 500)))
    )
    with deps.store.read() as conn:
        return [wire.event(row) for row in conn.execute(query)]


def _time_window(p: dict[str, Any]) -> list[Any]:
    """`since` counts from that moment on; `between` is Seam's exclusive interval."""
    conds = []
    if "since" in p:
        conds.append(events.c.occurred_at >= p["since"])
    if "between" in p:
        if len(p["between"]) != 2:
            raise invalid("between", "must be two timestamps")
        start, end = p["between"]
        conds += [events.c.occurred_at > start, events.c.occurred_at < end]
    return conds


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
    if "event_id" not in p and "event_type" not in p:  # pinwarden's own: when named
        conds.append(events.c.event_type.not_in(PINWARDEN_EVENT_TYPES))
    with deps.store.read() as conn:
        row = conn.execute(
            select(events).where(and_(*conds)).order_by(events.c.seq.desc()).limit(1)
        ).first()
    if row is None:
        raise ServiceError("event_not_found", "Event not found", 404)
    return wire.event(row)
