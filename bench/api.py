"""API benchmark: one real `pinwarden serve` process on SQLite, one keep-alive HTTP connection.

What it does, in order (see bench/README.md):

1. starts `pinwarden serve --demo` (real clock, not the virtual one) with a fresh `--data-dir`
   on a free port and reads the API key and the seven sandbox locks from `demo.json`;
2. pre-creates `--codes` stored codes (default 5,000) round-robin over the seven locks with plain
   `POST /access_codes/create` requests in a loop, all starting 60+ days ahead so the engine does
   not program them (they are beyond the 9-day programming horizon);
3. measures sequential requests over one keep-alive connection (httpx.Client) for
   `create` (unique PINs, 60+ days ahead), `get` (by access_code_id) and `list` of 500 codes
   (one lock holds more than 500 stored codes: a code beyond the lock's slot count is still
   stored and listed, it is only not on the lock yet);
4. durability: right after the create run the server is killed with SIGKILL, started again on the
   same data dir, and every code whose create answered 200 must still be there.

Each measured operation runs `--requests` requests or for `--seconds` seconds, whichever ends
first, after a short warm-up. Figures are printed as a table; `--json FILE` also saves them.

    .venv/bin/python bench/api.py [--codes 5000] [--requests 3000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

# Targets from the performance issue, for one server process on a 2-core machine.
TARGETS = {"create": 1000.0, "get": 1000.0, "list_500": 350.0}
LIST_SIZE = 500
WARMUP = 30

# PIN length per sandbox brand (catalog/brands.py); Salto generates its own PINs
# (cannot_specify_pin_code), so none is sent there.
PIN_DIGITS: dict[str, int | None] = {
    "august": 6,
    "yale": 8,
    "kwikset": 8,
    "schlage": 4,
    "salto": None,
    "smartthings": 8,
    "igloohome": 6,
}
# The lock whose codes are listed 500 at a time (250 slots; it stores far more than 500 codes).
LIST_BRAND = "yale"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_demo(
    data_dir: Path, port: int, log_path: Path, flags: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    """`pinwarden serve --demo` on `data_dir` and `port`, its output appended to `log_path`;
    always on SQLite (PINWARDEN_DATABASE_URL is left out of its environment)."""
    cmd = [sys.executable, "-m", "pinwarden.cli", "serve", "--demo"]
    cmd += ["--data-dir", str(data_dir), "--port", str(port), *flags]
    env = {k: v for k, v in os.environ.items() if k != "PINWARDEN_DATABASE_URL"}
    with log_path.open("ab") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Lock:
    device_id: str
    digits: int | None  # PIN length; None: the lock generates its PINs


def code_body(locks: list[Lock], n: int, base: datetime, label: str) -> dict[str, Any]:
    """The n-th code of a run: lock n % len(locks), a two-day stay at `base` or later.

    A PIN repeats on its lock only after every PIN of its length has been used, and then in a
    stay four days later, so no two codes ever clash (a duplicate is a PIN on the same lock for
    an overlapping time)."""
    lock = locks[n % len(locks)]
    k = n // len(locks)
    body: dict[str, Any] = {"device_id": lock.device_id, "name": f"{label} {n}"}
    block = 0
    if lock.digits is not None:
        low = 10 ** (lock.digits - 1)
        block, offset = divmod(k, 9 * low)
        body["code"] = str(low + offset)
    start = base + timedelta(days=4 * block, minutes=k % 1440)
    body["starts_at"], body["ends_at"] = iso(start), iso(start + timedelta(days=2))
    return body


class Server:
    """`pinwarden serve --demo` as a child process."""

    def __init__(self, data_dir: Path, log_path: Path, flags: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.flags = flags  # more `serve` options, e.g. SERVE_FLAGS
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self.port = free_port()
        self.proc = serve_demo(self.data_dir, self.port, self.log_path, self.flags)
        wait_until_healthy(self.url, self.proc, timeout, self.log_path)

    def sweeps(self) -> int:
        """How many start-up sweeps the server log reports as finished."""
        return self.log_path.read_text(errors="replace").count("start-up sweep:")

    def wait_for_sweep(self, seen: int, timeout: float = 600.0) -> None:
        """Wait until the engine has finished the start-up sweep after `seen` earlier ones, so
        that the figures that follow do not measure it."""
        deadline = time.monotonic() + timeout
        while self.sweeps() <= seen:
            if time.monotonic() > deadline:
                raise SystemExit(f"the engine's start-up sweep did not finish; see {self.log_path}")
            time.sleep(0.2)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        stop(self.proc)


def wait_until_healthy(
    url: str, proc: subprocess.Popen[bytes], timeout: float, log_path: Path
) -> None:
    """Wait for `GET /health` to answer 200; stop `proc` and give up after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited with {proc.returncode}; see {log_path}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop(proc)
    raise SystemExit(f"{url} did not answer /health within {timeout:.0f}s; see {log_path}")


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """Terminate a child process and wait for it (killed if it does not stop)."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class Profiler:
    """Optional: py-spy recording the server process during one measured phase (raw stacks)."""

    def __init__(self, out_dir: Path | None) -> None:
        self.out_dir = out_dir
        self.exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if out_dir is not None:
            if not Path(self.exe).exists():
                raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
            out_dir.mkdir(parents=True, exist_ok=True)

    def record(self, name: str, pid: int) -> subprocess.Popen[bytes] | None:
        if self.out_dir is None:
            return None
        cmd = [self.exe, "record", "--pid", str(pid), "--rate", "250", "--format", "raw"]
        cmd += ["--output", str(self.out_dir / f"{name}.txt"), "--nonblocking"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # let py-spy attach before the phase starts
        return proc

    @staticmethod
    def finish(proc: subprocess.Popen[bytes] | None) -> None:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, one per request
    elapsed: float = 0.0
    failures: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def measure(
    name: str, request: Callable[[int], None], max_requests: int, max_seconds: float
) -> Result:
    """Call `request(i)` sequentially until `max_requests` or `max_seconds`; time each call."""
    result = Result(name)
    clock = time.perf_counter
    start = clock()
    stop_at = start + max_seconds
    for i in range(max_requests):
        t0 = clock()
        try:
            request(i)
        except AssertionError:
            result.failures += 1
            continue
        t1 = clock()
        result.latencies.append(t1 - t0)
        if t1 >= stop_at:
            break
    result.elapsed = clock() - start
    return result


class Bench:
    def __init__(self, server: Server, api_key: str, devices: dict[str, str]) -> None:
        self.server = server
        self.api_key = api_key
        self.devices = devices
        self.brands = list(PIN_DIGITS)
        self.locks = [Lock(devices[b], PIN_DIGITS[b]) for b in self.brands]
        self.http = self._client()
        self.base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=60)
        self.sent = 0  # codes asked for so far: the next one is code_body(..., self.sent)

    def _client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.server.url,
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=30.0,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    def reconnect(self) -> None:
        self.http.close()
        self.http = self._client()

    def create(self, label: str) -> str:
        body = code_body(self.locks, self.sent, self.base, label)
        self.sent += 1
        response = self.http.post("/access_codes/create", json=body)
        assert response.status_code == 200, response.text
        return str(orjson.loads(response.content)["access_code"]["access_code_id"])

    def all_code_ids(self) -> set[str]:
        return all_code_ids(self.http)


def all_code_ids(http: httpx.Client) -> set[str]:
    """Every managed code the server lists, page by page."""
    ids: set[str] = set()
    params: dict[str, Any] = {"limit": 10_000}
    while True:
        response = http.get("/access_codes/list", params=params)
        response.raise_for_status()
        body = orjson.loads(response.content)
        ids.update(c["access_code_id"] for c in body["access_codes"])
        cursor = body["pagination"]["next_page_cursor"]
        if not cursor:
            return ids
        params = {"limit": 10_000, "page_cursor": cursor}


def table(results: list[Result], extra: dict[str, str]) -> str:
    head = f"{'operation':<12}{'requests':>10}{'seconds':>9}{'req/s':>9}{'p50 ms':>9}"
    head += f"{'p99 ms':>9}{'target':>8}  {'':<4}"
    lines = [head, "-" * len(head)]
    for r in results:
        target = TARGETS.get(r.name, 0.0)
        verdict = "ok" if r.rate >= target else "MISS"
        lines.append(
            f"{r.name:<12}{len(r.latencies):>10}{r.elapsed:>9.2f}{r.rate:>9.0f}"
            f"{r.pct(0.50):>9.2f}{r.pct(0.99):>9.2f}{target:>8.0f}  {verdict:<4}"
            + (f"  ({r.failures} failed)" if r.failures else "")
        )
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "\n".join(lines)


@dataclass
class Options:
    codes: int
    requests: int
    seconds: float
    data_dir: Path | None
    profile: Path | None
    json_out: Path | None
    settle: float = 3.0


def run(opts: Options) -> int:
    owned = opts.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="pinwarden-bench-")) if owned else opts.data_dir
    assert data_dir is not None
    if (data_dir / "pinwarden.db").exists():
        raise SystemExit(f"{data_dir} already holds a database; give a fresh --data-dir")
    data_dir.mkdir(parents=True, exist_ok=True)
    server = Server(data_dir, data_dir / "server.log")
    profiler = Profiler(opts.profile)
    try:
        return _run(opts, server, profiler, data_dir)
    except BaseException:
        log = data_dir / "server.log"
        if log.exists():
            tail = log.read_text(errors="replace").splitlines()[-40:]
            print("--- last lines of the server log ---", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        server.stop()
        if owned:
            shutil.rmtree(data_dir, ignore_errors=True)


def _phase(
    bench: Bench, profiler: Profiler, name: str, request: Callable[[int], None], opts: Options
) -> Result:
    for i in range(WARMUP):
        request(-1 - i)
    assert bench.server.proc is not None
    spy = profiler.record(name, bench.server.proc.pid)
    try:
        result = measure(name, request, opts.requests, opts.seconds)
    finally:
        Profiler.finish(spy)
    print(f"  {name}: {len(result.latencies)} requests, {result.rate:.0f} req/s", flush=True)
    return result


def _run(opts: Options, server: Server, profiler: Profiler, data_dir: Path) -> int:
    print(f"pinwarden bench: data dir {data_dir}, python {sys.version.split()[0]}", flush=True)
    server.start()
    demo = json.loads((data_dir / "demo.json").read_text())
    bench = Bench(server, demo["api_key"], demo["devices"])
    print(f"server pid {server.proc.pid if server.proc else '?'} on {server.url}", flush=True)

    # 1. Stored codes, plain creates in a loop over one connection.
    t0 = time.perf_counter()
    stored = [bench.create("Stored") for _ in range(opts.codes)]
    preload_s = time.perf_counter() - t0
    print(
        f"pre-created {len(stored)} codes over {len(bench.brands)} locks in {preload_s:.1f}s "
        f"({len(stored) / preload_s:.0f}/s)",
        flush=True,
    )
    per_lock = -(-opts.codes // len(bench.brands))
    if per_lock < LIST_SIZE:
        print(f"note: {LIST_BRAND} holds only about {per_lock} stored codes (+ new creates)")

    # 2. create: unique PINs on every lock, 60+ days ahead.
    created: list[str] = []

    def create(_: int) -> None:
        created.append(bench.create("Bench"))

    results = [_phase(bench, profiler, "create", create, opts)]

    # 3. durability: kill -9 right after the last create answered, restart, look for every code.
    bench.http.close()
    server.kill9()
    server.start()
    bench.reconnect()
    present = bench.all_code_ids()
    # The restarted engine sweeps every lock once; let it finish before measuring reads.
    time.sleep(opts.settle)
    survived = sum(1 for c in created if c in present)
    stored_ok = sum(1 for c in stored if c in present)
    durability = f"{survived}/{len(created)} creates survived kill -9"
    print(f"durability: {durability}", flush=True)

    # 4. get by id, over stored and newly created codes.
    ids = stored + created

    def get(i: int) -> None:
        code_id = ids[(i * 7919) % len(ids)]
        response = bench.http.get("/access_codes/get", params={"access_code_id": code_id})
        assert response.status_code == 200, response.text

    results.append(_phase(bench, profiler, "get", get, opts))

    # 5. list 500 codes of one lock.
    list_device = bench.devices[LIST_BRAND]
    slot = bench.brands.index(LIST_BRAND)
    on_lock = sum(1 for n in range(bench.sent) if n % len(bench.brands) == slot)
    expected = min(LIST_SIZE, on_lock)

    def list_500(_: int) -> None:
        response = bench.http.get(
            "/access_codes/list", params={"device_id": list_device, "limit": LIST_SIZE}
        )
        assert response.status_code == 200, response.text
        got = len(orjson.loads(response.content)["access_codes"])
        assert got == expected, f"listed {got}, expected {expected}"

    results.append(_phase(bench, profiler, "list_500", list_500, opts))
    bench.http.close()

    extra = {
        "stored codes": f"{opts.codes} ({stored_ok}/{len(stored)} present after restart)",
        "durability": durability,
        "machine": f"{os.cpu_count()} cores; one server process, SQLite (WAL) in {data_dir}",
    }
    print()
    print(table(results, extra))
    if opts.json_out is not None:
        opts.json_out.write_text(
            json.dumps(
                {
                    "results": {
                        r.name: {
                            "requests": len(r.latencies),
                            "failures": r.failures,
                            "seconds": round(r.elapsed, 3),
                            "req_per_s": round(r.rate, 1),
                            "p50_ms": round(r.pct(0.5), 3),
                            "p99_ms": round(r.pct(0.99), 3),
                            "target_req_per_s": TARGETS[r.name],
                        }
                        for r in results
                    },
                    "durability": {"survived": survived, "created": len(created)},
                    "stored_codes": opts.codes,
                },
                indent=2,
            )
        )
    return 0 if survived == len(created) and stored_ok == len(stored) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codes", type=int, default=5000, help="stored codes (default 5000)")
    parser.add_argument(
        "--requests",
        type=int,
        help="requests per operation (default 3000; --vs-fake: per server and round, 1000)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        help="time cap per operation (default 10; --vs-fake: per server and round, 4)",
    )
    parser.add_argument("--data-dir", type=Path, help="a fresh folder (default: a temporary one)")
    parser.add_argument(
        "--profile", type=Path, help="record the server with py-spy (raw stacks) into this folder"
    )
    parser.add_argument("--json", dest="json_out", type=Path, help="also save the figures here")
    parser.add_argument(
        "--settle",
        type=float,
        default=3.0,
        help="seconds to wait after the restart before measuring reads (default 3)",
    )
    parser.add_argument(
        "--vs-fake",
        action="store_true",
        help="side by side with Seam's fake server (bench/versus.py)",
    )
    parser.add_argument("--rounds", type=int, default=6, help="--vs-fake: alternating rounds")
    parser.add_argument(
        "--flat-codes",
        type=int,
        default=50_000,
        help="--vs-fake: stored codes for the flatness figures (0: skip them)",
    )
    parser.add_argument("--clients", type=int, default=8, help="--vs-fake: concurrent clients")
    a = parser.parse_args(argv)
    if a.codes < 0 or (a.requests or 1) < 1 or (a.seconds or 1) <= 0:
        parser.error("--codes >= 0, --requests >= 1, --seconds > 0")
    if a.vs_fake:
        import versus

        return versus.run(
            versus.Options(
                codes=a.codes,
                flat_codes=a.flat_codes,
                rounds=a.rounds,
                requests=a.requests or 1000,
                seconds=a.seconds or 4.0,
                clients=a.clients,
                json_out=a.json_out,
            )
        )
    return run(
        Options(
            a.codes,
            a.requests or 3000,
            a.seconds or 10.0,
            a.data_dir,
            a.profile,
            a.json_out,
            a.settle,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
