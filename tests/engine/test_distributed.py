"""The scale-out runtime on a real PostgreSQL: `serve --distributed` and `pinwarden worker`
processes share nothing but the database, and every code still lands once and goes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from tests.conftest import _admin, _pg_url
from tests.support import ServerThread, client

from pinwarden.engine.clock import SystemClock
from pinwarden.engine.distributed import LEASE, QUEUE, RECONCILE, apply_schema, claim_due, make_app
from pinwarden.providers.sandbox import SandboxLock
from pinwarden.server import build
from pinwarden.service import access_codes as codes
from pinwarden.service import auth
from pinwarden.service.deps import Deps
from pinwarden.service.devices import defer_wake
from pinwarden.service.sandbox import seed_sandbox_devices
from pinwarden.store.schema import devices, sandbox_locks
from pinwarden.store.store import Store

pytestmark = pytest.mark.xdist_group("workers")  # worker processes: keep them together

WAIT = 90  # seconds a test waits for the workers at most (it moves on as soon as they are done)


@pytest.fixture
def pg() -> Iterator[Store]:
    name = f"pinwarden_dist_{os.getpid()}"
    store = Store(_pg_url(name))
    store.upgrade()
    apply_schema(store)
    yield store
    store.dispose()
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def start_worker(pg: Store, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        with (tmp_path / f"worker-{len(started)}.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pinwarden.cli", "worker"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PINWARDEN_DATABASE_URL": pg.url},
            )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.send_signal(signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    for path in sorted(tmp_path.glob("worker-*.log")):
        logged = path.read_text(errors="replace")
        assert "Traceback" not in logged, f"{path.name}:\n{logged[-3000:]}"


def _eventually(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"the workers did not get there within {WAIT} s: {what}")
        time.sleep(0.2)


def _on_locks(store: Store) -> dict[str, list[str]]:
    """PINs physically on each sandbox lock, less SmartThings' own."""
    now = SystemClock().now()
    with store.read() as conn:
        rows = conn.execute(
            select(devices.c.device_id, devices.c.brand, sandbox_locks.c.state).join(
                sandbox_locks, sandbox_locks.c.device_id == devices.c.device_id
            )
        ).all()
    return {
        row.device_id: sorted(
            c["code"]
            for c in SandboxLock(row.brand, row.state).list_device_codes(now)
            if not (c["name"] or "").startswith("SmartThings Code")
        )
        for row in rows
    }


def test_api_and_two_workers_program_and_remove_every_code(
    pg: Store, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    runtime = build(pg, distributed=True)
    workspace = auth.create_workspace(runtime.deps, "Distributed")
    key = auth.create_api_key(runtime.deps, workspace)
    seed_sandbox_devices(runtime.deps, workspace, per_brand=3)
    start_worker()
    start_worker()
    try:
        with (
            ServerThread(runtime.app) as server,
            client(server, key.token) as http,
        ):
            locks = [d["device_id"] for d in http.post("/devices/list", json={}).json()["devices"]]
            assert len(locks) == 21
            created = {}
            for device_id in locks:
                response = http.post(
                    "/access_codes/create", json={"device_id": device_id, "name": "Guest"}
                )
                assert response.status_code == 200, response.text
                created[device_id] = response.json()["access_code"]["access_code_id"]

            def statuses() -> dict[str, str]:
                listed = http.post("/access_codes/list", json={}).json()["access_codes"]
                return {c["access_code_id"]: c["status"] for c in listed}

            _eventually(lambda: set(statuses().values()) == {"set"}, "every code set")
            listed = http.post("/access_codes/list", json={}).json()["access_codes"]
            pins = {c["device_id"]: c["code"] for c in listed}
            assert _on_locks(pg) == {d: [pins[d]] for d in locks}  # each once, on its lock

            for access_code_id in created.values():
                deleted = http.post("/access_codes/delete", json={"access_code_id": access_code_id})
                assert deleted.status_code == 200, deleted.text
            _eventually(lambda: statuses() == {}, "every code removed and forgotten")
            assert _on_locks(pg) == {d: [] for d in locks}
    finally:
        runtime.close()


def test_the_sweep_reconciles_locks_whose_wake_has_come(
    pg: Store, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    """No job was deferred for these codes (no runner): only the workers' sweep finds them."""
    deps = Deps(store=pg, clock=SystemClock(), rng=random.Random(4))
    workspace = auth.create_workspace(deps, "Sweep")
    locks = seed_sandbox_devices(deps, workspace)
    made = [
        codes.create(deps, workspace, {"device_id": d, "name": "Guest"}) for d in locks.values()
    ]
    with pg.begin() as conn:
        for device_id in locks.values():
            defer_wake(conn, device_id, deps.clock.now())
    start_worker()

    def done() -> bool:
        states = [
            codes.get(deps, workspace, {"access_code_id": m["access_code"]["access_code_id"]})
            for m in made
        ]
        return all(s["status"] == "set" for s in states)

    _eventually(done, "every code set by the sweep")


def test_a_claimed_lock_is_not_claimed_again_until_its_lease_runs_out(pg: Store) -> None:
    deps = Deps(store=pg, clock=SystemClock())
    workspace = auth.create_workspace(deps, "Claims")
    locks = list(seed_sandbox_devices(deps, workspace).values())
    now = deps.clock.now()
    with pg.begin() as conn:
        conn.execute(update(devices).values(next_wake_at=None))
        for device_id in locks[:4]:
            defer_wake(conn, device_id, now)
    assert sorted(claim_due(pg, now)) == sorted(locks[:4])
    assert claim_due(pg, now) == []  # another worker's sweep finds nothing to take
    assert claim_due(pg, now + LEASE - timedelta(seconds=1)) == []
    assert sorted(claim_due(pg, now + LEASE)) == sorted(locks[:4])  # the lease ran out


def test_a_request_that_cannot_be_queued_is_left_to_the_sweep(
    pg: Store, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    runtime = build(pg, distributed=True)
    runtime.runner.app.close()  # the job queue is unreachable from the API process
    try:
        workspace = auth.create_workspace(runtime.deps, "Fallback")
        lock = seed_sandbox_devices(runtime.deps, workspace)["yale"]
        with pg.begin() as conn:  # no lock is due: only the create itself can make its lock due
            conn.execute(update(devices).values(next_wake_at=None))
        made = codes.create(runtime.deps, workspace, {"device_id": lock, "name": "Guest"})
        access_code_id = made["access_code"]["access_code_id"]  # created all the same
        start_worker()
        _eventually(
            lambda: (
                codes.get(runtime.deps, workspace, {"access_code_id": access_code_id})["status"]
                == "set"
            ),
            "the code set by the sweep",
        )
    finally:
        runtime.close()


def _reconcile_running(pg: Store) -> bool:
    """Whether a worker is running a reconcile job now."""
    with pg.read() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM procrastinate_jobs "
                    "WHERE task_name = :task AND status = 'doing'"
                ),
                {"task": RECONCILE},
            ).scalar_one()
        )


