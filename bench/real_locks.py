"""Codes programmed per minute on real-protocol locks, end to end through pinwarden.

    .venv/bin/python bench/real_locks.py                 # 20 Z-Wave locks, 5 codes each
    .venv/bin/python bench/real_locks.py --locks 10 --codes 3
    .venv/bin/python bench/real_locks.py --stack zigbee2mqtt

It starts the real Z-Wave JS stack (emulators/zwave: zwave-js's mock-server and zwave-server
from npm; `npm ci --prefix emulators/zwave` first) or the Zigbee2MQTT emulator on the local
Mosquitto, then `pinwarden serve` on the system clock, connects the installation as an account
over HTTP, waits for its locks, creates `--codes` ongoing codes on every lock at once (one HTTP
client), and measures how long each takes from its create answer to `status: set` (which
pinwarden reports only once it has read the code back from the lock), and the codes confirmed
per minute over the whole run. Commands to one lock are paced (2 s apart for these locks).
Then it creates one more code on each lock in turn, waiting for each to be set before the
next: the time a later booking takes to land on a lock pinwarden has already read.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.api import free_port, serve_demo  # noqa: E402


def _start_stack(kind: str, locks: int) -> tuple[Any, dict[str, Any]]:
    if kind == "zwave_js":
        from emulators.zwave.stack import ZwaveStack

        stack = ZwaveStack(locks=locks, slots=30)
        started = time.monotonic()
        stack.start(timeout=60 + 15 * locks)
        print(f"Z-Wave JS stack: {locks} locks interviewed in {time.monotonic() - started:.0f} s")
        return stack, {"account_type": "zwave_js", "url": stack.url}
    from tests.real_locks.stacks import Zigbee2MQTTStack

    z2m = Zigbee2MQTTStack()
    for n in range(2, locks):
        z2m._loop.run(z2m.emulator.add_lock(f"lock_{n + 1}"))
    return z2m, {**z2m.account()}


def run(kind: str, locks: int, codes: int) -> dict[str, Any]:
    stack, account = _start_stack(kind, locks)
    folder = Path(tempfile.mkdtemp(prefix="pinwarden-real-bench-"))
    port = free_port()
    server = serve_demo(folder, port, folder / "serve.log")
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as probe:
            for _ in range(600):
                try:
                    if probe.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        demo = json.loads((folder / "demo.json").read_text())
        headers = {"Authorization": f"Bearer {demo['api_key']}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            made = http.post("/connected_accounts/create", json=account).json()
            account_id = made["connected_account"]["connected_account_id"]
            deadline = time.monotonic() + 120
            devices: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                devices = http.post(
                    "/devices/list", json={"connected_account_id": account_id}
                ).json()["devices"]
                if len(devices) >= locks:
                    break
                time.sleep(0.5)
            print(f"pinwarden found {len(devices)} locks")
            created: dict[str, float] = {}
            started = time.monotonic()
            for n in range(codes):
                for i, device in enumerate(devices):
                    pin = f"{(1000 + n * 97 + i * 13) % 9000 + 1000}"
                    answer = http.post(
                        "/access_codes/create",
                        json={"device_id": device["device_id"], "name": f"Guest {n}", "code": pin},
                    ).json()
                    created[answer["access_code"]["access_code_id"]] = time.monotonic()
            confirmed: dict[str, float] = {}
            deadline = time.monotonic() + 60 + 10 * codes * locks
            while len(confirmed) < len(created) and time.monotonic() < deadline:
                for device in devices:
                    listed = http.post(
                        "/access_codes/list", json={"device_id": device["device_id"]}
                    ).json()["access_codes"]
                    for code in listed:
                        if code["status"] == "set" and code["access_code_id"] not in confirmed:
                            confirmed[code["access_code_id"]] = time.monotonic()
                time.sleep(0.2)
            elapsed = max(confirmed.values(), default=started) - started
            waits = sorted(confirmed[c] - created[c] for c in confirmed)
            alone = _one_at_a_time(http, devices, codes)
    finally:
        server.terminate()
        server.wait(30)
        stack.stop() if kind == "zwave_js" else stack.close()
    q = statistics.quantiles(waits, n=20) if len(waits) >= 2 else waits * 19
    return {
        "stack": kind,
        "locks": locks,
        "codes": len(created),
        "confirmed": len(confirmed),
        "seconds": round(elapsed, 1),
        "codes_per_minute": round(60 * len(confirmed) / elapsed, 1) if elapsed else None,
        "create_to_confirmed_p50_s": round(statistics.median(waits), 2) if waits else None,
        "create_to_confirmed_p95_s": round(q[18], 2) if waits else None,
        "pacing_floor_seconds": 2.0 * (codes - 1),
        "one_more_code_per_lock_alone_p50_s": round(statistics.median(alone), 2) if alone else None,
        "one_more_code_per_lock_alone_max_s": round(max(alone), 2) if alone else None,
    }


def _one_at_a_time(http: httpx.Client, devices: list[dict[str, Any]], codes: int) -> list[float]:
    """Then one more code on each lock in turn, alone on the network: create to `set`, as a
    booking made later lands on a lock pinwarden already knows."""
    waits = []
    for i, device in enumerate(devices):
        pin = f"{(1000 + codes * 97 + i * 13) % 9000 + 1000}"
        started = time.monotonic()
        made = http.post(
            "/access_codes/create",
            json={"device_id": device["device_id"], "name": "Later guest", "code": pin},
        ).json()["access_code"]
        deadline = started + 120
        while time.monotonic() < deadline:
            got = http.post("/access_codes/get", json={"access_code_id": made["access_code_id"]})
            if got.json()["access_code"]["status"] == "set":
                waits.append(time.monotonic() - started)
                break
            time.sleep(0.05)
    return waits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", choices=("zwave_js", "zigbee2mqtt"), default="zwave_js")
    parser.add_argument("--locks", type=int, default=20)
    parser.add_argument("--codes", type=int, default=5, help="codes per lock")
    args = parser.parse_args()
    figures = run(args.stack, args.locks, args.codes)
    print(json.dumps(figures, indent=2))
    return 0 if figures["confirmed"] == figures["codes"] else 1


if __name__ == "__main__":
    sys.exit(main())
