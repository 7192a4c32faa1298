"""Engine worker processes: the locks due at one moment, reconciled on every core.

The engine is Python and most of its time is the interpreter's, so one process uses one core.
`WorkerPool` starts N processes (spawned, each with its own store connections and engine); the
runner hands them the batches due at a moment with that moment's time, and waits for all of
them before it moves on, so the order of moments is kept exactly as in one process.

Locks are independent: two workers never reconcile the same lock at once, because a lock is in
one batch only and the runner waits for the moment to finish. On SQLite their write
transactions queue on the database lock (WAL, BEGIN IMMEDIATE); on PostgreSQL they run side by
side.
"""

from __future__ import annotations

import logging
import multiprocessing
import random
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime

log = logging.getLogger("pinwarden.engine")

RunBatch = Callable[[list[str]], None]


class _TaskClock:
    """A worker's clock: the time of the moment it was handed."""

    def __init__(self) -> None:
        self.moment: datetime | None = None

    def now(self) -> datetime:
        if self.moment is None:
            raise RuntimeError("an engine worker reads the clock only inside a task")
        return self.moment


_clock = _TaskClock()
_run_batch: RunBatch | None = None


def _start(url: str) -> None:
    from pinwarden.engine.reconcile import Engine
    from pinwarden.engine.runner import ManualRunner
    from pinwarden.service.deps import Deps
    from pinwarden.store.store import Store

    global _run_batch
    store = Store(url)
    engine = Engine(Deps(store=store, clock=_clock, rng=random.SystemRandom()))
    _run_batch = ManualRunner(store, _clock, engine.reconcile_devices).run_batch


def _reconcile(device_ids: list[str], moment: datetime) -> None:
    assert _run_batch is not None, "worker not started"
    _clock.moment = moment
    try:
        _run_batch(device_ids)
    finally:
        _clock.moment = None


class WorkerPool:
    """N engine processes over the store at `url`."""

    def __init__(self, url: str, workers: int) -> None:
        if workers < 1:
            raise ValueError("an engine worker pool needs at least one worker")
        self.url = url
        self.workers = workers
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self.url,),
        )

    def run(self, batches: Sequence[list[str]], moment: datetime, fallback: RunBatch) -> None:
        """Reconcile `batches` at `moment` on the workers and wait for all of them. A batch
        whose worker died is run by `fallback` (in the caller's process) instead."""
        futures: list[tuple[list[str], Future[None]]] = [
            (batch, self._pool.submit(_reconcile, batch, moment)) for batch in batches
        ]
        broken = False
        for batch, future in futures:
            try:
                future.result()
            except Exception:
                log.exception("an engine worker failed; reconciling its %d locks here", len(batch))
                broken = True
                fallback(batch)
        if broken:  # a dead worker leaves the pool unusable: start a fresh one
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
