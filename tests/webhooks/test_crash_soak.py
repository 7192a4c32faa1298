"""SIGKILL `pinwarden serve` while it delivers webhooks: no event is lost, and an event is
received twice only as a retry under the same webhook-id."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import select

from pinwarden.engine.clock import SystemClock
from pinwarden.service import auth
from pinwarden.service.deps import Deps
from pinwarden.service.sandbox import seed_sandbox_devices
from pinwarden.store.schema import events
from pinwarden.store.store import Store
from tests.support import free_port
from tests.webhooks.receiver import Receiver

KILLS = 4


@contextmanager
def _serving(data_dir: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pinwarden.cli", "serve", "--data-dir", str(data_dir)]
        + ["--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PINWARDEN_DATABASE_URL": ""},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()


def _traffic(url: str, key: str, device_id: str, stop: threading.Event) -> None:
    """A keypad being tried over and over (one event each), through restarts."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
        while not stop.is_set():
            try:
                http.post(
                    "/locks/simulate/keypad_code_entry",
                    json={"device_id": device_id, "code": "9999"},
                    timeout=5,
                )
            except httpx.HTTPError:
                time.sleep(0.02)  # the server is down: a moment, then again


def test_sigkill_during_deliveries_loses_no_event(tmp_path: Path, receiver: Receiver) -> None:
    store = Store(f"sqlite:///{tmp_path / 'pinwarden.db'}")
    store.upgrade()
    deps = Deps(store=store, clock=SystemClock())
    workspace = auth.create_workspace(deps, "Soak")
    key = auth.create_api_key(deps, workspace).token
    august = seed_sandbox_devices(deps, workspace)["august"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with _serving(tmp_path, port):
        hook = httpx.post(
            f"{url}/webhooks/create",
            json={"url": receiver.url, "event_types": ["lock.access_denied"]},
            headers={"Authorization": f"Bearer {key}"},
        ).json()["webhook"]
    receiver.secret = hook["secret"]
    stop = threading.Event()
    traffic = threading.Thread(target=_traffic, args=(url, key, august, stop), daemon=True)
    traffic.start()
    rng = random.Random(3)
    for _ in range(KILLS):
        with _serving(tmp_path, port):
            seen = len(receiver.received)
            receiver.wait_for(lambda seen=seen: len(receiver.received) > seen + 20)
            time.sleep(rng.uniform(0, 0.3))  # then SIGKILL, mid-delivery
    stop.set()
    traffic.join(10)
    with _serving(tmp_path, port):
        with store.read() as conn:
            sent = set(
                conn.execute(
                    select(events.c.event_id).where(events.c.event_type == "lock.access_denied")
                ).scalars()
            )
        receiver.wait_for(lambda: set(receiver.event_ids()) >= sent, timeout=120)
    assert len(sent) > KILLS * 20
    assert set(receiver.event_ids()) == sent  # none lost, none invented
    ids: dict[str, set[str]] = defaultdict(set)
    for delivery in receiver.received:
        ids[delivery.event["event_id"]].add(delivery.webhook_id)
    assert all(len(one) == 1 for one in ids.values()), "a duplicate must be a retry"
    assert receiver.rejected == []
    store.dispose()
