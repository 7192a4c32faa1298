"""SQLite's WAL checkpoints, taken off the request path.

In WAL mode a commit appends its pages to the `-wal` file, and now and then a checkpoint
copies them back into the database file and fsyncs both. By default the commit that takes the
WAL past 1,000 pages runs that checkpoint itself: on this 2-core machine that commit takes
about 20 ms instead of 0.1 ms, once every few dozen creates, which is the p99 of a create.

`Checkpointer` runs them on a thread of its own instead, every `seconds`, in PASSIVE mode (it
never waits for readers or writers, nor makes them wait), and the connections checkpoint by
themselves only past `db.WAL_AUTOCHECKPOINT` pages, should the thread fall behind.
Durability is the same: a commit is safe from a crash of the process once it is in the WAL,
checkpointed or not.
"""

from __future__ import annotations

import logging
import threading

from pinwarden.store.store import Store

log = logging.getLogger("pinwarden.store")


class Checkpointer:
    def __init__(self, store: Store, seconds: float = 1.0) -> None:
        if not store.is_sqlite:
            raise ValueError("checkpoints are SQLite's; PostgreSQL runs its own")
        self.store = store
        self.seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pinwarden-wal", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def checkpoint(self) -> None:
        """Copy what the WAL holds into the database file, as far as no reader needs it."""
        fairy = self.store.read_engine.raw_connection()
        try:
            fairy.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            fairy.close()

    def _loop(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.checkpoint()
            except Exception:  # a busy or closing database: the next round tries again
                log.warning("WAL checkpoint failed; trying again", exc_info=True)
