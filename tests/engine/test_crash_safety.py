"""Killing the engine at any point and starting it again converges to the same lock state:
no code written twice, no code lost, no managed code mistaken for an unmanaged one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from tests.support import pins_on_sandbox_locks

from pinwarden.engine.clock import SystemClock, VirtualClock
from pinwarden.engine.reconcile import Engine
from pinwarden.server import build
from pinwarden.service import access_codes as codes
from pinwarden.service import auth
from pinwarden.service.access_code_changes import delete_code
from pinwarden.service.deps import Deps
from pinwarden.service.sandbox import seed_sandbox_devices
from pinwarden.store.schema import access_codes, devices
from pinwarden.store.store import Store

BRANDS_WITH_READABLE_PINS = ("august", "yale", "kwikset", "igloohome", "smartthings")


def _reconcile_process(data_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pinwarden.cli", "reconcile", "--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PINWARDEN_DATABASE_URL": ""},
    )


def _total(store: Store) -> int:
    return sum(sum(c.values()) for c in pins_on_sandbox_locks(store).values())


def test_sigkill_mid_reconcile_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'pinwarden.db'}")
    store.upgrade()
    deps = Deps(store=store, clock=SystemClock(), rng=random.Random(7))
    workspace = auth.create_workspace(deps, "Crash")
    device_ids = seed_sandbox_devices(deps, workspace)
    targets = [device_ids[b] for b in BRANDS_WITH_READABLE_PINS]
    created = [
        codes.create(deps, workspace, {"device_id": d, "name": f"Guest {n}"})["access_code"]
        for d in targets
        for n in range(30)
    ]
    rng = random.Random(11)
    progress = [0]
    for round_ in range(12):
        proc = _reconcile_process(tmp_path)
        # Kill it a moment after it has started changing locks, so it dies mid-work.
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if _total(store) != progress[-1]:
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        progress.append(_total(store))
        if round_ == 4:  # change desired state between crashes: delete a third of the codes
            for code in created[::3]:
                delete_code(deps, workspace, {"access_code_id": code["access_code_id"]})
    # The kills must have landed mid-work, not only before or after it.
    assert any(0 < p < len(created) for p in progress[1:5]), progress
    assert _reconcile_process(tmp_path).wait(timeout=120) == 0
    # A write cut off by a kill may or may not have reached the lock: the engine waits out the
    # confirmation grace before writing again. Converge as if an hour had passed.
    later = Deps(store=store, clock=VirtualClock(SystemClock().now() + timedelta(hours=1)))
    engine = Engine(later)
    for _ in range(2):
        for device_id in targets:
            engine.reconcile_device(device_id)

    physical = pins_on_sandbox_locks(store)
    with store.read() as conn:
        rows = conn.execute(select(access_codes)).all()
    managed = [r for r in rows if r.is_managed]
    assert not [r for r in rows if not r.is_managed], (
        "a managed code was taken for an unmanaged one"
    )
    deleted = {c["access_code_id"] for c in created[::3]}
    assert {r.access_code_id for r in managed} == {c["access_code_id"] for c in created} - deleted
    for device_id in targets:
        wanted = Counter(r.code for r in managed if r.device_id == device_id)
        assert physical[device_id] == wanted
        assert all(n == 1 for n in physical[device_id].values())
    assert all(r.status == "set" for r in managed)
    store.dispose()


def _idle_lock_with_new_code(store: Store) -> tuple[str, str, str]:
    """A server whose engine never got to run after a code was created on an idle lock."""
    first = build(store, embedded=True)
    workspace = auth.create_workspace(first.deps, "Restart")
    lock = seed_sandbox_devices(first.deps, workspace)["august"]
    first.engine.reconcile_devices(first.runner.all_devices())  # every lock idle
    made = codes.create(first.deps, workspace, {"device_id": lock, "name": "Guest"})
    first.close()  # the process is gone with its in-memory queue of requests
    return workspace, lock, made["access_code"]["access_code_id"]


def _wake_of(store: Store, lock: str) -> Any:
    with store.read() as conn:
        return conn.execute(
            select(devices.c.next_wake_at).where(devices.c.device_id == lock)
        ).scalar_one()


def test_a_request_is_saved_with_the_change_that_made_it(sqlite_store: Store) -> None:
    """The create's own transaction made the lock due: a new process finds it due."""
    store = sqlite_store
    workspace, lock, access_code_id = _idle_lock_with_new_code(store)
    assert _wake_of(store, lock) is not None
    second = build(store, embedded=False)
    try:
        second.runner.run_due()
        found = codes.get(second.deps, workspace, {"access_code_id": access_code_id})
        assert found["status"] == "set"
    finally:
        second.close()


def test_every_lock_is_reconciled_once_when_the_engine_starts(sqlite_store: Store) -> None:
    """Even a lock with no wake time at all (a change made while the server was down that
    asked for no look, say) is looked at when the embedded engine starts."""
    store = sqlite_store
    workspace, lock, access_code_id = _idle_lock_with_new_code(store)
    with store.begin() as conn:
        conn.execute(update(devices).values(next_wake_at=None))
    second = build(store, embedded=True)
    second.runner.start()  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = codes.get(second.deps, workspace, {"access_code_id": access_code_id})
            if found["status"] == "set":
                break
            time.sleep(0.1)
        assert found["status"] == "set"
    finally:
        second.close()
