"""Test helpers shared by every suite: a real HTTP server and an API client for a workspace."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select

from pinwarden.api.transport import OneWriteProtocol
from pinwarden.engine.clock import SystemClock, VirtualClock
from pinwarden.providers.sandbox import SandboxLock
from pinwarden.server import Runtime, build
from pinwarden.service import auth
from pinwarden.service.sandbox import seed_sandbox_devices
from pinwarden.store.schema import devices, sandbox_locks
from pinwarden.store.store import Store

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """uvicorn serving an app on a free port in a background thread, as `pinwarden serve`
    runs it (each response in one write)."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", http=OneWriteProtocol
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            time.sleep(0.02)
        raise RuntimeError("test server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class Api:
    """A workspace with one sandbox lock per brand, behind a real HTTP server."""

    url: str
    api_key: str
    workspace_id: str
    devices: dict[str, str]
    runtime: Runtime
    http: httpx.Client

    def post(self, path: str, **body: Any) -> httpx.Response:
        return self.http.post(path, json=body)

    def ok(self, path: str, **body: Any) -> dict[str, Any]:
        response = self.post(path, **body)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        assert data["ok"] is True
        return data

    def advance(self, seconds: float = 0) -> None:
        """Move the virtual clock, running everything that became due (drains pending work)."""
        self.ok("/sandbox/clock/advance", seconds=seconds)

    def now(self) -> datetime:
        return datetime.fromisoformat(self.ok("/sandbox/clock/get")["now"].replace("Z", "+00:00"))


def client(server: ServerThread, token: str, timeout: float = 30) -> httpx.Client:
    """An HTTP client for `server` that sends `token` as its API key."""
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
    )


def make_api(store: Store, **build_kwargs: Any) -> Iterator[Api]:
    clock = VirtualClock(START)
    runtime = build(store, clock=clock, embedded=False, **build_kwargs)
    workspace_id = auth.create_workspace(runtime.deps, "Tests")
    key = auth.create_api_key(runtime.deps, workspace_id)
    devices = seed_sandbox_devices(runtime.deps, workspace_id)
    runtime.runner.run_due()
    with (
        ServerThread(runtime.app) as server,
        client(server, key.token) as http,
    ):
        yield Api(server.url, key.token, workspace_id, devices, runtime, http)
    if runtime.dispatcher is not None:  # its thread and connections; the store is the caller's
        runtime.dispatcher.close()


def pins_on_sandbox_locks(store: Store) -> dict[str, Counter[str]]:
    """What every sandbox lock physically holds now, by device id: each PIN and how many slots
    hold it (the SmartThings hub's own hidden codes left out)."""
    now = SystemClock().now()
    out: dict[str, Counter[str]] = {}
    with store.read() as conn:
        for row in conn.execute(
            select(devices.c.device_id, devices.c.brand, sandbox_locks.c.state).join(
                sandbox_locks, sandbox_locks.c.device_id == devices.c.device_id
            )
        ):
            lock = SandboxLock(row.brand, row.state)
            out[row.device_id] = Counter(
                c["code"]
                for c in lock.list_device_codes(now)
                if not (c["name"] or "").startswith("SmartThings Code")
            )
    return out
