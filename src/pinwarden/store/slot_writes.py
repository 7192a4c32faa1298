"""What pinwarden last wrote into each slot of a lock (the write-ahead record)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam

from pinwarden.store.schema import slot_writes

_FORGET = slot_writes.delete().where(
    slot_writes.c.device_id == bindparam("b_device"), slot_writes.c.slot == bindparam("b_slot")
)
_ADD = slot_writes.insert()


def remember_write(
    conn: Connection,
    device_id: str,
    slot: int,
    code: str | None,
    name: str | None,
    access_code_id: str | None,
    now: datetime,
) -> None:
    """Replace the slot's record. `access_code_id=None` marks a slot whose stale content an
    operator told us to ignore (force_forget)."""
    conn.execute(_FORGET, {"b_device": device_id, "b_slot": slot})
    conn.execute(
        _ADD,
        {
            "device_id": device_id,
            "slot": slot,
            "code": code,
            "name": name,
            "access_code_id": access_code_id,
            "written_at": now,
        },
    )
