"""Webhook benchmark: how fast one `pinwarden serve` process delivers webhooks to a local
receiver, and how long an event takes to reach it.

What it does, in order (see bench/README.md):

1. creates a workspace on a fresh SQLite file, with `--endpoints` webhooks (default 4), each a
   path of one local receiver (a separate process: uvicorn and a bare ASGI app that answers 200
   and notes when each delivery arrived; `--verify` also checks every signature with Seam's
   SDK there);
2. backlog: appends `--events` events (default 2,000) before the server starts, so each webhook
   has that many deliveries waiting; starts `pinwarden serve` and times from its first delivery
   to its last: deliveries per second;
3. delay: then sends `--requests` API requests (default 300), one every `--interval` seconds,
   each appending one event (`/locks/simulate/keypad_code_entry` with a wrong PIN); the delay of
   each delivery is its arrival at the receiver minus the event's `created_at` (p50, p99).

    .venv/bin/python bench/webhooks.py [--events 2000] [--endpoints 4] [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from pinwarden.engine.clock import SystemClock
from pinwarden.service import auth, events, webhooks
from pinwarden.service.deps import Deps
from pinwarden.service.sandbox import seed_sandbox_devices
from pinwarden.store.schema import devices
from pinwarden.store.store import Store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the receiver (its own process) ------------------------------------------------------------


def receiver_app(secrets: dict[str, str]) -> Any:
    """A bare ASGI app: POST notes (arrival time, path, webhook-id, event); GET returns them.
    With `secrets` (path -> webhook secret) it verifies each delivery with Seam's SDK first."""
    from seam import SeamWebhook

    arrivals: list[dict[str, Any]] = []
    verifiers = {path: SeamWebhook(secret) for path, secret in secrets.items()}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "POST":
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            if verifiers:
                verifiers[scope["path"]].verify(body.decode(), headers)
            event = json.loads(body)
            arrivals.append(
                {
                    "at": time.time(),
                    "path": scope["path"],
                    "webhook_id": headers["webhook-id"],
                    "event_id": event["event_id"],
                    "created_at": event["created_at"],
                }
            )
            answer = b"ok"
        else:
            answer = json.dumps(arrivals).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": answer})

    return app


def run_receiver(port: int, secrets: dict[str, str]) -> None:
    import uvicorn

    uvicorn.run(receiver_app(secrets), host="127.0.0.1", port=port, log_level="warning")


@contextmanager
def process(args: list[str], env: dict[str, str] | None = None) -> Iterator[int]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


# -- the measurement -----------------------------------------------------------------------------


def arrivals(receiver: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{receiver}/stats", timeout=60).json()
    return found


def wait_for(receiver: str, count: int, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        got = arrivals(receiver)
        if len(got) >= count or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used (user + system): a figure the machine's load does not
    change much, unlike the wall-clock rate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def setup(
    data_dir: Path, receiver: str, endpoints: int, backlog: int
) -> tuple[str, str, dict[str, str]]:
    """The workspace, its webhooks, and the backlog of events; (API key, lock, secrets)."""
    store = Store(f"sqlite:///{data_dir / 'pinwarden.db'}")
    store.upgrade()
    deps = Deps(store=store, clock=SystemClock())
    workspace = auth.create_workspace(deps, "Bench")
    key = auth.create_api_key(deps, workspace).token
    lock = seed_sandbox_devices(deps, workspace)["august"]
    secrets = {
        f"/hook/{n}": webhooks.create(deps, workspace, {"url": f"{receiver}/hook/{n}"})["webhook"][
            "secret"
        ]
        for n in range(endpoints)
    }
    with store.begin() as conn:
        device = conn.execute(select(devices).where(devices.c.device_id == lock)).one()
        now = deps.clock.now()
        rows = [
            events.event_row(workspace, "lock.access_denied", now, device=device)
            for _ in range(backlog)
        ]
        events.record_many(conn, rows)
    store.dispose()
    return key, lock, secrets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="backlog of events")
    parser.add_argument("--endpoints", type=int, default=4, help="webhooks (receiver paths)")
    parser.add_argument("--requests", type=int, default=300, help="events timed one by one")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between them")
    parser.add_argument("--verify", action="store_true", help="the receiver verifies each one")
    parser.add_argument("--as-receiver", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.as_receiver:
        run_receiver(args.as_receiver, json.loads(os.environ.get("BENCH_SECRETS", "{}")))
        return
    data_dir = Path(tempfile.mkdtemp(prefix="pinwarden-bench-webhooks-"))
    receiver_port, server_port = free_port(), free_port()
    receiver = f"http://127.0.0.1:{receiver_port}"
    key, lock, secrets = setup(data_dir, receiver, args.endpoints, args.events)
    me = [sys.executable, __file__, "--as-receiver", str(receiver_port)]
    verify = {"BENCH_SECRETS": json.dumps(secrets if args.verify else {})}
    serve = [sys.executable, "-m", "pinwarden.cli", "serve", "--data-dir", str(data_dir)]
    env = {**os.environ, "PINWARDEN_DATABASE_URL": ""}
    with process(me, {**os.environ, **verify}):
        wait_until_up(f"{receiver}/stats")
        with process([*serve, "--port", str(server_port)], env) as server:
            backlog = args.events * args.endpoints
            wait_until_up(f"http://127.0.0.1:{server_port}/health")
            started = cpu_seconds(server)
            got = wait_for(receiver, backlog, timeout=600)
            cpu_ms = (cpu_seconds(server) - started) * 1000 / max(len(got), 1)
            times = [a["at"] for a in got]
            rate = len(got) / (max(times) - min(times)) if len(got) > 1 else 0.0
            api = f"http://127.0.0.1:{server_port}"
            with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {key}"}) as http:
                for _ in range(args.requests):
                    http.post(
                        "/locks/simulate/keypad_code_entry",
                        json={"device_id": lock, "code": "9999"},
                    )
                    time.sleep(args.interval)
            timed = wait_for(receiver, backlog + args.requests * args.endpoints, timeout=120)
    delays = [
        (a["at"] - datetime.fromisoformat(a["created_at"].replace("Z", "+00:00")).timestamp())
        * 1000
        for a in timed[len(got) :]
    ]
    print(f"backlog: {len(got)}/{backlog} deliveries to {args.endpoints} endpoints")
    print(f"throughput: {rate:.0f} deliveries/s, {cpu_ms:.2f} ms of server CPU each")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    p50, p99 = percentile(delays, 0.5), percentile(delays, 0.99)
    print(f"event to delivery: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(delays)} deliveries)")


if __name__ == "__main__":
    main()
