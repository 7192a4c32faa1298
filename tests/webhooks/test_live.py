"""The dispatcher as `pinwarden serve` runs it: on the system clock, in the background."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from pinwarden.events import dispatcher
from pinwarden.events.policy import DeliveryPolicy
from pinwarden.server import build
from pinwarden.service import auth
from pinwarden.service.sandbox import seed_sandbox_devices
from pinwarden.store.schema import webhook_outbox
from pinwarden.store.store import Store
from tests.support import Api, ServerThread, client
from tests.webhooks.receiver import Receiver

PER_ENDPOINT = 4


@pytest.fixture
def live_api(sqlite_store: Store) -> Iterator[Api]:
    """The embedded runtime on the system clock, engine and dispatcher started."""
    runtime = build(sqlite_store, delivery=DeliveryPolicy(timeout=60, per_endpoint=PER_ENDPOINT))
    workspace_id = auth.create_workspace(runtime.deps, "Live")
    key = auth.create_api_key(runtime.deps, workspace_id)
    devices = seed_sandbox_devices(runtime.deps, workspace_id)
    runtime.runner.start()  # type: ignore[attr-defined]
    assert runtime.dispatcher is not None
    runtime.dispatcher.start()
    try:
        with ServerThread(runtime.app) as server, client(server, key.token) as http:
            yield Api(server.url, key.token, workspace_id, devices, runtime, http)
    finally:
        runtime.close()


def _hook(api: Api, receiver: Receiver) -> None:
    hook = api.ok("/webhooks/create", url=receiver.url, event_types=["lock.access_denied"])
    receiver.secret = hook["webhook"]["secret"]


def test_events_go_out_without_anyone_moving_a_clock(live_api: Api, receiver: Receiver) -> None:
    _hook(live_api, receiver)
    live_api.ok(
        "/locks/simulate/keypad_code_entry", device_id=live_api.devices["august"], code="9999"
    )
    receiver.wait_for(lambda: len(receiver.received) == 1)
    assert receiver.rejected == []


def test_a_slow_endpoint_holds_back_neither_the_others_nor_the_api(
    live_api: Api, receiver: Receiver, second_receiver: Receiver
) -> None:
    slow, fast = receiver, second_receiver
    slow.hold = threading.Event()
    _hook(live_api, slow)
    _hook(live_api, fast)
    august = live_api.devices["august"]
    for _ in range(20):
        live_api.ok("/locks/simulate/keypad_code_entry", device_id=august, code="9999")
    fast.wait_for(lambda: len(fast.received) == 20)
    slow.wait_for(lambda: slow.waiting == PER_ENDPOINT)
    # The slow endpoint holds as many attempts as it may have, and no more; the API answers.
    assert slow.received == [] and slow.waiting == PER_ENDPOINT
    live_api.ok("/locks/simulate/keypad_code_entry", device_id=august, code="9999")
    fast.wait_for(lambda: len(fast.received) == 21)
    slow.hold.set()
    slow.wait_for(lambda: len(set(slow.event_ids())) == 21)
    assert sorted(set(slow.event_ids())) == sorted(fast.event_ids())
    assert slow.rejected == fast.rejected == []


def test_a_created_code_is_announced_at_once_not_at_the_next_poll(
    live_api: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create commits on a driver connection (store/prepared.py), which SQLAlchemy's commit
    event does not see: that commit must wake the dispatcher too. A code two months ahead
    wakes nothing else (the engine looks at it a minute later)."""
    monkeypatch.setattr(dispatcher, "POLL_SECONDS", 3600.0)
    hook = live_api.ok("/webhooks/create", url=receiver.url, event_types=["access_code.created"])
    receiver.secret = hook["webhook"]["secret"]
    # The webhook's own commit woke the dispatcher; let that step end before the create.
    time.sleep(0.2)
    starts = datetime.now(UTC) + timedelta(days=60)
    live_api.ok(
        "/access_codes/create",
        device_id=live_api.devices["august"],
        code="4821",
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(days=2)).isoformat(),
    )
    receiver.wait_for(lambda: len(receiver.received) == 1, timeout=20)
    assert [d.event["event_type"] for d in receiver.received] == ["access_code.created"]


def test_the_dispatchers_own_commits_do_not_wake_it(
    live_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fanning out and claiming commit too: were those commits nudges, a burst of creates
    would keep the dispatcher stepping back to back, one step per create, taking the server's
    time and the database's write lock from the requests."""
    monkeypatch.setattr(dispatcher, "POLL_SECONDS", 3600.0)
    sender = live_api.runtime.dispatcher
    assert sender is not None
    steps: list[bool] = []
    step = sender._step
    monkeypatch.setattr(
        sender, "_step", lambda *args, **kw: (steps.append(True), step(*args, **kw))[1]
    )

    def commit() -> None:
        with live_api.runtime.deps.store.begin() as conn:
            conn.execute(text("SELECT 1"))

    def steps_after(work: Callable[[], object], wait: float) -> int:
        """Steps taken after `work`, waiting up to `wait` seconds for the first."""
        while True:  # until the start-up sweep's commits and the last short poll are over
            before = len(steps)
            time.sleep(0.5)
            if len(steps) == before:
                break
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        deadline = time.monotonic() + wait
        while len(steps) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # and any step that follows it
        return len(steps) - before

    assert steps_after(commit, wait=10) == 1
    assert steps_after(lambda: dispatcher._as_dispatcher(commit), wait=0.5) == 0


def test_with_no_webhook_the_outbox_is_still_cleared(live_api: Api) -> None:
    """With no webhook enabled the dispatcher leaves the outbox to be cleared now and then
    (a burst of creates costs it one read a step), but it does clear it."""
    starts = datetime.now(UTC) + timedelta(days=60)
    for pin in ("4821", "4822", "4823"):
        live_api.ok(
            "/access_codes/create",
            device_id=live_api.devices["august"],
            code=pin,
            starts_at=starts.isoformat(),
            ends_at=(starts + timedelta(days=2)).isoformat(),
        )
    store = live_api.runtime.deps.store
    deadline = time.monotonic() + 20
    while True:
        with store.read() as conn:
            queued = conn.execute(select(func.count()).select_from(webhook_outbox)).scalar_one()
        if queued == 0:
            break
        assert time.monotonic() < deadline, f"{queued} outbox rows left"
        time.sleep(0.1)
