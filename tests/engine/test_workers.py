"""Engine worker processes: the same month of stays on many locks ends the same as in one
process (every code programmed, confirmed, removed and forgotten)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bench.reconcile import run
from tests.support import START, ServerThread, client

from pinwarden.engine.clock import VirtualClock
from pinwarden.server import build
from pinwarden.service import auth
from pinwarden.service.sandbox import seed_sandbox_devices
from pinwarden.store.store import Store

pytestmark = pytest.mark.xdist_group(
    "workers"
)  # two more processes: keep them off the other worker


def test_worker_processes_reconcile_exactly_what_one_process_does() -> None:
    alone = run(locks=48, codes=240, days=12, workers=1)
    shared = run(locks=48, codes=240, days=12, workers=2)
    for figure in ("programmed", "removed", "left"):
        assert shared[figure] == alone[figure], figure
    assert shared["removed"] == 240  # each stay's code was removed at check-out
    assert shared["left"] == 0  # and forgotten once the removal was read back
    assert shared["programmed"] >= 240


def test_server_with_engine_workers_programs_every_lock_through_them(store: Store) -> None:
    """`pinwarden serve --engine-workers 2`, on SQLite and PostgreSQL: 21 locks whose stays
    all start at 15:00 are reconciled by the worker processes at that moment."""
    runtime = build(store, clock=VirtualClock(START), embedded=False, engine_workers=2)
    assert runtime.runner.pool is not None
    handed: list[int] = []
    pool_run = runtime.runner.pool.run
    runtime.runner.pool.run = lambda ids, size, moment, fallback: (  # type: ignore[method-assign]
        handed.append(len(ids)),
        pool_run(ids, size, moment, fallback),
    )[1]
    workspace_id = auth.create_workspace(runtime.deps, "Workers")
    key = auth.create_api_key(runtime.deps, workspace_id)
    seed_sandbox_devices(runtime.deps, workspace_id, per_brand=3)
    try:
        with (
            ServerThread(runtime.app) as server,
            client(server, key.token, timeout=60) as http,
        ):
            devices = http.post("/devices/list", json={}).json()["devices"]
            assert len(devices) == 21
            check_in = (START + timedelta(days=2)).replace(hour=15, minute=0)
            for device in devices:
                response = http.post(
                    "/access_codes/create",
                    json={
                        "device_id": device["device_id"],
                        "name": "Guest",
                        "starts_at": check_in.isoformat(),
                        "ends_at": (check_in + timedelta(days=2)).isoformat(),
                    },
                )
                assert response.status_code == 200, response.text
            advanced = http.post("/sandbox/clock/advance", json={"seconds": 3 * 86400})
            assert advanced.status_code == 200, advanced.text
            codes = http.post("/access_codes/list", json={}).json()["access_codes"]
    finally:
        runtime.close()
    assert len(codes) == 21
    assert {c["status"] for c in codes} == {"set"}, [(c["status"], c["errors"]) for c in codes]
    assert max(handed, default=0) >= 16  # the check-in moment went to the workers
