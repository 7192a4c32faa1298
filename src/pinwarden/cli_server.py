"""Running pinwarden: `serve`, `worker`, `reconcile` and `simulate`.

The server, the engine's runtimes and the sandbox are imported inside the commands, so that
the operator commands start in a fraction of the time.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from pinwarden.cli_common import (
    AsJson,
    CliError,
    DataDir,
    console,
    database_location,
    database_url,
    open_store,
    require_migrated,
    secret_box,
)
from pinwarden.events.policy import DeliveryPolicy
from pinwarden.service import auth
from pinwarden.service.deps import Deps
from pinwarden.store.store import Store

if TYPE_CHECKING:
    from pinwarden.server import Runtime


# -- serving --------------------------------------------------------------------------------------


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything is printed or written, so a port in use
    fails first and leaves demo.json alone."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        hint = "; another program is using it: choose another --port" if exc.errno == 98 else ""
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}") from None
    return sock


def _demo(runtime_deps: Deps, data_dir: Path, endpoint: str) -> dict[str, Any]:
    """The demo workspace's facts, made once; a later run on another port updates the URLs."""
    from pinwarden.service.sandbox import seed_sandbox_devices

    demo_file = data_dir / "demo.json"
    saved = json.loads(demo_file.read_text()) if demo_file.exists() else {}
    if not saved.get("workspace_id"):
        workspace_id = auth.create_workspace(runtime_deps, "Demo")
        key = auth.create_api_key(runtime_deps, workspace_id, "demo")
        saved = {
            "api_key": key.token,
            "workspace_id": workspace_id,
            "devices": seed_sandbox_devices(runtime_deps, workspace_id),
        }
    facts = {
        "endpoint": endpoint,
        "api_key": saved["api_key"],
        "workspace_id": saved["workspace_id"],
        "console_url": f"{endpoint}/console",
        "devices": saved["devices"],
    }
    if facts != saved:
        demo_file.write_text(json.dumps(facts, indent=2))
    return facts


def _banner(
    runtime_deps: Deps, facts: dict[str, Any] | None, endpoint: str, data_dir: Path
) -> None:
    if facts is not None:
        console.print_json(json.dumps(facts))
        console.print(f"[bold]API key:[/bold] {facts['api_key']}")
        console.print(f"[dim]also written to {data_dir / 'demo.json'}[/dim]")
    if runtime_deps.virtual_clock:
        now = runtime_deps.clock.now().isoformat(timespec="seconds").replace("+00:00", "Z")
        console.print(
            f"[bold]Virtual clock:[/bold] {now} (it moves only when you POST "
            "/sandbox/clock/advance or /sandbox/clock/set)",
            soft_wrap=True,
        )
    console.print(f"[bold]Console:[/bold] {endpoint}/console", soft_wrap=True)
    console.print(f"[bold]Listening on[/bold] {endpoint} (Ctrl-C stops)", soft_wrap=True)


WebhookTimeout = Annotated[
    float,
    typer.Option(
        envvar="PINWARDEN_WEBHOOK_TIMEOUT",
        min=0.1,
        help="Seconds a webhook endpoint has to answer one delivery.",
    ),
]
WebhookConcurrency = Annotated[
    int,
    typer.Option(
        envvar="PINWARDEN_WEBHOOK_CONCURRENCY",
        min=1,
        help="Webhook deliveries in flight at once (each endpoint gets at most 4 of them).",
    ),
]


def _runtime(
    data_dir: Path,
    demo: bool,
    virtual_clock: bool,
    engine_workers: int,
    distributed: bool,
    delivery: DeliveryPolicy,
) -> Runtime:
    """The server's store, engine and app, on a database that is up to date."""
    from pinwarden.engine.distributed import DistributedUnavailable
    from pinwarden.server import build

    store = open_store(data_dir)
    if demo and database_url(os.environ.get("PINWARDEN_DATABASE_URL")) is None:
        store.upgrade()  # the demo is zero-setup: its own fresh SQLite file
    require_migrated(store)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return build(
            store,
            virtual_clock=virtual_clock,
            engine_workers=engine_workers,
            distributed=distributed,
            secrets=secret_box(data_dir),
            delivery=delivery,
        )
    except DistributedUnavailable as exc:
        raise CliError(str(exc), 2) from None


