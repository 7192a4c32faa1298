"""The scale-out runtime on PostgreSQL: N sandbox locks with K ongoing codes each, all due at
once, programmed by W `pinwarden worker` processes on the system clock. Prints how long until
every code was confirmed on its lock, codes per second, and the workers' peak RSS.

    python bench/distributed.py --locks 2000 --codes-per-lock 3 --workers 2 --concurrency 8

Needs PostgreSQL (PINWARDEN_BENCH_PG, default postgresql+psycopg://postgres@127.0.0.1:5432/test);
it creates and drops a database of its own beside that one.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

from sqlalchemy import create_engine, func, select, text

from pinwarden.engine.clock import SystemClock
from pinwarden.engine.distributed import apply_schema
from pinwarden.service.deps import Deps
from pinwarden.store.schema import access_codes, devices, sandbox_locks
from pinwarden.store.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: find bench/
from bench.reconcile import bench_account, bench_lock  # noqa: E402

ADMIN = os.environ.get("PINWARDEN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _admin(statement: str) -> None:
    engine = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def populate(store: Store, locks: int, per_lock: int) -> int:
    deps = Deps(store=store, clock=SystemClock())
    now = deps.clock.now()
    workspace, account = bench_account(store, deps, now)
    with store.begin() as conn:
        device_rows, lock_rows, code_rows = [], [], []
        for n in range(locks):
            row, lock_row = bench_lock(n, workspace, account, now)
            device_rows.append(row)
            lock_rows.append(lock_row)
            code_rows += [
                dict(
                    access_code_id=str(uuid4()),
                    workspace_id=workspace,
                    device_id=row["device_id"],
                    is_managed=True,
                    name=f"Resident {k}",
                    code=f"{2000 + 37 * k + n % 997:04d}",
                    status="unset",
                    errors=[],
                    warnings=[],
                    pending_mutations=[],
                    created_at=now,
                )
                for k in range(per_lock)
            ]
        conn.execute(devices.insert(), device_rows)
        conn.execute(sandbox_locks.insert(), lock_rows)
        conn.execute(access_codes.insert(), code_rows)
    return len(code_rows)


def unset(store: Store) -> int:
    """Codes neither set nor refused by their lock (a refusal carries an error)."""
    with store.read() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(access_codes)
                .where(
                    access_codes.c.status != "set",
                    func.json_array_length(access_codes.c.errors) == 0,  # not refused either
                )
            ).scalar_one()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--locks", type=int, default=2000)
    parser.add_argument("--codes-per-lock", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8, help="batches at once per worker")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    name = f"pinwarden_bench_dist_{os.getpid()}"
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin(f"CREATE DATABASE {name}")
    store = Store(ADMIN.rsplit("/", 1)[0] + f"/{name}")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        store.upgrade()
        apply_schema(store)
        codes = populate(store, args.locks, args.codes_per_lock)
        logs = Path(tempfile.mkdtemp(prefix="pinwarden-bench-dist-"))
        started = time.perf_counter()
        command = [sys.executable, "-m", "pinwarden.cli", "worker"]
        command += ["--concurrency", str(args.concurrency)]
        for n in range(args.workers):
            with (logs / f"worker-{n}.log").open("wb") as log:  # the worker keeps its own copy
                procs.append(
                    subprocess.Popen(
                        command,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env={**os.environ, "PINWARDEN_DATABASE_URL": store.url},
                    )
                )
        left = codes
        while left and time.perf_counter() - started < args.timeout:
            time.sleep(0.25)
            left = unset(store)
        took = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
        store.dispose()
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    workers_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"{args.workers} workers x {args.concurrency} {args.locks:>6} locks {codes:>7} codes | "
        f"all confirmed on their locks in {took:6.1f} s (worker start-up included) | "
        f"{(codes - left) / took:6.0f} codes/s | not set: {left} | "
        f"largest worker peak RSS {workers_rss:.0f} MB | logs in {logs}"
    )
    if left:
        sys.exit(1)


if __name__ == "__main__":
    main()