def test_a_job_whose_worker_died_is_run_again(
    pg: Store, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    """A reconcile job for an idle lock (no wake time) whose worker is killed mid-job: only
    the stalled-job retry brings it back."""
    deps = Deps(store=pg, clock=SystemClock(), rng=random.Random(6))
    workspace = auth.create_workspace(deps, "Stalled")
    lock = seed_sandbox_devices(deps, workspace)["yale"]
    with pg.begin() as conn:
        conn.execute(update(devices).values(next_wake_at=None))
    made = codes.create(deps, workspace, {"device_id": lock, "name": "Guest"})
    access_code_id = made["access_code"]["access_code_id"]
    app = make_app(pg.url).open()
    try:
        with pg.engine.connect() as holder:
            # The test holds the lock's lease, so the job stops inside the worker.
            holder.execute(
                text("SELECT pg_advisory_lock(hashtextextended(:key, 0))"),
                {"key": f"pinwarden.device:{lock}"},
            )
            holder.commit()
            app.configure_task(RECONCILE, queue=QUEUE).defer(device_ids=[lock])
            doomed = start_worker()

            _eventually(lambda: _reconcile_running(pg), "the job started")
            doomed.kill()
            doomed.wait()
            holder.execute(text("SELECT pg_advisory_unlock_all()"))
            holder.commit()
    finally:
        app.close()
    start_worker()
    _eventually(
        lambda: codes.get(deps, workspace, {"access_code_id": access_code_id})["status"] == "set",
        "the stalled job run again",
    )


def test_a_stalled_job_beside_a_waiting_one_for_the_same_lock_ends_quietly(
    pg: Store, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    """A request's job (queueing lock: its lock) stalls with its worker while a second request
    for the same lock waits: running the stalled one again would break the queueing lock's
    uniqueness. The waiting job covers it; no error, and the code lands."""
    deps = Deps(store=pg, clock=SystemClock(), rng=random.Random(8))
    workspace = auth.create_workspace(deps, "Stalled twice")
    lock = seed_sandbox_devices(deps, workspace)["yale"]
    with pg.begin() as conn:
        conn.execute(update(devices).values(next_wake_at=None))
    made = codes.create(deps, workspace, {"device_id": lock, "name": "Guest"})
    access_code_id = made["access_code"]["access_code_id"]
    app = make_app(pg.url).open()
    try:
        with pg.engine.connect() as holder:
            holder.execute(
                text("SELECT pg_advisory_lock(hashtextextended(:key, 0))"),
                {"key": f"pinwarden.device:{lock}"},
            )
            holder.commit()
            requested = app.configure_task(RECONCILE, queue=QUEUE, queueing_lock=lock)
            stalled = requested.defer(device_ids=[lock])
            doomed = start_worker()

            _eventually(lambda: _reconcile_running(pg), "the job started")
            doomed.kill()
            doomed.wait()
            # A second request, still waiting when the stalled one is found (scheduled a little
            # later, as a retry would be).
            app.configure_task(
                RECONCILE, queue=QUEUE, queueing_lock=lock, schedule_in={"seconds": 40}
            ).defer(device_ids=[lock])
            holder.execute(text("SELECT pg_advisory_unlock_all()"))
            holder.commit()
    finally:
        app.close()
    start_worker()
    _eventually(
        lambda: codes.get(deps, workspace, {"access_code_id": access_code_id})["status"] == "set",
        "the waiting job ran",
    )

    def stalled_gone() -> bool:
        with pg.read() as conn:
            return not conn.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE id = :id AND status = 'doing'"),
                {"id": stalled},
            ).scalar_one()

    _eventually(stalled_gone, "the stalled job ended")
