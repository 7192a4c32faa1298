"""Commands to one lock are paced: never sooner than the brand's minimum interval (or the
policy's `command_interval`, if longer) after the one before, so a lock that drops rushed
commands (`drop_rushed_commands`) drops none of pinwarden's."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from tests.engine.test_promises import event_types, get, on_lock, stay
from tests.support import Api

from pinwarden.catalog.brands import brand_profile
from pinwarden.engine.clock import SystemClock
from pinwarden.engine.reconcile import Engine
from pinwarden.service import access_codes as codes
from pinwarden.service import auth
from pinwarden.service.deps import Deps
from pinwarden.service.sandbox import seed_sandbox_devices
from pinwarden.store.schema import devices, sandbox_locks
from pinwarden.store.store import Store


def _last_command_at(store: Store, device_id: str) -> datetime:
    with store.read() as conn:
        state = conn.execute(
            select(sandbox_locks.c.state).where(sandbox_locks.c.device_id == device_id)
        ).scalar_one()
    return datetime.fromisoformat(state["last_command_at"])


def test_a_lock_that_drops_rushed_commands_gets_every_code(sqlite_api: Api) -> None:
    api = sqlite_api
    api.ok(
        "/devices/simulate/set_faults", device_id=api.devices["kwikset"], drop_rushed_commands=True
    )
    start = api.now()
    created = [stay(api, "kwikset", timedelta(days=1, hours=n)) for n in range(6)]
    api.advance(0)
    assert sorted(s["code"] for s in on_lock(api, "kwikset")) == sorted(c["code"] for c in created)
    for code in created:
        assert get(api, code)["errors"] == []
        assert "access_code.failed_to_set_on_device" not in event_types(api, code)
    # Six commands, two seconds apart (Kwikset's interval): the last went 10 s after the first.
    interval = brand_profile("kwikset").capabilities.min_command_interval_seconds
    last = _last_command_at(api.runtime.deps.store, api.devices["kwikset"])
    assert last - start == timedelta(seconds=5 * interval)


def test_policy_command_interval_spaces_commands_further(sqlite_api: Api) -> None:
    api = sqlite_api
    store = api.runtime.deps.store
    with store.begin() as conn:
        conn.execute(
            update(devices)
            .where(devices.c.device_id == api.devices["august"])
            .values(policy={"command_interval": 30})
        )
    start = api.now()
    created = [stay(api, "august", timedelta(days=2, hours=n)) for n in range(4)]
    api.advance(0)
    assert len(on_lock(api, "august")) == len(created)
    assert _last_command_at(store, api.devices["august"]) - start == timedelta(seconds=90)
    # The next command, a removal at check-out, waits for nobody: it is long after.
    api.advance(5 * 86400)
    assert on_lock(api, "august") == []


class _WaitsRecorded(SystemClock):
    """A clock like the system clock whose time passes only while the engine waits on it,
    so what the engine asks for does not depend on how fast this machine runs."""

    def __init__(self) -> None:
        self._now = super().now()
        self.waits: list[datetime] = []

    def now(self) -> datetime:
        return self._now

    def sleep_until(self, moment: datetime) -> None:
        self.waits.append(moment)
        assert moment - self.now() < timedelta(minutes=1), f"the engine would sleep until {moment}"
        self._now = max(self._now, moment)


def test_the_engine_waits_on_its_clock_between_commands(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'pinwarden.db'}")
    store.upgrade()
    clock = _WaitsRecorded()
    deps = Deps(store=store, clock=clock, rng=random.Random(3))
    workspace = auth.create_workspace(deps, "Pacing")
    lock = seed_sandbox_devices(deps, workspace)["igloohome"]  # one command every 0.5 s
    for n in range(3):
        codes.create(deps, workspace, {"device_id": lock, "name": f"Guest {n}"})
    Engine(deps).reconcile_device(lock)
    first = _last_command_at(store, lock) - timedelta(seconds=1)
    assert clock.waits == [first + timedelta(seconds=0.5), first + timedelta(seconds=1)]
    assert first == clock.now() - timedelta(seconds=1)  # the clock waited that long
    assert {c["status"] for c in codes.list_codes(deps, workspace, {"device_id": lock}).items} == {
        "set"
    }


def test_a_command_stamped_by_another_clock_far_ahead_is_not_waited_for(tmp_path: Path) -> None:
    """A data dir run on the virtual clock, days ahead, then on the system clock: the engine
    must not sleep until the virtual time comes."""
    store = Store(f"sqlite:///{tmp_path / 'pinwarden.db'}")
    store.upgrade()
    clock = _WaitsRecorded()
    deps = Deps(store=store, clock=clock, rng=random.Random(5))
    workspace = auth.create_workspace(deps, "Pacing")
    lock = seed_sandbox_devices(deps, workspace)["august"]
    with store.begin() as conn:
        state = conn.execute(
            select(sandbox_locks.c.state).where(sandbox_locks.c.device_id == lock)
        ).scalar_one()
        ahead = clock.now() + timedelta(days=30)
        conn.execute(
            update(sandbox_locks)
            .where(sandbox_locks.c.device_id == lock)
            .values(state={**state, "last_command_at": ahead.isoformat()})
        )
    codes.create(deps, workspace, {"device_id": lock, "name": "Guest"})
    Engine(deps).reconcile_device(lock)
    assert clock.waits == []
    assert _last_command_at(store, lock) < ahead
    assert {c["status"] for c in codes.list_codes(deps, workspace, {"device_id": lock}).items} == {
        "set"
    }


class _LooksWhileWaiting(_WaitsRecorded):
    """Calls `look()` each time the engine waits between paced commands."""

    def __init__(self, look: Callable[[], None]) -> None:
        super().__init__()
        self._look = look

    def sleep_until(self, moment: datetime) -> None:
        self._look()
        super().sleep_until(moment)


def test_a_lock_done_early_in_a_batch_says_so_before_the_batch_ends(tmp_path: Path) -> None:
    """A batch sends its locks' commands in turns, each lock at its own pace: the lock whose
    commands are all confirmed reports its codes set at once, not when the slowest lock of the
    batch is done (on real locks that was minutes after the code was on the lock)."""
    store = Store(f"sqlite:///{tmp_path / 'pinwarden.db'}")
    store.upgrade()
    seen: list[str] = []
    clock = _LooksWhileWaiting(
        lambda: seen.append(codes.get(deps, workspace, {"access_code_id": guest})["status"])
    )
    deps = Deps(store=store, clock=clock, rng=random.Random(7))
    workspace = auth.create_workspace(deps, "Batch")
    locks = seed_sandbox_devices(deps, workspace)
    made = codes.create(deps, workspace, {"device_id": locks["august"], "name": "Guest"})
    guest = made["access_code"]["access_code_id"]
    staff = [
        codes.create(deps, workspace, {"device_id": locks["kwikset"], "name": f"Staff {n}"})
        for n in range(3)
    ]
    Engine(deps).reconcile_devices([locks["august"], locks["kwikset"]])
    # Kwikset takes a command every 2 s: the engine waited twice for it, and the guest's code,
    # on the August lock since the first turn, was already `set` at the first wait.
    assert seen == ["set", "set"]
    listed = codes.list_codes(deps, workspace, {"device_id": locks["kwikset"]}).items
    assert {c["status"] for c in listed} == {"set"} and len(staff) == len(listed)
