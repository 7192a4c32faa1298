"""The scale-out runtime: the engine as procrastinate tasks on PostgreSQL.

`pinwarden serve --distributed` runs the API and console only; any number of `pinwarden worker`
processes, on any machines, run the engine. Both talk through PostgreSQL alone:

- a change that needs the engine (a code created, a lock back online) makes its lock due in
  its own transaction, then defers a `pinwarden.reconcile` job for that lock, so the engine
  comes at once; while one job is still waiting, another for the same lock collapses into it
  (procrastinate's queueing lock);
- every second the `pinwarden.sweep` periodic task (deferred once per second whatever the
  number of workers) claims the locks whose `next_wake_at` has come, in one statement with
  `FOR UPDATE SKIP LOCKED`, moves their wake a lease ahead so no other sweep claims them again,
  and defers their reconciles in batches. A worker that dies mid-batch leaves the lease to run
  out, and the next sweep claims its locks again;
- a reconcile holds a PostgreSQL advisory lock per lock for its whole run (taken in id order,
  so two batches cannot deadlock), so one lock is never reconciled twice at once, whichever
  jobs it is in. The engine then writes each lock's real next wake;
- a reconcile job whose worker died (no heartbeat for `STALLED_AFTER` seconds) is run again by
  the `pinwarden.retry_stalled` periodic task.

The reconcile itself is the same `Engine.reconcile_devices` the embedded runtime runs. The
workers deliver webhooks too (events/jobs.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status
from sqlalchemy import text, update
from sqlalchemy.engine import make_url

from pinwarden.engine.clock import Clock, SystemClock
from pinwarden.engine.runner import BATCH_SIZE, ManualRunner, due
from pinwarden.events import jobs as webhook_jobs
from pinwarden.events.dispatcher import Dispatcher
from pinwarden.events.policy import DeliveryPolicy
from pinwarden.service.secrets import SecretBox
from pinwarden.store.schema import devices
from pinwarden.store.store import Store

log = logging.getLogger("pinwarden.engine")

QUEUE = "pinwarden"
RECONCILE = "pinwarden.reconcile"
SWEEP = "pinwarden.sweep"
RETRY_STALLED = "pinwarden.retry_stalled"
# A worker sends a heartbeat this often; a job whose worker has been silent for STALLED_AFTER
# died with it, and is run again.
HEARTBEAT_SECONDS = 2.0
STALLED_AFTER = 10.0
# How long a claimed lock is left to the worker that claimed it before a sweep claims it again.
LEASE = timedelta(minutes=2)
# Locks claimed by one sweep at most (the next sweep, a second later, takes the rest).
CLAIM_LIMIT = 2_000


class DistributedUnavailable(Exception):
    """This database cannot run the distributed runtime (not PostgreSQL, or no job tables)."""


def conninfo(url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise DistributedUnavailable(
            "the distributed runtime needs PostgreSQL: set PINWARDEN_DATABASE_URL to a "
            "postgresql+psycopg:// URL"
        )
    rendered: str = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return rendered


def make_app(url: str) -> procrastinate.App:
    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url)))


def has_schema(store: Store) -> bool:
    with store.read() as conn:
        return conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None


def apply_schema(store: Store) -> bool:
    """Create procrastinate's tables unless they are there; True if it created them."""
    if has_schema(store):
        return False
    app = make_app(store.url)
    with app.open():
        app.schema_manager.apply_schema()
    return True


def require_schema(store: Store) -> None:
    """Refuse, saying what to do, a database this runtime cannot run on."""
    conninfo(store.url)  # PostgreSQL only
    if not has_schema(store):
        raise DistributedUnavailable(
            "the job queue's tables are missing from this database: run `pinwarden db upgrade`"
        )


class DistributedRunner(ManualRunner):
    """The API process's side: requests become jobs; the workers do the rest."""

    def __init__(self, store: Store, clock: Clock) -> None:
        super().__init__(store, clock, reconcile=_not_here)
        self.app = make_app(store.url).open()

    def request_reconcile(self, device_id: str) -> None:
        try:
            self.app.configure_task(RECONCILE, queue=QUEUE, queueing_lock=device_id).defer(
                device_ids=[device_id]
            )
        except AlreadyEnqueued:
            pass  # a job for this lock is still waiting: it will see this change too
        except Exception:  # the change is committed: never fail the request for the job
            # Its transaction made the lock due (`defer_wake`), so the sweep will take it.
            log.warning(
                "could not queue a reconcile of %s; the sweep will", device_id, exc_info=True
            )

    def start(self) -> None:
        """Nothing to start here: `pinwarden worker` processes run the engine."""

    def stop(self) -> None:
        self.app.close()


