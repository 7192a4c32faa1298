"""Engine throughput: N sandbox locks, M time-bound codes, D simulated days on SQLite.

Codes are inserted in bulk (the API path is measured by bench/api.py); then the virtual clock
is advanced day by day while the engine programs, confirms and removes every code, exactly as
the server does. Prints codes planned+programmed per second, one full sweep of every lock,
and peak RSS.

    python bench/reconcile.py --locks 10000 --codes 100000 --days 30
    python bench/reconcile.py --scaling   # 1,000 -> 10,000 locks, 10 codes per lock
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy import func, select

from pinwarden.engine.clock import VirtualClock
from pinwarden.engine.reconcile import Engine
from pinwarden.engine.runner import ManualRunner
from pinwarden.engine.workers import WorkerPool
from pinwarden.providers.sandbox import SandboxLock
from pinwarden.service import auth
from pinwarden.service.deps import Deps
from pinwarden.service.sandbox import sandbox_device_row
from pinwarden.store.schema import access_codes, connected_accounts, devices, events, sandbox_locks
from pinwarden.store.store import Store

START = datetime(2027, 1, 1, tzinfo=UTC)
BRANDS = ("august", "yale", "kwikset", "smartthings")  # locks whose PINs pinwarden chooses


def bench_account(store: Store, deps: Deps, now: datetime) -> tuple[str, str]:
    """A workspace "Bench" and its sandbox connected account: (workspace_id, account_id)."""
    workspace = auth.create_workspace(deps, "Bench")
    account = str(uuid4())
    with store.begin() as conn:
        conn.execute(
            connected_accounts.insert().values(
                connected_account_id=account,
                workspace_id=workspace,
                account_type="sandbox",
                display_name="Bench",
                custom_metadata={},
                created_at=now,
            )
        )
    return workspace, account


def bench_lock(
    n: int, workspace: str, account: str, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The n-th bench lock (brands in turn): its device row and its sandbox lock row."""
    brand = BRANDS[n % len(BRANDS)]
    row = sandbox_device_row(workspace, brand, f"{brand} {n}", account, now)
    return row, dict(device_id=row["device_id"], state=SandboxLock.new(brand, n).state)


def populate(store: Store, deps: Deps, locks: int, codes: int, days: int, seed: int) -> None:
    rng = random.Random(seed)
    per_lock = max(codes // locks, 1)
    workspace, account = bench_account(store, deps, START)
    with store.begin() as conn:
        device_rows, lock_rows, code_rows = [], [], []
        for n in range(locks):
            row, lock_row = bench_lock(n, workspace, account, START)
            device_id = row["device_id"]
            device_rows.append(row)
            lock_rows.append(lock_row)
            start = START + timedelta(hours=15)
            for k in range(per_lock):
                start += timedelta(days=rng.randint(0, 1))
                end = (start + timedelta(days=rng.randint(1, 3))).replace(hour=11)
                if end > START + timedelta(days=days):
                    start = START + timedelta(hours=15 + rng.randint(0, 24 * days // 2))
                    end = start + timedelta(days=1)
                code_rows.append(
                    dict(
                        access_code_id=str(uuid4()),
                        workspace_id=workspace,
                        device_id=device_id,
                        is_managed=True,
                        name=f"Guest {k}",
                        code=f"{2000 + 37 * k + n % 997:04d}",
                        starts_at=start,
                        ends_at=end,
                        status="unset",
                        errors=[],
                        warnings=[],
                        pending_mutations=[],
                        created_at=START,
                    )
                )
                start = end.replace(hour=15)
            if len(code_rows) >= 5000 or n == locks - 1:  # in chunks: this process stays small
                conn.execute(devices.insert(), device_rows)
                conn.execute(sandbox_locks.insert(), lock_rows)
                conn.execute(access_codes.insert(), code_rows)
                device_rows, lock_rows, code_rows = [], [], []


def rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak RSS; of the children, the largest one's (known once they have exited)."""
    return resource.getrusage(who).ru_maxrss / 1024


def run(locks: int, codes: int, days: int, seed: int = 1, workers: int = 2) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="pinwarden-bench-"))
    store = Store(f"sqlite:///{folder / 'bench.db'}")
    store.upgrade()
    clock = VirtualClock(START)
    deps = Deps(store=store, clock=clock, rng=random.Random(seed))
    engine = Engine(deps)
    pool = WorkerPool(store.url, workers) if workers > 1 else None
    runner = ManualRunner(store, clock, engine.reconcile_devices, pool=pool)
    deps.runner = runner
    t0 = time.perf_counter()
    populate(store, deps, locks, codes, days, seed)
    populate_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    runner.run_due()  # first sweep: every lock is due at START
    sweep_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for day in range(1, days + 2):
        runner.advance_to(START + timedelta(days=day))
    run_s = time.perf_counter() - t0
    with store.read() as conn:
        programmed = conn.execute(
            select(func.count())
            .select_from(events)
            .where(
                events.c.event_type.in_(
                    ["access_code.set_on_device", "access_code.scheduled_on_device"]
                )
            )
        ).scalar_one()
        removed = conn.execute(
            select(func.count())
            .select_from(events)
            .where(events.c.event_type == "access_code.deleted")
        ).scalar_one()
        left = conn.execute(select(func.count()).select_from(access_codes)).scalar_one()
    if pool is not None:
        pool.close()
    store.dispose()
    return {
        "workers": workers,
        "locks": locks,
        "codes": codes,
        "days": days,
        "populate_s": populate_s,
        "first_sweep_s": sweep_s,
        "run_s": run_s,
        "programmed": programmed,
        "removed": removed,
        "left": left,
        "codes_per_s": codes / (sweep_s + run_s),
        "peak_rss_mb": rss_mb(),
        "worker_rss_mb": rss_mb(resource.RUSAGE_CHILDREN),
    }


def show(r: dict[str, float]) -> None:
    workers = int(r["workers"])
    print(
        f"{workers} workers {int(r['locks']):>6} locks {int(r['codes']):>7} codes {int(r['days'])} days | "
        f"first sweep {r['first_sweep_s']:7.1f} s | {int(r['days'])}-day run {r['run_s']:7.1f} s | "
        f"{r['codes_per_s']:7.0f} codes/s | programmed {int(r['programmed'])} "
        f"removed {int(r['removed'])} left {int(r['left'])} | peak RSS {r['peak_rss_mb']:.0f} MB"
        + (
            f" (+ {workers} workers of at most {r['worker_rss_mb']:.0f} MB, "
            f"{r['peak_rss_mb'] + workers * r['worker_rss_mb']:.0f} MB together)"
            if workers > 1
            else " (the engine in this one process)"
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--locks", type=int, default=10_000)
    parser.add_argument("--codes", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument(
        "--workers", type=int, default=2, help="engine processes (1: the engine in this one)"
    )
    args = parser.parse_args()
    if args.scaling:
        for locks in (1_000, 2_500, 5_000, 10_000):
            show(run(locks, locks * 10, args.days, workers=args.workers))
            sys.stdout.flush()
    else:
        show(run(args.locks, args.codes, args.days, workers=args.workers))


if __name__ == "__main__":
    main()
