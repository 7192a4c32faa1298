"""Where a sandbox lock's physical state lives: its row in `sandbox_locks`.

The simulated lock is a thing in the world, not pinwarden's belief about it, so every change to
it is read-modify-write under the row's lock (`FOR UPDATE` on PostgreSQL; SQLite's writers
already hold the database lock from BEGIN IMMEDIATE). The engine, the simulate routes and the
keypad each change it in their own short transaction, and none can lose another's change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, bindparam, select, update

from pinwarden.providers.sandbox.lock import SandboxLock
from pinwarden.store.schema import devices, sandbox_locks

_STATES = (
    select(sandbox_locks.c.device_id, devices.c.brand, sandbox_locks.c.state)
    .join(devices, devices.c.device_id == sandbox_locks.c.device_id)
    .where(sandbox_locks.c.device_id.in_(bindparam("ids", expanding=True)))
    .order_by(sandbox_locks.c.device_id)  # one order, so two writers never deadlock
)
_SAVE = update(sandbox_locks).where(sandbox_locks.c.device_id == bindparam("b_id"))


def _load(
    conn: Connection, device_ids: Sequence[str], *, for_update: bool
) -> dict[str, SandboxLock]:
    query = _STATES
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update(of=sandbox_locks)
    rows = conn.execute(query, {"ids": list(device_ids)}).all()
    return {row.device_id: SandboxLock(row.brand, row.state) for row in rows}


def peek(conn: Connection, device_ids: Sequence[str]) -> dict[str, SandboxLock]:
    """The locks as they are now, to look at only: nothing done to them is saved."""
    return _load(conn, device_ids, for_update=False)


@contextmanager
def holding(conn: Connection, device_ids: Sequence[str]) -> Iterator[dict[str, SandboxLock]]:
    """The locks under their rows' locks; those that changed are saved when the block ends
    without error (in the caller's transaction, which must be a write transaction)."""
    locks = _load(conn, device_ids, for_update=True)
    before = {device_id: lock.fingerprint() for device_id, lock in locks.items()}
    yield locks
    changed = [
        {"b_id": device_id, "state": lock.state}
        for device_id, lock in locks.items()
        if lock.fingerprint() != before[device_id]
    ]
    if changed:
        conn.execute(_SAVE, changed)


__all__ = ["holding", "peek"]
