"""Access codes rendered to Seam's JSON by SQLite itself, for lists.

A list of 500 codes spent most of its time turning rows into dicts and back into JSON; here
SQLite's JSON functions build each object and the response embeds the text as it is. The
object is the one `wire.access_code` builds (a test holds the two equal).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, Row, String, and_, case, func, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from pinwarden.service.wire import errors_shown_on_code
from pinwarden.store.schema import access_codes, devices

_c = access_codes.c
_backup = access_codes.alias("backup")


def _bool(condition: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.json(case((condition, "true"), else_="false"))


def _time(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.strftime("%Y-%m-%dT%H:%M:%fZ", column)


# Not correlated, so SQLite evaluates it once per query, not once per row.
_backup_ready = _c.device_id.in_(
    select(_backup.c.device_id).where(
        _backup.c.is_managed.is_(True),
        _backup.c.is_backup.is_(True),
        _backup.c.backup_pulled_for.is_(None),
        _backup.c.status == "set",
    )
)

WIRE_JSON = type_coerce(
    func.json_object(
        "access_code_id", _c.access_code_id,
        "workspace_id", _c.workspace_id,
        "device_id", _c.device_id,
        "name", _c.name,
        "code", _c.code,
        "type", case((and_(_c.starts_at.is_(None), _c.ends_at.is_(None)), "ongoing"),
                     else_="time_bound"),
        "created_at", _time(_c.created_at),
        "starts_at", _time(_c.starts_at),
        "ends_at", _time(_c.ends_at),
        "errors", func.json(_c.errors),
        "warnings", func.json(_c.warnings),
        "is_managed", func.json("true"),
        "status", _c.status,
        "common_code_key", _c.common_code_key,
        "is_backup_access_code_available", _bool(and_(_c.ends_at.is_not(None), _backup_ready)),
        "is_backup", _bool(_c.is_backup.is_(True)),
        "pulled_backup_access_code_id", _c.pulled_backup_access_code_id,
        "is_external_modification_allowed", _bool(_c.allow_external_modification.is_(True)),
        "is_one_time_use", _bool(_c.is_one_time_use.is_(True)),
        "is_offline_access_code", _bool(_c.is_offline_access_code.is_(True)),
        "is_scheduled_on_device", _bool(_c.is_scheduled_on_device.is_(True)),
        "is_waiting_for_code_assignment", _bool(_c.code.is_(None)),
        "pending_mutations", func.json(_c.pending_mutations),
    ),
    String,
).label("wire")  # fmt: skip

COLUMNS = (
    WIRE_JSON,
    _c.device_id.label("wire_device_id"),
    _c.use_backup_access_code_pool.label("wire_uses_pool"),
)


def render(conn: Connection, rows: list[Row[Any]]) -> list[Any]:
    """Managed codes as JSON fragments; a lock's own errors are copied onto its codes."""
    ids = {r.wire_device_id for r in rows}
    troubled = {
        d.device_id: list(d.errors)
        for d in conn.execute(
            select(devices.c.device_id, devices.c.errors).where(devices.c.device_id.in_(ids))
        )
        if d.errors
    }
    out: list[Any] = []
    for r in rows:
        extra = errors_shown_on_code(troubled.get(r.wire_device_id, []), bool(r.wire_uses_pool))
        if not extra:
            out.append(orjson.Fragment(r.wire))
        else:
            body = orjson.loads(r.wire)
            body["errors"] = [*body["errors"], *extra]
            out.append(body)
    return out
