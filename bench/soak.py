"""Crash soak: kill pinwarden again and again while it programs locks, and check that no slot
ever holds two live codes, no PIN is left behind or written twice, and nothing is reported as
an outside change that pinwarden made itself. Then measure how soon a restarted server sends
the codes that were due.

    .venv/bin/python bench/soak.py                  # 120 kills, then the restart timings
    .venv/bin/python bench/soak.py --kills 200 --skip-restart

Part 1 runs `pinwarden reconcile` (the engine, one pass over every lock) on a SQLite data dir
and SIGKILLs it a moment after it starts changing locks; between kills the desired state
changes (codes created, renamed, given new PINs, deleted). After every kill it checks the
store: two live codes holding one slot is a collision. At the end the engine runs to
convergence and every lock must hold exactly its live codes, once each.

Part 2 starts `pinwarden serve` (system clock) with codes due on paced locks (Kwikset takes one
command every 2 s), kills it (SIGKILL, then SIGTERM) while it programs them, starts it again,
and prints the seconds from the restart until the first of the remaining codes is on its lock
and until all of them are, beside the pacing floor (what the remaining commands take at the
lock's pace anyway).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.api import free_port, serve_demo  # noqa: E402
from tests.support import pins_on_sandbox_locks  # noqa: E402

from pinwarden.engine.clock import SystemClock, VirtualClock  # noqa: E402
from pinwarden.engine.reconcile import Engine  # noqa: E402
from pinwarden.service import access_code_changes as changes  # noqa: E402
from pinwarden.service import access_codes as codes  # noqa: E402
from pinwarden.service import auth  # noqa: E402
from pinwarden.service.deps import Deps  # noqa: E402
from pinwarden.service.errors import ServiceError  # noqa: E402
from pinwarden.service.sandbox import seed_sandbox_devices  # noqa: E402
from pinwarden.store.schema import access_codes, events  # noqa: E402
from pinwarden.store.store import Store  # noqa: E402

BRANDS = ("august", "yale", "kwikset", "igloohome", "smartthings", "schlage")
EXTERNAL = ("access_code.modified_external_to_seam", "access_code.deleted_external_to_seam")


def _env() -> dict[str, str]:
    return {**os.environ, "PINWARDEN_DATABASE_URL": "", "PYTHONPATH": str(ROOT / "src")}


def _collisions(store: Store) -> int:
    """Slots held by two live managed codes at once."""
    with store.read() as conn:
        rows = conn.execute(
            select(access_codes.c.device_id, access_codes.c.slot).where(
                access_codes.c.is_managed.is_(True),
                access_codes.c.delete_requested_at.is_(None),
                access_codes.c.slot.is_not(None),
            )
        ).all()
    return sum(n - 1 for n in Counter((r.device_id, r.slot) for r in rows).values() if n > 1)


def _external_events(store: Store) -> int:
    with store.read() as conn:
        return len(
            conn.execute(select(events.c.event_id).where(events.c.event_type.in_(EXTERNAL))).all()
        )


def soak(kills: int, seed: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="pinwarden-soak-"))
    store = Store(f"sqlite:///{folder / 'pinwarden.db'}")
    store.upgrade()
    deps = Deps(store=store, clock=SystemClock(), rng=random.Random(seed))
    workspace = auth.create_workspace(deps, "Soak")
    locks = seed_sandbox_devices(deps, workspace)
    targets = [locks[b] for b in BRANDS]
    rng = random.Random(seed)
    live: dict[str, str] = {}  # access code id -> device

    def churn() -> None:
        for _ in range(rng.randint(3, 12)):
            device = rng.choice(targets)
            choice = rng.random()
            if choice < 0.5 or not live:
                made = codes.create(deps, workspace, {"device_id": device, "name": "Guest"})
                live[made["access_code"]["access_code_id"]] = device
            elif choice < 0.7:
                target = rng.choice(list(live))
                changes.update_code(deps, workspace, {"access_code_id": target, "name": "Renamed"})
            elif choice < 0.8:
                target = rng.choice(list(live))
                pin = f"{rng.randrange(10**5, 10**6)}"
                brand_of = {v: k for k, v in locks.items()}[live[target]]
                if brand_of == "schlage":
                    pin = pin[:4]
                # A PIN another code on that lock has is refused (409): try another time.
                with contextlib.suppress(ServiceError):
                    changes.update_code(deps, workspace, {"access_code_id": target, "code": pin})
            else:
                target = rng.choice(list(live))
                changes.delete_code(deps, workspace, {"access_code_id": target})
                del live[target]

    landed_mid_work = 0
    collisions = 0
    started = time.monotonic()
    for n in range(kills):
        churn()
        before = pins_on_sandbox_locks(store)
        proc = subprocess.Popen(
            [sys.executable, "-m", "pinwarden.cli", "reconcile", "--data-dir", str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(),
        )
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if pins_on_sandbox_locks(store) != before:
                break
            time.sleep(0.003)
        time.sleep(rng.uniform(0, 0.08))
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        landed_mid_work += alive
        collisions += _collisions(store)
        if (n + 1) % 20 == 0:
            print(
                f"  {n + 1} kills, {landed_mid_work} mid-work, {collisions} collisions", flush=True
            )
    # Converge: a write cut off by a kill is given its confirmation grace, then rewritten.
    later = Deps(store=store, clock=VirtualClock(SystemClock().now() + timedelta(hours=2)))
    engine = Engine(later)
    for _ in range(3):
        for device in targets:
            engine.reconcile_device(device)
    engine.close()
    physical = pins_on_sandbox_locks(store)
    with store.read() as conn:
        rows = conn.execute(select(access_codes)).all()
    managed = [r for r in rows if r.is_managed and r.delete_requested_at is None]
    left_behind = twice = 0
    for device in targets:
        wanted = Counter(r.code for r in managed if r.device_id == device)
        held = physical[device]
        left_behind += sum((held - wanted).values())
        twice += sum(1 for n in held.values() if n > 1)
    return {
        "kills": kills,
        "kills_mid_work": landed_mid_work,
        "seconds": round(time.monotonic() - started, 1),
        "collisions": collisions + _collisions(store),
        "false_outside_change_events": _external_events(store),
        "pins_left_behind": left_behind,
        "pins_in_two_slots": twice,
        "unmanaged_codes": sum(1 for r in rows if not r.is_managed),
        "codes_lost": sorted(set(live) - {r.access_code_id for r in managed}),
        # A lock with every slot taken cannot take another code: that code carries the brand's
        # slots-full error (the promised outcome), and is counted apart from codes wrongly unset.
        "codes_refused_lock_full": sum(1 for r in managed if r.status != "set" and _full(r)),
        "codes_not_set": sum(1 for r in managed if r.status != "set" and not _full(r)),
    }


SLOTS_FULL = {
    "no_space_for_access_code_on_device",
    "august_device_slots_full",
    "smartthings_no_free_slots_available",
}


def _full(row: Any) -> bool:
    return any(e.get("error_code") in SLOTS_FULL for e in row.errors or [])


# -- part 2: restart timings --------------------------------------------------------------------


def _up(http: httpx.Client) -> None:
    for _ in range(600):
        try:
            if http.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the server did not come up")


def restart(stop: signal.Signals, count: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="pinwarden-restart-"))
    port = free_port()
    server = serve_demo(folder, port, folder / "serve.log")
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=30) as probe:
        _up(probe)
    demo = json.loads((folder / "demo.json").read_text())
    lock = demo["devices"]["kwikset"]
    headers = {"Authorization": f"Bearer {demo['api_key']}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        for n in range(count):
            body = {"device_id": lock, "name": f"Guest {n}", "code": f"{4100 + n * 7}"}
            http.post("/access_codes/create", json=body).raise_for_status()
        listed = lambda: [  # noqa: E731
            c["code"]
            for c in http.post(
                "/devices/simulate/list_device_codes", json={"device_id": lock}
            ).json()["device_codes"]
        ]
        while len(listed()) < count // 3:
            time.sleep(0.05)
    server.send_signal(stop)
    server.wait(timeout=60)
    store = Store(f"sqlite:///{folder / 'pinwarden.db'}")
    on_lock_at_stop = sum(pins_on_sandbox_locks(store)[lock].values())
    store.dispose()
    remaining = count - on_lock_at_stop
    restarted = time.monotonic()
    server = serve_demo(folder, port, folder / "serve.log")
    first = done = None
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        _up(http)
        while time.monotonic() - restarted < 300:
            held = len(
                http.post("/devices/simulate/list_device_codes", json={"device_id": lock}).json()[
                    "device_codes"
                ]
            )
            if first is None and held > on_lock_at_stop:
                first = time.monotonic() - restarted
            if held >= count:
                done = time.monotonic() - restarted
                break
            time.sleep(0.05)
        warnings = [
            w["warning_code"]
            for c in http.post("/access_codes/list", json={"device_id": lock}).json()[
                "access_codes"
            ]
            for w in c["warnings"]
        ]
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    return {
        "stopped_with": stop.name,
        "codes_due": count,
        "on_lock_when_stopped": on_lock_at_stop,
        "seconds_to_first_remaining_code": None if first is None else round(first, 1),
        "seconds_to_all_codes": None if done is None else round(done, 1),
        "pacing_floor_seconds": 2.0 * max(remaining - 1, 0),
        "warnings_left": warnings,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=120)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--codes", type=int, default=24, help="codes due in the restart test")
    parser.add_argument("--skip-soak", action="store_true")
    parser.add_argument("--skip-restart", action="store_true")
    args = parser.parse_args()
    failed = False
    if not args.skip_soak:
        print(f"SIGKILL soak: {args.kills} kills of `pinwarden reconcile`", flush=True)
        figures = soak(args.kills, args.seed)
        print(json.dumps(figures, indent=2))
        failed |= any(
            figures[k]
            for k in (
                "collisions",
                "false_outside_change_events",
                "pins_left_behind",
                "pins_in_two_slots",
                "unmanaged_codes",
                "codes_lost",
                "codes_not_set",
            )
        )
    if not args.skip_restart:
        for stop in (signal.SIGKILL, signal.SIGTERM):
            print(f"restart after {stop.name} while programming {args.codes} codes", flush=True)
            figures = restart(stop, args.codes)
            print(json.dumps(figures, indent=2))
            failed |= figures["seconds_to_all_codes"] is None or bool(figures["warnings_left"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
