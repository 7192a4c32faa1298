"""SQLite's WAL is copied into the database file by the server's checkpoint thread, not by the
commit of a request (store/checkpoint.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import insert, select

from pinwarden.store.checkpoint import Checkpointer
from pinwarden.store.schema import settings
from pinwarden.store.store import Store

BIG = "x" * 2_000_000  # about 500 pages


def _wait_for(condition: object, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_commits_leave_the_wal_to_the_checkpoint_thread(tmp_path: Path) -> None:
    db = tmp_path / "pinwarden.db"
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    before = os.path.getsize(db)
    with store.begin() as conn:
        conn.execute(insert(settings).values(key="big", value=BIG))
    assert os.path.getsize(db) == before  # committed, and only in the WAL
    checkpoints = Checkpointer(store, seconds=0.05)
    checkpoints.start()
    try:
        assert _wait_for(lambda: os.path.getsize(db) >= before + len(BIG))
    finally:
        checkpoints.stop()
    with store.read() as conn:
        assert conn.execute(select(settings.c.value).where(settings.c.key == "big")).scalar() == BIG
    store.dispose()
