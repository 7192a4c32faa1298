"""Putting the parts together: settings, store, clock, engine runner and the HTTP app."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from pinwarden.api import access_codes as access_code_routes
from pinwarden.api import accounts as account_routes
from pinwarden.api import clock as clock_routes
from pinwarden.api import openapi, resources, simulate
from pinwarden.api import webhooks as webhook_routes
from pinwarden.api.app import Route, create_app
from pinwarden.console.routes import installer as console_installer
from pinwarden.engine import distributed as distributed_runtime
from pinwarden.engine.clock import Clock, SystemClock, VirtualClock
from pinwarden.engine.host import ProviderHost
from pinwarden.engine.reconcile import Engine
from pinwarden.engine.runner import EmbeddedRunner, ManualRunner
from pinwarden.engine.supervisor import AccountSupervisor
from pinwarden.engine.workers import WorkerPool
from pinwarden.events.dispatcher import Dispatcher
from pinwarden.events.policy import DeliveryPolicy
from pinwarden.service.deps import Deps
from pinwarden.service.secrets import SecretBox, new_key
from pinwarden.store import db
from pinwarden.store.checkpoint import Checkpointer
from pinwarden.store.schema import settings as settings_table
from pinwarden.store.store import Store

_CLOCK_KEY = "virtual_clock_now"


@dataclass
class Settings:
    data_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("PINWARDEN_DATA_DIR", ".pinwarden"))
    )
    database_url: str | None = field(
        default_factory=lambda: os.environ.get("PINWARDEN_DATABASE_URL")
    )
    virtual_clock: bool = False

    def url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return db.sqlite_url(self.data_dir)


class PersistentVirtualClock(VirtualClock):
    """A virtual clock whose time is saved in the store, so a restart does not turn it back."""

    def __init__(self, store: Store, start: datetime) -> None:
        with store.read() as conn:
            saved = conn.execute(
                select(settings_table.c.value).where(settings_table.c.key == _CLOCK_KEY)
            ).scalar()
        super().__init__(datetime.fromisoformat(saved) if saved else start)
        self._store = store

    def set(self, moment: datetime) -> datetime:
        now = super().set(moment)
        with self._store.begin() as conn:
            conn.execute(settings_table.delete().where(settings_table.c.key == _CLOCK_KEY))
            conn.execute(settings_table.insert().values(key=_CLOCK_KEY, value=now.isoformat()))
        return now


def all_routes(runner: ManualRunner | None) -> list[Route]:
    routes = [
        *access_code_routes.ROUTES,
        *resources.ROUTES,
        *account_routes.ROUTES,
        *simulate.ROUTES,
        *webhook_routes.ROUTES,
    ]
    if runner is not None:
        routes += clock_routes.routes(runner.advance_to)
    return routes


@dataclass
class Runtime:
    deps: Deps
    engine: Engine
    runner: ManualRunner
    app: FastAPI
    supervisor: AccountSupervisor | None = None
    # Sends webhooks (None with --distributed: `pinwarden worker` processes send them).
    dispatcher: Dispatcher | None = None
    checkpoints: Checkpointer | None = None  # SQLite: WAL checkpoints off the request path

    def start(self) -> None:
        """Start what runs in the background: the embedded engine, the accounts' watcher,
        the webhook dispatcher."""
        if isinstance(self.runner, EmbeddedRunner):
            self.runner.start()
        if self.supervisor is not None:
            self.supervisor.start()
        if self.dispatcher is not None:
            self.dispatcher.start()

    def close(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
        if isinstance(self.runner, EmbeddedRunner | distributed_runtime.DistributedRunner):
            self.runner.stop()
        if self.runner.pool is not None:
            self.runner.pool.close()
        if self.dispatcher is not None:
            self.dispatcher.close()
        if self.checkpoints is not None:
            self.checkpoints.stop()
        self.engine.close()
        self.deps.store.dispose()


def build(
    store: Store,
    *,
    virtual_clock: bool = False,
    clock: Clock | None = None,
    embedded: bool = True,
    engine_workers: int = 0,
    distributed: bool = False,
    secrets: SecretBox | None = None,
    watch_accounts: bool | None = None,
    delivery: DeliveryPolicy | None = None,
    **app_kwargs: Any,
) -> Runtime:
    """Wire a runtime. `embedded=False` gives a ManualRunner that tests drive;
    `engine_workers=N` reconciles the moments with many locks due in N processes;
    `distributed=True` leaves the engine and webhooks to `pinwarden worker` processes
    (PostgreSQL). `secrets` seals accounts' credentials (default: a key for this process
    only); `watch_accounts` keeps real installations connected (default: with a server's
    runner). The dispatcher sends webhooks once started (`pinwarden serve`), and on the
    virtual clock whenever the clock is moved."""
    store.require_migrated()
    if distributed:
        if virtual_clock or clock is not None:
            raise ValueError("the distributed runtime runs on the system clock only")
        distributed_runtime.require_schema(store)
    if clock is None:
        clock = (
            PersistentVirtualClock(store, SystemClock().now()) if virtual_clock else SystemClock()
        )
    box = secrets or SecretBox(new_key().encode())
    deps = Deps(store=store, clock=clock, virtual_clock=virtual_clock, secrets=box)
    host = ProviderHost(store, clock, secrets=box)
    engine = Engine(deps, host=host)
    supervisor = AccountSupervisor(deps, host)
    deps.accounts = supervisor  # door commands go through it even when it watches nothing
    if watch_accounts is None:
        watch_accounts = embedded or distributed
    runner: ManualRunner
    if distributed:
        runner = distributed_runtime.DistributedRunner(store, clock)
    else:
        runner_cls = EmbeddedRunner if embedded else ManualRunner
        pool = (
            WorkerPool(
                store.url,
                engine_workers,
                real_time=isinstance(clock, SystemClock),
                secret_key=box.key,
            )
            if engine_workers
            else None
        )
        runner = runner_cls(store, clock, engine.reconcile_devices, pool=pool)
    deps.runner = runner
    dispatcher = None if distributed else Dispatcher(store, clock, delivery)
    if dispatcher is not None:
        runner.work.append(dispatcher)
    routes = all_routes(runner if isinstance(clock, VirtualClock) else None)
    extra = [console_installer(deps), openapi.installer(routes)]
    app = create_app(deps, routes, extra=extra, **app_kwargs)
    supervising = supervisor if watch_accounts else None
    checkpoints = Checkpointer(store) if store.is_sqlite else None
    if checkpoints is not None:
        checkpoints.start()
    return Runtime(deps, engine, runner, app, supervising, dispatcher, checkpoints)
