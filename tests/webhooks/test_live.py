"""The dispatcher as `pinwarden serve` runs it: on the system clock, in the background."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from pinwarden.events.policy import DeliveryPolicy
from pinwarden.server import build
from pinwarden.service import auth
from pinwarden.service.sandbox import seed_sandbox_devices
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
