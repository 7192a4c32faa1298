"""pinwarden side by side with Seam's fake server (`bench/api.py --vs-fake`, bench/README.md).

Both servers run on loopback at once and take turns: every round measures each operation on
pinwarden and on the fake back to back, the order flipping from round to round, so a burst of
load on this shared machine falls on both. Every figure is the same keep-alive `httpx.Client`,
one request at a time, unless it says clients.

1. pinwarden: `serve --demo` with SERVE_FLAGS (the engine runs in the server, on the real
   clock), 5,000 stored codes over the seven sandbox locks; the fake: seeded, 5,000 codes over
   its three locks, and a second fake holding exactly 500 codes for the list (fake_seam.py says
   why). A third server, pinwarden with 50,000 stored codes, for flatness.
2. Both pinwarden servers are killed with SIGKILL and started again (every preloaded code must
   be there), and the engine's start-up sweep is let finish.
3. Reads, in rounds: `get` and `list_500` on pinwarden, the fake, and pinwarden at 50,000.
4. Creates, in rounds, on pinwarden and the fake; then pinwarden is killed with SIGKILL again
   and every create that answered 200 must be listed after the restart.
5. Concurrency: 8 client processes, each with its own keep-alive connection, against one, on
   both servers, for each operation.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fake_seam
import httpx
import orjson

from api import (
    LIST_BRAND,
    LIST_SIZE,
    PIN_DIGITS,
    Lock,
    Server,
    all_code_ids,
    code_body,
    free_port,
)

# How `make demo` runs the engine, apart from the virtual clock (Makefile, `demo`).
SERVE_FLAGS: tuple[str, ...] = ()
OPS = ("create", "get", "list_500")
# Measured and shown, without a target: a list whose every response the client also parses.
PARSED = "list_500_parsed"
WARMUP = 20
# Issue 13's targets.
MIN_RATIO = 1.5  # pinwarden's req/s over the fake's, and 8 clients' over one
MIN_FLAT = 0.8  # req/s at 50,000 stored codes over req/s at 5,000


@dataclass
class Options:
    codes: int = 5000
    flat_codes: int = 50_000
    rounds: int = 6
    requests: int = 1000  # per operation, server and round (a list: a fifth of it)
    seconds: float = 4.0  # cap per operation, server and round
    clients: int = 8
    client_seconds: float = 4.0
    json_out: Path | None = None


class Target:
    """One server as the benchmark sees it: where it is, its locks, the codes it holds."""

    def __init__(
        self, name: str, url: str, api_key: str, locks: list[Lock], list_device: str
    ) -> None:
        self.name = name
        self.url = url
        self.api_key = api_key
        self.locks = locks
        self.list_device = list_device
        self.base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=60)
        self.sent = itertools.count()  # the index of the next code_body
        self.ids: list[str] = []
        self.http = client(url, api_key)

    def reconnect(self) -> None:
        self.http.close()
        self.http = client(self.url, self.api_key)

    def create(self, _: int = 0) -> None:
        self.ids.append(create(self.http, code_body(self.locks, next(self.sent), self.base, "B")))

    def get(self, i: int) -> None:
        get(self.http, self.ids[(i * 7919) % len(self.ids)])

    def list_500(self, _: int = 0) -> None:
        list_codes(self.http, self.list_device, LIST_SIZE)

    def list_500_parsed(self, _: int = 0) -> None:
        list_codes(self.http, self.list_device, LIST_SIZE, parse=True)

    def preload(self, count: int, threads: int = 1) -> None:
        """`count` more codes through plain creates, over `threads` connections."""

        def work(share: int) -> None:
            http = client(self.url, self.api_key)
            for _ in range(share):
                body = code_body(self.locks, next(self.sent), self.base, "Stored")
                self.ids.append(create(http, body))
            http.close()

        shares = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
        workers = [threading.Thread(target=work, args=(s,)) for s in shares]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    def all_ids(self) -> set[str]:
        return all_code_ids(self.http)


def client(url: str, api_key: str) -> httpx.Client:
    """The one client both servers get: keep-alive, one connection."""
    return httpx.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=60.0,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


def create(http: httpx.Client, body: dict[str, Any]) -> str:
    response = http.post("/access_codes/create", json=body)
    assert response.status_code == 200, response.text
    return str(orjson.loads(response.content)["access_code"]["access_code_id"])


def get(http: httpx.Client, access_code_id: str) -> None:
    response = http.get("/access_codes/get", params={"access_code_id": access_code_id})
    assert response.status_code == 200, response.text


def list_codes(http: httpx.Client, device_id: str, limit: int, parse: bool = False) -> None:
    """A list of `limit` codes, read to its last byte. The codes are counted in the bytes
    unless `parse`: parsing is the client's work, and it grows with the size of an access code
    on the wire (pinwarden's, Seam's shape, is about twice the fake's)."""
    response = http.get("/access_codes/list", params={"device_id": device_id, "limit": limit})
    assert response.status_code == 200, response.text
    if parse:
        got = len(orjson.loads(response.content)["access_codes"])
    else:
        got = response.content.count(b'"access_code_id"')
    assert got == limit, f"listed {got} codes, expected {limit}"


@dataclass
class Sample:
    """One operation on one server, over all rounds."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    rates: list[float] = field(default_factory=list)  # one per round
    loads: list[float] = field(default_factory=list)  # 1-minute load average, one per round

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def measure(sample: Sample, request: Callable[[int], None], count: int, seconds: float) -> None:
    for i in range(WARMUP):
        request(-1 - i)
    clock = time.perf_counter
    start = clock()
    stop_at = start + seconds
    done = 0
    for i in range(count):
        t0 = clock()
        request(i)
        t1 = clock()
        sample.latencies.append(t1 - t0)
        done += 1
        if t1 >= stop_at:
            break
    elapsed = clock() - start
    sample.seconds += elapsed
    sample.rates.append(done / elapsed)
    sample.loads.append(os.getloadavg()[0])


def rounds(
    plan: list[tuple[str, list[Target]]], opts: Options, samples: dict[tuple[str, str], Sample]
) -> None:
    """`plan`: per operation, the servers that take turns on it."""
    for r in range(opts.rounds):
        for op, targets in plan:
            count = opts.requests // 5 if op.startswith("list_500") else opts.requests
            for target in targets if r % 2 == 0 else targets[::-1]:
                sample = samples.setdefault((target.name, op), Sample())
                measure(sample, getattr(target, op), count, opts.seconds)
        print(f"  round {r + 1}/{opts.rounds} done, load {os.getloadavg()[0]:.2f}", flush=True)


# --- concurrency: client processes ------------------------------------------------------------


@dataclass(frozen=True)
class ClientJob:
    url: str
    api_key: str
    op: str
    start_at: float  # time.time() at which every client starts
    seconds: float
    base: datetime  # create: code_body's base
    ids: tuple[str, ...] = ()  # get
    list_device: str = ""  # list_500
    locks: tuple[Lock, ...] = ()  # create
    first: int = 0  # create: this client's codes are first, first + stride, ...
    stride: int = 1


def run_client(job: ClientJob) -> tuple[int, list[float]]:
    """One client process: requests back to back from `start_at` for `seconds`."""
    http = client(job.url, job.api_key)
    n = itertools.count(job.first, job.stride)
    requests: dict[str, Callable[[int], object]] = {
        "create": lambda i: create(http, code_body(list(job.locks), next(n), job.base, "C")),
        "get": lambda i: get(http, job.ids[(i * 7919) % len(job.ids)]),
        "list_500": lambda i: list_codes(http, job.list_device, LIST_SIZE),
    }
    request = requests[job.op]
    request(-1)  # connect
    while time.time() < job.start_at:
        time.sleep(0.001)
    latencies: list[float] = []
    stop_at = time.perf_counter() + job.seconds
    i = 0
    while True:
        t0 = time.perf_counter()
        if t0 >= stop_at:
            break
        request(i)
        latencies.append(time.perf_counter() - t0)
        i += 1
    http.close()
    return i, latencies


def concurrent(target: Target, op: str, clients: int, seconds: float) -> float:
    """Requests per second of `clients` client processes together on one server."""
    first = next(target.sent)
    jobs = [
        ClientJob(
            target.url,
            target.api_key,
            op,
            start_at=time.time() + 3.0,
            seconds=seconds,
            base=target.base,
            ids=tuple(target.ids),
            list_device=target.list_device,
            locks=tuple(target.locks),
            first=first + c,
            stride=clients,
        )
        for c in range(clients)
    ]
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(run_client, jobs)
    done = sum(count for count, _ in results)
    target.sent = itertools.count(first + clients * (max(c for c, _ in results) + 2))
    return done / seconds


# --- the run ---------------------------------------------------------------------------------


def start_pinwarden(name: str, folder: Path) -> tuple[Server, Target]:
    folder.mkdir(parents=True)
    server = Server(folder, folder / "server.log", SERVE_FLAGS)
    server.start()
    demo = json.loads((folder / "demo.json").read_text())
    brands = list(PIN_DIGITS)
    locks = [Lock(demo["devices"][b], PIN_DIGITS[b]) for b in brands]
    return server, Target(name, server.url, demo["api_key"], locks, demo["devices"][LIST_BRAND])


def restart(server: Server, target: Target) -> str:
    """kill -9, start again, let the start-up sweep finish; every code must be there."""
    target.http.close()
    seen = server.sweeps()
    server.kill9()
    server.start()  # on a new port
    target.url = server.url
    target.reconnect()
    present = target.all_ids()
    server.wait_for_sweep(seen)
    missing = [i for i in target.ids if i not in present]
    if missing:
        raise SystemExit(f"{target.name}: {len(missing)} codes lost across kill -9: {missing[:3]}")
    return f"{len(target.ids)}/{len(target.ids)} codes survived kill -9"


def run(opts: Options) -> int:
    script = fake_seam.install()
    folder = Path(tempfile.mkdtemp(prefix="pinwarden-vs-fake-"))
    servers: list[Any] = []
    try:
        return _run(opts, script, folder, servers)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _fake(name: str, script: Path, folder: Path, servers: list[Any], locks: list[str]) -> Target:
    fake = fake_seam.FakeServer(script, free_port(), folder / f"{name}.log")
    servers.append(fake)
    fake.start()
    return Target(name, fake.url, fake_seam.API_KEY, [Lock(d, 6) for d in locks], locks[0])


def _run(opts: Options, script: Path, folder: Path, servers: list[Any]) -> int:
    began = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.2f}"
    print(f"pinwarden vs {fake_seam.PACKAGE}@{fake_seam.VERSION}: {began}", flush=True)
    pw_server, pw = start_pinwarden("pinwarden", folder / "pinwarden")
    servers.append(pw_server)
    fake = _fake("fake", script, folder, servers, list(fake_seam.LOCKS))
    fake_list = _fake("fake-500", script, folder, servers, list(fake_seam.LOCKS[:1]))
    big: Target | None = None
    if opts.flat_codes:
        big_server, big = start_pinwarden("pinwarden-50k", folder / "pinwarden-50k")
        servers.append(big_server)

    t0 = time.perf_counter()
    pw.preload(opts.codes)
    fake.preload(opts.codes)
    fake_list.preload(LIST_SIZE)
    print(f"preloaded {opts.codes} codes on each in {time.perf_counter() - t0:.0f}s", flush=True)
    notes = {"pinwarden preload": restart(pw_server, pw)}
    if big is not None:
        t0 = time.perf_counter()
        big.preload(opts.flat_codes, threads=4)
        print(f"preloaded {opts.flat_codes} codes in {time.perf_counter() - t0:.0f}s", flush=True)
        notes["pinwarden-50k preload"] = restart(big_server, big)

    samples: dict[tuple[str, str], Sample] = {}
    readers = [pw, fake] + ([big] if big is not None else [])
    list_readers = [pw, fake_list] + ([big] if big is not None else [])
    print("reads:", flush=True)
    rounds([("get", readers), ("list_500", list_readers), (PARSED, [pw, fake_list])], opts, samples)
    print("creates:", flush=True)
    rounds([("create", [pw, fake])], opts, samples)
    notes["durability"] = restart(pw_server, pw).replace("codes", "codes (all creates)")

    print("concurrency:", flush=True)
    scaling: dict[tuple[str, str], tuple[float, float]] = {}
    for op in OPS:
        for target in (pw, fake_list if op == "list_500" else fake):
            # One client before and after the many, so a change of load falls on both.
            before = concurrent(target, op, 1, opts.client_seconds)
            many = concurrent(target, op, opts.clients, opts.client_seconds)
            one = (before + concurrent(target, op, 1, opts.client_seconds)) / 2
            scaling[(target.name, op)] = (one, many)
            print(f"  {target.name} {op}: 1 client {one:.0f}/s, {opts.clients}: {many:.0f}/s")

    ended = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.2f}"
    report = Report(opts, samples, scaling, notes, began, ended, fake_list.name)
    print()
    print(report.text())
    if opts.json_out is not None:
        opts.json_out.write_text(json.dumps(report.as_dict(), indent=2))
    return 0 if report.all_met() else 1


@dataclass
class Report:
    opts: Options
    samples: dict[tuple[str, str], Sample]
    scaling: dict[tuple[str, str], tuple[float, float]]
    notes: dict[str, str]
    began: str
    ended: str
    fake_list: str

    def fake_name(self, op: str) -> str:
        return self.fake_list if op.startswith("list_500") else "fake"

    def ratio(self, op: str) -> tuple[float, float, float]:
        """pinwarden's req/s over the fake's: overall, and the lowest and highest round."""
        pw, fake = self.samples[("pinwarden", op)], self.samples[(self.fake_name(op), op)]
        per_round = [a / b for a, b in zip(pw.rates, fake.rates, strict=True)]
        return pw.rate / fake.rate, min(per_round), max(per_round)

    def flat(self, op: str) -> float | None:
        big = self.samples.get(("pinwarden-50k", op))
        return None if big is None else big.rate / self.samples[("pinwarden", op)].rate

    def checks(self) -> dict[str, bool]:
        out: dict[str, bool] = {}
        for op in OPS:
            pw, fake = self.samples[("pinwarden", op)], self.samples[(self.fake_name(op), op)]
            out[f"{op} >= {MIN_RATIO}x the fake"] = self.ratio(op)[0] >= MIN_RATIO
            out[f"{op} p99 <= the fake's"] = pw.pct(0.99) <= fake.pct(0.99)
            one, many = self.scaling[("pinwarden", op)]
            out[f"{op}: {self.opts.clients} clients >= {MIN_RATIO}x one"] = many >= MIN_RATIO * one
        for op in ("get", "list_500"):
            flat = self.flat(op)
            if flat is not None:
                out[f"{op} at {self.opts.flat_codes} codes >= {MIN_FLAT}x at {self.opts.codes}"] = (
                    flat >= MIN_FLAT
                )
        return out

    def all_met(self) -> bool:
        return all(self.checks().values())

    def text(self) -> str:
        head = (
            f"{'operation':<16}{'pinwarden':>11}{'p50':>7}{'p99':>7}{'fake':>9}{'p50':>7}"
            f"{'p99':>7}{'ratio':>7}{'(rounds)':>13}{'load':>6}"
        )
        lines = [
            f"began {self.began}; ended {self.ended}",
            f"{self.opts.codes} stored codes; {self.opts.rounds} alternating rounds; "
            "req/s, latencies in ms",
            head,
            "-" * len(head),
        ]
        for op in (*OPS, PARSED):
            pw, fake = self.samples[("pinwarden", op)], self.samples[(self.fake_name(op), op)]
            ratio, low, high = self.ratio(op)
            lines.append(
                f"{op:<16}{pw.rate:>11.0f}{pw.pct(0.5):>7.2f}{pw.pct(0.99):>7.2f}"
                f"{fake.rate:>9.0f}{fake.pct(0.5):>7.2f}{fake.pct(0.99):>7.2f}"
                f"{ratio:>7.2f}{f'{low:.2f}-{high:.2f}':>13}"
                f"{statistics.mean(pw.loads + fake.loads):>6.2f}"
            )
        for op in ("get", "list_500"):
            big = self.samples.get(("pinwarden-50k", op))
            if big is not None:
                lines.append(
                    f"flat: {op} at {self.opts.flat_codes} codes {big.rate:.0f} req/s "
                    f"(p50 {big.pct(0.5):.2f}, p99 {big.pct(0.99):.2f} ms) = "
                    f"{self.flat(op):.2f}x at {self.opts.codes}"
                )
        for (name, op), (one, many) in self.scaling.items():
            lines.append(
                f"clients: {name} {op}: 1 -> {one:.0f}/s, {self.opts.clients} -> {many:.0f}/s "
                f"= {many / one:.2f}x"
            )
        lines += [f"{k}: {v}" for k, v in self.notes.items()]
        lines += [f"{'ok  ' if met else 'MISS'} {name}" for name, met in self.checks().items()]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "began": self.began,
            "ended": self.ended,
            "samples": {
                f"{name} {op}": {
                    "req_per_s": round(s.rate, 1),
                    "p50_ms": round(s.pct(0.5), 3),
                    "p99_ms": round(s.pct(0.99), 3),
                    "rounds_req_per_s": [round(r, 1) for r in s.rates],
                    "loads": s.loads,
                }
                for (name, op), s in self.samples.items()
            },
            "clients": {f"{n} {op}": v for (n, op), v in self.scaling.items()},
            "notes": self.notes,
            "checks": self.checks(),
        }


if __name__ == "__main__":
    sys.exit(run(Options()))
