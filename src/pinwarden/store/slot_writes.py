"""What pinwarden last wrote into each slot of a lock (the write-ahead record)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from pinwarden.store.schema import slot_writes
from pinwarden.store.writes import Writes

_COLUMNS = (
    "code",
    "name",
    "access_code_id",
    "written_at",
    "acked_at",
    "changed_at",
    "removal_sent_at",
    "prior_code",
    "prior_name",
    "prior_access_code_id",
)


def _replace(insert: Any) -> Any:
    stmt = insert(slot_writes)
    return stmt.on_conflict_do_update(
        index_elements=[slot_writes.c.device_id, slot_writes.c.slot],
        set_={k: stmt.excluded[k] for k in _COLUMNS},
    )


# One statement per write (an upsert), so the engine can send many writes in one call.
_REPLACE = {"sqlite": _replace(sqlite.insert), "postgresql": _replace(postgresql.insert)}


def remember_write(
    conn: Connection | Writes,
    device_id: str,
    slot: int,
    code: str | None,
    name: str | None,
    access_code_id: str | None,
    now: datetime,
    *,
    acked_at: datetime | None = None,
    changed_at: datetime | None = None,
    removal_sent_at: datetime | None = None,
    prior: tuple[str | None, str | None, str | None] | None = None,
) -> None:
    """Replace the slot's record: a write decided at `now`, acknowledged by the lock at
    `acked_at` (None: not yet, or not known to have been sent). `prior`: (code, name, access
    code id) of the acknowledged write it follows, kept until this one is acknowledged."""
    dialect = (conn.conn if isinstance(conn, Writes) else conn).dialect.name
    conn.execute(
        _REPLACE[dialect],
        {
            "device_id": device_id,
            "slot": slot,
            "code": code,
            "name": name,
            "access_code_id": access_code_id,
            "written_at": now,
            "acked_at": acked_at,
            "changed_at": changed_at,
            "removal_sent_at": removal_sent_at,
            "prior_code": prior[0] if prior else None,
            "prior_name": prior[1] if prior else None,
            "prior_access_code_id": prior[2] if prior else None,
        },
    )


def forget_slot(conn: Connection | Writes, device_id: str, slot: int) -> None:
    conn.execute(
        slot_writes.delete().where(slot_writes.c.device_id == device_id, slot_writes.c.slot == slot)
    )
