"""Webhooks in the distributed runtime: `pinwarden worker` processes deliver them as
procrastinate jobs, retries and all, while `serve --distributed` only writes events."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from pinwarden.server import build
from pinwarden.service import auth
from pinwarden.service.sandbox import seed_sandbox_devices
from pinwarden.store.store import Store
from tests.engine.test_distributed import _eventually, pg, start_worker  # noqa: F401 (fixtures)
from tests.support import Api, ServerThread, client
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.xdist_group("workers")  # worker processes: keep them together


def test_workers_deliver_every_event_and_retry_under_the_same_id(
    pg: Store,  # noqa: F811
    start_worker: Callable[[], subprocess.Popen[bytes]],  # noqa: F811
    receiver: Receiver,
) -> None:
    runtime = build(pg, distributed=True)
    assert runtime.dispatcher is None  # the API process sends nothing itself
    workspace = auth.create_workspace(runtime.deps, "Distributed webhooks")
    key = auth.create_api_key(runtime.deps, workspace)
    august = seed_sandbox_devices(runtime.deps, workspace)["august"]
    start_worker()
    try:
        with ServerThread(runtime.app) as server, client(server, key.token) as http:
            api = Api(server.url, key.token, workspace, {"august": august}, runtime, http)
            hook = api.ok("/webhooks/create", url=receiver.url, event_types=["lock.*"])
            receiver.secret = hook["webhook"]["secret"]
            receiver.status = 503  # down for the first attempt of each
            for _ in range(5):
                api.ok("/locks/simulate/keypad_code_entry", device_id=august, code="9999")
            _eventually(lambda: len(receiver.refused) >= 5, "every event tried once")
            receiver.status = 200
            _eventually(lambda: len(receiver.received) >= 5, "every event delivered")  # 5 s on
            sent = {
                e["event_id"]
                for e in api.ok(
                    "/events/list", since="2026-01-01T00:00:00Z", event_type="lock.access_denied"
                )["events"]
            }
            assert set(receiver.event_ids()) == sent
            first_ids = {d.event["event_id"]: d.webhook_id for d in receiver.refused}
            assert all(first_ids[d.event["event_id"]] == d.webhook_id for d in receiver.received)
            assert receiver.rejected == []
    finally:
        runtime.close()
