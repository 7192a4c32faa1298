"""The `pinwarden` command."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pinwarden.engine.clock import SystemClock
from pinwarden.engine.distributed import DistributedUnavailable, apply_schema, run_worker
from pinwarden.server import Settings, build
from pinwarden.service import auth
from pinwarden.service.deps import Deps
from pinwarden.service.sandbox import seed_sandbox_devices
from pinwarden.store.db import UnmigratedDatabase
from pinwarden.store.store import Store

app = typer.Typer(
    help="pinwarden: smart-lock access codes, on the lock in time.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.")
workspace_app = typer.Typer(help="Workspaces.")
key_app = typer.Typer(help="API keys.")
device_app = typer.Typer(help="Locks.")
app.add_typer(db_app, name="db")
app.add_typer(workspace_app, name="workspace")
app.add_typer(key_app, name="api-key")
app.add_typer(device_app, name="device")
console = Console()

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="PINWARDEN_DATA_DIR",
        help="Where the SQLite database and demo.json live.",
    ),
]


def _store(data_dir: Path) -> Store:
    return Store(Settings(data_dir=data_dir).url())


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = Path(".pinwarden")) -> None:
    """Bring the database schema up to date."""
    store = _store(data_dir)
    store.upgrade()
    if not store.is_sqlite and apply_schema(store):  # the distributed runtime's job queue
        console.print("created the job queue's tables (procrastinate)")
    console.print(f"[green]database is up to date[/green] ({store.url.split('@')[-1]})")


@workspace_app.command("create")
def workspace_create(
    name: str,
    data_dir: DataDir = Path(".pinwarden"),
    sandbox_devices: bool = typer.Option(False, help="Add one sandbox lock per brand."),
) -> None:
    """Create a workspace and print its id and a first API key."""
    deps = _deps(data_dir)
    workspace_id = auth.create_workspace(deps, name)
    key = auth.create_api_key(deps, workspace_id)
    if sandbox_devices:
        seed_sandbox_devices(deps, workspace_id)
    console.print_json(json.dumps({"workspace_id": workspace_id, "api_key": key.token}))


def _parse_policy(settings: list[str]) -> dict[str, object]:
    from pinwarden.planner.types import Policy

    known = set(Policy.__dataclass_fields__)
    values: dict[str, object] = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or key not in known:
            raise typer.BadParameter(
                f"{item!r}: use key=value with a key among {', '.join(sorted(known))} "
                "(durations in seconds)"
            )
        values[key] = value
    Policy.from_mapping(values)  # refuses values of the wrong kind before anything is stored
    return values


def _set_policy(data_dir: Path, table_name: str, key: str, value: str, settings: list[str]) -> None:
    from sqlalchemy import select, update

    from pinwarden.store import schema

    table = getattr(schema, table_name)
    deps = _deps(data_dir)
    with deps.store.begin() as conn:
        row = conn.execute(select(table.c.policy).where(table.c[key] == value)).first()
        if row is None:
            console.print(f"[red]no {table_name[:-1]} {value}[/red]")
            raise typer.Exit(1)
        policy = {**row.policy, **_parse_policy(settings)}
        conn.execute(update(table).where(table.c[key] == value).values(policy=policy))
    console.print_json(json.dumps(policy))


@workspace_app.command("policy")
def workspace_policy(
    workspace_id: str,
    settings: list[str] = typer.Argument(None, help="key=value, e.g. horizon=777600"),
    data_dir: DataDir = Path(".pinwarden"),
) -> None:
    """Show or change a workspace's reconciler policy (horizon, deadline, jit_lead, ...)."""
    _set_policy(data_dir, "workspaces", "workspace_id", workspace_id, settings or [])


@device_app.command("policy")
def device_policy(
    device_id: str,
    settings: list[str] = typer.Argument(None, help="key=value, overriding the workspace's"),
    data_dir: DataDir = Path(".pinwarden"),
) -> None:
    """Show or change one lock's policy overrides."""
    _set_policy(data_dir, "devices", "device_id", device_id, settings or [])


@key_app.command("create")
def api_key_create(
    workspace_id: str, name: str = "default", data_dir: DataDir = Path(".pinwarden")
) -> None:
    """Create an API key for a workspace. It is shown once; only its hash is stored."""
    key = auth.create_api_key(_deps(data_dir), workspace_id, name)
    console.print_json(json.dumps({"api_key_id": key.api_key_id, "api_key": key.token}))


def _deps(data_dir: Path) -> Deps:
    store = _store(data_dir)
    _require(store)
    return Deps(store=store, clock=SystemClock())


