"""Engine worker processes: the locks due at one moment, reconciled on every core.

The engine is Python and most of its time is the interpreter's, so one process uses one core.
`WorkerPool` starts N processes (spawned, each with its own store connections and engine); the
runner hands them the locks due at a moment with that moment's time, and waits for all of
them before it moves on, so the order of moments is kept exactly as in one process.

Each lock always goes to the same worker (a hash of its id), so a worker sees its own share of
the locks again and again and its cache of decoded codes (`_CodeStates`) holds that share only.

Locks are independent: two workers never reconcile the same lock at once, because a lock is in
one batch only and the runner waits for the moment to finish. On SQLite their write
transactions queue on the database lock (WAL, BEGIN IMMEDIATE); on PostgreSQL they run side by
side.
"""

from __future__ import annotations

import logging
import multiprocessing
import random
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime

from pinwarden.engine.clock import Clock, SystemClock, VirtualClock

log = logging.getLogger("pinwarden.engine")

RunBatch = Callable[[list[str]], None]


class _TaskClock:
    """A worker's clock: the time of the moment it was handed, and the runner's way of
    waiting (real time sleeps, virtual time does not)."""

    def __init__(self) -> None:
        self.moment: datetime | None = None
        self.waits: Clock = VirtualClock(datetime.now(UTC))

    def now(self) -> datetime:
        if self.moment is None:
            raise RuntimeError("an engine worker reads the clock only inside a task")
        return self.moment

    def sleep_until(self, moment: datetime) -> None:
        self.waits.sleep_until(moment)


_clock = _TaskClock()
_run_batch: RunBatch | None = None


def _start(url: str, real_time: bool, secret_key: bytes | None) -> None:
    from pinwarden.engine.host import ProviderHost
    from pinwarden.engine.reconcile import Engine
    from pinwarden.engine.runner import ManualRunner
    from pinwarden.service.deps import Deps
    from pinwarden.service.secrets import SecretBox
    from pinwarden.store.store import Store

    global _run_batch
    if real_time:
        _clock.waits = SystemClock()
    store = Store(url)
    box = SecretBox(secret_key) if secret_key else None
    deps = Deps(store=store, clock=_clock, rng=random.SystemRandom(), secrets=box)
    # No event sink: the server process records what locks report; this one only sends.
    engine = Engine(deps, host=ProviderHost(store, _clock, secrets=box))
    _run_batch = ManualRunner(store, _clock, engine.reconcile_devices).run_batch


def _reconcile(device_ids: list[str], moment: datetime) -> None:
    assert _run_batch is not None, "worker not started"
    _clock.moment = moment
    try:
        _run_batch(device_ids)
    finally:
        _clock.moment = None


class WorkerPool:
    """N engine processes over the store at `url`; each lock has its own worker."""

    def __init__(
        self, url: str, workers: int, real_time: bool = False, secret_key: bytes | None = None
    ) -> None:
        if workers < 1:
            raise ValueError("an engine worker pool needs at least one worker")
        self.url = url
        self.workers = workers
        self.real_time = real_time  # the runner's clock is the system clock: waits are real
        self.secret_key = secret_key  # opens accounts' credentials in the workers
        self._pools = [self._new_pool() for _ in range(workers)]

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self.url, self.real_time, self.secret_key),
        )

    def worker_of(self, device_id: str) -> int:
        return zlib.crc32(device_id.encode()) % self.workers

    def run(
        self, device_ids: Sequence[str], batch_size: int, moment: datetime, fallback: RunBatch
    ) -> None:
        """Reconcile `device_ids` at `moment` on the workers, in batches of at most
        `batch_size`, and wait for all of them. A batch whose worker died is run by `fallback`
        (in the caller's process) instead, and that worker is started again."""
        shares: list[list[str]] = [[] for _ in range(self.workers)]
        for device_id in device_ids:
            shares[self.worker_of(device_id)].append(device_id)
        futures: list[tuple[int, list[str], Future[None]]] = [
            (worker, batch, self._pools[worker].submit(_reconcile, batch, moment))
            for worker, share in enumerate(shares)
            for batch in (share[i : i + batch_size] for i in range(0, len(share), batch_size))
        ]
        broken: set[int] = set()
        for worker, batch, future in futures:
            try:
                future.result()
            except Exception:
                log.exception("an engine worker failed; reconciling its %d locks here", len(batch))
                broken.add(worker)
                fallback(batch)
        for worker in broken:  # a dead worker leaves its executor unusable: start a fresh one
            self._pools[worker].shutdown(wait=False, cancel_futures=True)
            self._pools[worker] = self._new_pool()

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)