def serve(
    data_dir: DataDir = Path(".pinwarden"),
    host: str = "127.0.0.1",
    port: int = typer.Option(8080, min=1, max=65535),
    demo: bool = typer.Option(False, help="Create a demo workspace with sandbox locks."),
    virtual_clock: bool = typer.Option(False, help="Time moves only through /sandbox/clock/*."),
    engine_workers: int = typer.Option(
        0,
        min=0,
        help="Engine processes for the moments when many locks are due (0: the engine runs "
        "in the server process). One per spare core.",
    ),
    distributed: bool = typer.Option(
        False,
        help="PostgreSQL only: run the API and console here and leave the engine to "
        "`pinwarden worker` processes.",
    ),
    webhook_timeout: WebhookTimeout = 15.0,
    webhook_concurrency: WebhookConcurrency = 32,
) -> None:
    """Run the API, console and engine (SQLite by default; PINWARDEN_DATABASE_URL for
    PostgreSQL)."""
    import uvicorn

    if distributed and (virtual_clock or engine_workers or demo):
        raise CliError(
            "--distributed runs on the system clock with `pinwarden worker` processes; "
            "it does not combine with --virtual-clock, --engine-workers or --demo"
        )
    sock = listen(host, port)
    try:
        delivery = DeliveryPolicy(timeout=webhook_timeout, concurrency=webhook_concurrency)
        runtime = _runtime(data_dir, demo, virtual_clock, engine_workers, distributed, delivery)
    except BaseException:
        sock.close()
        raise
    endpoint = f"http://{host}:{port}"
    facts = _demo(runtime.deps, data_dir, endpoint) if demo else None
    _banner(runtime.deps, facts, endpoint, data_dir)
    runtime.start()
    from pinwarden.api.transport import OneWriteProtocol

    config = uvicorn.Config(
        runtime.app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        http=OneWriteProtocol,  # each response in one write (api/transport.py)
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        runtime.close()


def worker(
    data_dir: DataDir = Path(".pinwarden"),
    concurrency: int = typer.Option(
        8,
        min=1,
        help="Batches of locks in progress at once in this process (most of a batch's time "
        "is spent waiting between paced commands).",
    ),
    webhook_timeout: WebhookTimeout = 15.0,
    webhook_concurrency: WebhookConcurrency = 32,
) -> None:
    """Run the engine as procrastinate jobs on PostgreSQL, beside `serve --distributed`
    (one engine per process; start as many as there are cores to spare, on any machines)."""
    from pinwarden.engine.distributed import DistributedUnavailable, run_worker

    url = database_location(data_dir)
    # Each batch in progress holds a connection for its locks' leases and one for its work.
    store = Store(url) if url.startswith("sqlite") else Store(url, pool_size=2 * concurrency + 2)
    require_migrated(store)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        delivery = DeliveryPolicy(timeout=webhook_timeout, concurrency=webhook_concurrency)
        run_worker(store, concurrency, secret_box(data_dir), delivery)
    except DistributedUnavailable as exc:
        raise CliError(str(exc), 2) from None


def reconcile(data_dir: DataDir = Path(".pinwarden")) -> None:
    """Reconcile every lock once, now, and exit (what a periodic sweep does)."""
    from rich.progress import Progress

    from pinwarden.server import build

    store = open_store(data_dir)
    require_migrated(store)
    runtime = build(store, embedded=False, secrets=secret_box(data_dir))
    device_ids = runtime.runner.all_devices()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("reconciling", total=len(device_ids))
        size = runtime.runner.batch_size
        for batch in (device_ids[i : i + size] for i in range(0, len(device_ids), size)):
            runtime.engine.reconcile_devices(batch)
            progress.advance(task, len(batch))
    runtime.close()
    console.print(f"reconciled {len(device_ids)} locks")


def simulate(
    devices: int = typer.Option(20, min=1, max=10_000, help="Number of sandbox locks."),
    days: int = typer.Option(30, min=1, max=366, help="Simulated days of bookings."),
    faults: str = typer.Option("mild", help="Fault profile: none, mild or harsh."),
    seed: int = typer.Option(1, help="Random seed; the same seed gives the same report."),
    data_dir: Path | None = typer.Option(None, help="Keep the simulated database here."),
    as_json: AsJson = False,
) -> None:
    """Run a booking calendar on the virtual clock with faults, and report how codes fared."""
    import tempfile

    from rich.progress import Progress

    from pinwarden.engine.simulation import FAULT_PROFILES, Simulation

    if faults not in FAULT_PROFILES:
        raise CliError(f"--faults {faults!r}: use one of {', '.join(FAULT_PROFILES)}")
    folder = data_dir or Path(tempfile.mkdtemp(prefix="pinwarden-sim-"))
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(f"sqlite:///{folder / 'simulation.db'}")
    store.upgrade()
    sim = Simulation(store, devices, days, faults, seed)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"simulating {days} days on {devices} locks", total=1.0)
        report = sim.run(lambda done: progress.update(task, completed=done))
    store.dispose()
    if as_json:
        print(json.dumps(report.as_dict()))
        return
    table = Table(title=f"pinwarden simulation (faults: {faults}, seed {seed})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    figures = report.as_dict()
    misses = figures.pop("misses")
    for key, value in figures.items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)
    if not misses:
        console.print(
            "Every promise kept (P1 on the lock by check-in, P2 problems flagged in time, P4 removed or flagged at check-out, P5 nothing lost)."
        )
        return
    broken = Table(title=f"{len(misses)} broken promises")
    for column in ("promise", "access code", "lock", "faults", "stay starts", "what"):
        broken.add_column(column)
    for m in misses:
        broken.add_row(
            m["promise"],
            m["access_code_id"] or "-",
            m["lock"],
            ", ".join(m["faults"]) or "none",
            m["starts_at"],
            m["what"],
        )
    console.print(broken)
