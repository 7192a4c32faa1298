"""A look at a lock asked for while the engine is working on that lock is never lost."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.support import START

from pinwarden.engine.clock import VirtualClock
from pinwarden.engine.reconcile import Engine
from pinwarden.service import access_codes as codes
from pinwarden.service import auth
from pinwarden.service.deps import Deps
from pinwarden.service.devices import defer_wake
from pinwarden.service.sandbox import seed_sandbox_devices
from pinwarden.store.schema import devices
from pinwarden.store.store import Store


def _wake(store: Store, device_id: str) -> Any:
    with store.read() as conn:
        return conn.execute(
            select(devices.c.next_wake_at).where(devices.c.device_id == device_id)
        ).scalar_one()


def test_a_code_created_while_its_lock_is_reconciled_is_still_looked_at(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = VirtualClock(START)
    deps = Deps(store=store, clock=clock, rng=random.Random(2))
    workspace = auth.create_workspace(deps, "Wakes")
    lock = seed_sandbox_devices(deps, workspace)["august"]
    engine = Engine(deps)
    engine.reconcile_device(lock)
    assert _wake(store, lock) is None  # nothing to do on this lock
    with store.begin() as conn:
        defer_wake(conn, lock, clock.now())  # due now, say for a periodic look
    record_plans = engine._record_plans

    def booking_arrives_meanwhile(*args: Any) -> set[str]:
        # After the engine read the lock and before it records its verdict: a stay 20 days
        # ahead, which the API asks the engine to look at within a minute.
        start = clock.now() + timedelta(days=20)
        codes.create(
            deps,
            workspace,
            {
                "device_id": lock,
                "name": "Guest",
                "starts_at": start,
                "ends_at": start + timedelta(days=2),
            },
        )
        monkeypatch.undo()
        return record_plans(*args)

    monkeypatch.setattr(engine, "_record_plans", booking_arrives_meanwhile)
    engine.reconcile_device(lock)
    # The plan made before the booking arrived is not recorded (the booking's ask came in
    # after the lock was read): the engine reads the lock again at once, sees the code and
    # plans its programming at the horizon, 9 days before.
    assert _wake(store, lock) == START + timedelta(days=11)