def _not_here(device_ids: list[str]) -> None:
    raise RuntimeError("with --distributed, locks are reconciled by `pinwarden worker`")


@contextmanager
def leases(store: Store, device_ids: list[str]) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock on each lock for the duration (in id order)."""
    with store.engine.connect() as conn:
        try:
            for device_id in sorted(device_ids):
                conn.execute(
                    text("SELECT pg_advisory_lock(hashtextextended(:key, 0))"),
                    {"key": f"pinwarden.device:{device_id}"},
                )
            conn.commit()
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock_all()"))
            conn.commit()


def claim_due(store: Store, now: datetime, limit: int = CLAIM_LIMIT) -> list[str]:
    """The locks whose wake time has come, each claimed by exactly one caller."""
    claimable = due(now).limit(limit).with_for_update(skip_locked=True).scalar_subquery()
    with store.begin() as conn:
        claimed = conn.execute(
            update(devices)
            .where(devices.c.device_id.in_(claimable))
            .values(next_wake_at=now + LEASE)
            .returning(devices.c.device_id)
        )
        return list(claimed.scalars())


def worker_app(
    store: Store, run_batch: Any, clock: Clock, delivery: DeliveryPolicy | None = None
) -> procrastinate.App:
    """The worker's app: the reconcile task and the sweep, and webhook delivery."""
    app = make_app(store.url)
    webhook_jobs.install(app, Dispatcher(store, clock, delivery), QUEUE)

    @app.task(name=RECONCILE, queue=QUEUE)
    def reconcile(device_ids: list[str]) -> None:
        with leases(store, device_ids):
            run_batch(device_ids)

    @app.periodic(cron="* * * * * *", periodic_id="sweep")
    @app.task(name=SWEEP, queue=QUEUE, queueing_lock=SWEEP)
    async def sweep(timestamp: int) -> None:
        claimed = await asyncio.to_thread(claim_due, store, clock.now())
        for i in range(0, len(claimed), BATCH_SIZE):
            await app.configure_task(RECONCILE, queue=QUEUE).defer_async(
                device_ids=claimed[i : i + BATCH_SIZE]
            )
        if claimed:
            log.info("sweep: %d locks due", len(claimed))

    @app.periodic(cron="* * * * * */5", periodic_id="retry_stalled")  # seconds come last
    @app.task(name=RETRY_STALLED, queue=QUEUE, queueing_lock=RETRY_STALLED)
    async def retry_stalled(timestamp: int) -> None:
        """A reconcile whose worker died mid-job is run again. (A lock claimed by the sweep
        would be claimed again when its lease runs out, but a requested one, an idle lock
        with a new code, has no wake time that would bring it back.)"""
        stalled = await app.job_manager.get_stalled_jobs(
            queue=QUEUE, task_name=RECONCILE, seconds_since_heartbeat=STALLED_AFTER
        )
        for job in stalled:
            log.warning("job %s stalled with its worker; running it again", job.id)
            try:
                await app.job_manager.retry_job(job)
            except UniqueViolation:
                # A job for the same lock is already waiting (its queueing lock): that one
                # covers this one's work, so this one ends here instead of waiting beside it.
                await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=True)

    return app


def run_worker(
    store: Store,
    concurrency: int = 8,
    secrets: SecretBox | None = None,
    delivery: DeliveryPolicy | None = None,
) -> None:
    """`pinwarden worker`: run the engine's jobs until SIGINT/SIGTERM, `concurrency` batches
    at a time (in threads: a batch spends most of its time waiting on paced locks)."""
    from pinwarden.engine.reconcile import Engine
    from pinwarden.service.deps import Deps

    require_schema(store)
    # One line per job and one job a second (the sweep) would bury the engine's own log.
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    from pinwarden.engine.host import ProviderHost

    clock = SystemClock()
    # No event sink: the server process watching each account records what locks report.
    host = ProviderHost(store, clock, secrets=secrets)
    engine = Engine(Deps(store=store, clock=clock, secrets=secrets), host=host)
    runner = ManualRunner(store, clock, engine.reconcile_devices)
    app = worker_app(store, runner.run_batch, clock, delivery)
    app.run_worker(
        queues=[QUEUE],
        concurrency=concurrency,
        delete_jobs="successful",
        update_heartbeat_interval=HEARTBEAT_SECONDS,
        stalled_worker_timeout=STALLED_AFTER,
    )
