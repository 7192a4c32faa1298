"""Who runs the engine when. Triggers carry only a device id; duplicates collapse.

Devices due at the same moment are reconciled in batches (`Engine.reconcile_devices`); if a
batch fails, its devices are run one by one, so one bad lock cannot hold the others back.

- `EmbeddedRunner`: one background thread in the server process (SQLite default).
- `ManualRunner`: records requests; tests and the simulator call `run_due()` themselves.
Either can hand the moments with many locks due to engine worker processes (`WorkerPool`).

Other work that falls due at moments of the clock (webhook deliveries) joins as `DueWork`:
the virtual clock's `advance_to` steps through its moments in time order with the locks'.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Select, func, select

from pinwarden.engine.clock import Clock, VirtualClock
from pinwarden.engine.workers import WorkerPool
from pinwarden.store.schema import devices
from pinwarden.store.store import Store

log = logging.getLogger("pinwarden.engine")

Reconcile = Callable[[list[str]], object]

BATCH_SIZE = 64
# Fewer locks than this at a moment are not worth a round trip to the workers.
_MIN_SHARED = 16


class DueWork(Protocol):
    """Work besides reconciles that falls due at moments of the clock."""

    def next_due(self) -> datetime | None:
        """The earliest moment with work waiting (None: nothing waits)."""
        ...

    def run_due(self, now: datetime) -> None:
        """Do everything due by `now`, and return when it is done."""
        ...


class ManualRunner:
    """Collects requests; `run_due` reconciles requested and due devices, in time order."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        reconcile: Reconcile,
        batch_size: int = BATCH_SIZE,
        pool: WorkerPool | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.reconcile = reconcile  # takes a batch of device ids
        self.batch_size = batch_size
        self.pool = pool  # engine worker processes for the moments with many locks due
        self.requested: dict[str, None] = {}  # insertion-ordered set; guarded by _queue_lock
        self.work: list[DueWork] = []  # stepped through by advance_to
        self._queue_lock = threading.Lock()
        self._lock = threading.RLock()

    def request_reconcile(self, device_id: str) -> None:
        """Look at the device as soon as possible. The change that asks has already made the
        device due in its own transaction (`defer_wake`), so a request lost with the process
        is not lost for the engine; this only brings the engine sooner."""
        with self._queue_lock:
            self.requested[device_id] = None

    def _next_requests(self) -> list[str]:
        with self._queue_lock:
            batch = list(self.requested)[: self.batch_size]
            for device_id in batch:
                del self.requested[device_id]
            return batch

    def _due(self, until: datetime) -> list[str]:
        with self.store.read() as conn:
            return list(conn.execute(due(until)).scalars())

    def all_devices(self) -> list[str]:
        with self.store.read() as conn:
            return list(
                conn.execute(
                    select(devices.c.device_id)
                    .where(devices.c.removed_at.is_(None))
                    .order_by(devices.c.created_at, devices.c.device_id)
                ).scalars()
            )

    def _earliest_wake(self) -> datetime | None:
        with self.store.read() as conn:
            return conn.execute(
                select(func.min(devices.c.next_wake_at)).where(devices.c.removed_at.is_(None))
            ).scalar()

    def run_batch(self, device_ids: list[str]) -> None:
        """Reconcile a batch; if it fails, its locks one by one, so a bad one holds no other."""
        try:
            self.reconcile(device_ids)
        except Exception:
            if len(device_ids) > 1:  # find the bad lock: the others must not wait for it
                log.warning(
                    "reconcile of %d devices together failed; running them one by one",
                    len(device_ids),
                    exc_info=True,
                )
                for device_id in device_ids:
                    self.run_batch([device_id])
                return
            # One bad lock must not stop the others, nor hold the clock: look again later.
            log.exception("reconcile of device %s failed; retrying in a minute", device_ids[0])
            with self.store.begin() as conn:
                conn.execute(
                    devices.update()
                    .where(devices.c.device_id == device_ids[0])
                    .values(next_wake_at=self.clock.now() + timedelta(minutes=1))
                )

    def _run_all(self, device_ids: list[str]) -> int:
        """Reconcile the locks due at one moment: in batches, on the worker processes when
        there are enough locks to share between them."""
        if self.pool is not None and len(device_ids) >= _MIN_SHARED:
            self.pool.run(device_ids, self.batch_size, self.clock.now(), self.run_batch)
            return len(device_ids)
        for i in range(0, len(device_ids), self.batch_size):
            self.run_batch(device_ids[i : i + self.batch_size])
        return len(device_ids)

    def drain_requests(self) -> int:
        done = 0
        with self._lock:
            while batch := self._next_requests():
                self.run_batch(batch)
                done += len(batch)
        return done

    def run_due(self) -> int:
        """Reconcile every requested device and every device whose wake time has come."""
        with self._lock:
            done = self.drain_requests()
            return done + self._run_all(self._due(self.clock.now()))

    def _next_moment(self) -> datetime | None:
        moments = [self._earliest_wake(), *(work.next_due() for work in self.work)]
        return min((m for m in moments if m is not None), default=None)

    def _run_work(self) -> None:
        for work in self.work:
            work.run_due(self.clock.now())

    def advance_to(self, target: datetime) -> None:
        """Virtual clock only: step through every wake time and due work up to `target`, in
        order; what a moment's reconciles start (events to deliver) runs at that moment."""
        if not isinstance(self.clock, VirtualClock):
            raise TypeError("advance_to needs a virtual clock")
        with self._lock:
            self.drain_requests()
            self._run_work()
            while True:
                moment = self._next_moment()
                if moment is None or moment > target:
                    break
                self.clock.set(max(moment, self.clock.now()))
                self._run_all(self._due(self.clock.now()))
                self.drain_requests()
                self._run_work()
            self.clock.set(max(target, self.clock.now()))
            self.run_due()
            self._run_work()


class EmbeddedRunner(ManualRunner):
    """ManualRunner driven by a background thread: requests run at once, wake times on time."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        reconcile: Reconcile,
        poll_seconds: float = 1.0,
        pool: WorkerPool | None = None,
    ) -> None:
        super().__init__(store, clock, reconcile, pool=pool)
        self.poll_seconds = poll_seconds
        self._wakeup = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def request_reconcile(self, device_id: str) -> None:
        super().request_reconcile(device_id)
        self._wakeup.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="pinwarden-engine", daemon=True)
        self._thread.start()

    def _sweep_all(self) -> None:
        """Every lock once, at start: requests are held in memory until they run, so those of
        a process that died before running them would otherwise wait for the lock's next
        wake time, which may never come."""
        with self._lock:
            count = self._run_all(self.all_devices())
        log.info("start-up sweep: %d locks reconciled", count)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            self._sweep_all()
        except Exception:
            log.exception("start-up sweep failed; due locks still run")
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:
                log.exception("engine sweep failed; retrying")
            self._wakeup.wait(self.poll_seconds)
            self._wakeup.clear()


def due(until: datetime) -> Select[tuple[str]]:
    """The devices whose wake time has come by `until`, earliest first."""
    return (
        select(devices.c.device_id)
        .where(devices.c.next_wake_at <= until, devices.c.removed_at.is_(None))
        .order_by(devices.c.next_wake_at)
    )


def wake_after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