def _require(store: Store) -> None:
    try:
        store.require_migrated()
    except UnmigratedDatabase as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _demo(runtime_deps: Deps, data_dir: Path, host: str, port: int) -> dict[str, object]:
    demo_file = data_dir / "demo.json"
    if demo_file.exists():
        saved = json.loads(demo_file.read_text())
        if saved.get("workspace_id"):
            return saved
    workspace_id = auth.create_workspace(runtime_deps, "Demo")
    key = auth.create_api_key(runtime_deps, workspace_id, "demo")
    device_ids = seed_sandbox_devices(runtime_deps, workspace_id)
    endpoint = f"http://{host}:{port}"
    facts: dict[str, object] = {
        "endpoint": endpoint,
        "api_key": key.token,
        "workspace_id": workspace_id,
        "console_url": f"{endpoint}/console",
        "devices": device_ids,
    }
    demo_file.write_text(json.dumps(facts, indent=2))
    return facts


@app.command()
def serve(
    data_dir: DataDir = Path(".pinwarden"),
    host: str = "127.0.0.1",
    port: int = 8080,
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
) -> None:
    """Run the API, console and engine (SQLite by default)."""
    import uvicorn

    from pinwarden.api.transport import OneWriteProtocol

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings(data_dir=data_dir, virtual_clock=virtual_clock)
    store = Store(settings.url())
    if demo and settings.database_url is None:
        store.upgrade()  # the demo is zero-setup: its own fresh SQLite file
    _require(store)
    if distributed and (virtual_clock or engine_workers or demo):
        raise typer.BadParameter(
            "--distributed runs on the system clock with `pinwarden worker` processes; "
            "it does not combine with --virtual-clock, --engine-workers or --demo"
        )
    try:
        runtime = build(
            store,
            virtual_clock=virtual_clock,
            engine_workers=engine_workers,
            distributed=distributed,
        )
    except DistributedUnavailable as exc:
        console.print(f"[red]{exc}[/red]")
        sys.exit(2)
    if demo:
        facts = _demo(runtime.deps, data_dir, host, port)
        console.print_json(json.dumps(facts))
        console.print(f"[bold]API key:[/bold] {facts['api_key']}")
        console.print(f"[bold]Console:[/bold] {facts['console_url']}")
        console.print(f"[dim]also written to {data_dir / 'demo.json'}[/dim]")
    runtime.runner.start()  # type: ignore[attr-defined]
    try:
        uvicorn.run(
            runtime.app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            http=OneWriteProtocol,  # each response in one write (api/transport.py)
        )
    finally:
        runtime.close()


@app.command()
def worker(
    data_dir: DataDir = Path(".pinwarden"),
    concurrency: int = typer.Option(
        8,
        min=1,
        help="Batches of locks in progress at once in this process (most of a batch's time "
        "is spent waiting between paced commands).",
    ),
) -> None:
    """Run the engine as procrastinate jobs on PostgreSQL, beside `serve --distributed`
    (one engine per process; start as many as there are cores to spare, on any machines)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings(data_dir=data_dir)
    url = settings.url()
    # Each batch in progress holds a connection for its locks' leases and one for its work.
    store = Store(url) if url.startswith("sqlite") else Store(url, pool_size=2 * concurrency + 2)
    _require(store)
    try:
        run_worker(store, concurrency)
    except DistributedUnavailable as exc:
        console.print(f"[red]{exc}[/red]")
        sys.exit(2)


@app.command()
def reconcile(data_dir: DataDir = Path(".pinwarden")) -> None:
    """Reconcile every lock once, now, and exit (what a periodic sweep does)."""
    from rich.progress import Progress

    store = _store(data_dir)
    _require(store)
    runtime = build(store, embedded=False)
    device_ids = runtime.runner.all_devices()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("reconciling", total=len(device_ids))
        size = runtime.runner.batch_size
        for batch in (device_ids[i : i + size] for i in range(0, len(device_ids), size)):
            runtime.engine.reconcile_devices(batch)
            progress.advance(task, len(batch))
    runtime.close()
    console.print(f"reconciled {len(device_ids)} locks")


@app.command()
def simulate(
    devices: int = typer.Option(20, help="Number of sandbox locks (brands in turn)."),
    days: int = typer.Option(30, help="Simulated days of bookings."),
    faults: str = typer.Option("mild", help="Fault profile: none, mild or harsh."),
    seed: int = typer.Option(1, help="Random seed; the same seed gives the same report."),
    data_dir: Path | None = typer.Option(None, help="Keep the simulated database here."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Run a booking calendar on the virtual clock with faults, and report how codes fared."""
    import tempfile

    from rich.progress import Progress
    from rich.table import Table

    from pinwarden.engine.simulation import Simulation

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
    for key, value in report.as_dict().items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)


def main() -> None:
    try:
        app()
    except UnmigratedDatabase as exc:
        console.print(f"[red]{exc}[/red]")
        sys.exit(2)


if __name__ == "__main__":
    main()
