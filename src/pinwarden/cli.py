"""The `pinwarden` command.

Every wrong input ends in one line on stderr and a non-zero exit, never a traceback: `main`
turns the errors an operator can cause (a bad argument, a service refusal, a database that is
missing, unreachable or behind the code) into `pinwarden: <what is wrong>`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from pinwarden.engine.clock import SystemClock
from pinwarden.service import auth, devices, policy
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError
from pinwarden.service.pagination import Page, every_item
from pinwarden.store import db
from pinwarden.store.db import UnmigratedDatabase
from pinwarden.store.store import Store

if TYPE_CHECKING:
    from pinwarden.server import Runtime

# The server, the engine's runtimes and the sandbox are imported by the commands that use them,
# so that `pinwarden api-key list` and friends start in a fraction of the time.

_DATABASE_HELP = (
    "SQLite in --data-dir by default; set PINWARDEN_DATABASE_URL to use PostgreSQL, "
    "e.g. postgresql://user@host:5432/pinwarden."
)
app = typer.Typer(
    help=f"pinwarden: smart-lock access codes, on the lock in time. {_DATABASE_HELP}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
device_app = typer.Typer(help="Locks.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(workspace_app, name="workspace")
app.add_typer(key_app, name="api-key")
app.add_typer(device_app, name="device")
console = Console()
errors = Console(stderr=True)


class CliError(Exception):
    """An operator's mistake or a refusal, said in one line; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="PINWARDEN_DATA_DIR",
        help=f"Where the SQLite database and demo.json live. {_DATABASE_HELP}",
    ),
]
Settings_ = Annotated[
    list[str] | None,
    typer.Argument(help="key=value (durations in seconds or with s/m/h/d: horizon=9d)"),
]
Unset = Annotated[
    list[str] | None,
    typer.Option("--unset", help="Drop this override (repeatable), back to the inherited value."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

# -- the database ------------------------------------------------------------------------------

# Spellings of PostgreSQL URLs people copy from elsewhere, and the driver pinwarden ships.
_POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2")


def database_url(raw: str | None) -> str | None:
    """PINWARDEN_DATABASE_URL checked and normalised: `postgres://` and `postgresql://` use
    the psycopg driver pinwarden installs; anything but PostgreSQL or SQLite is refused."""
    if raw is None or not raw.strip():
        return None
    from sqlalchemy.engine import make_url

    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise CliError(
            "PINWARDEN_DATABASE_URL is not a database URL; "
            "write it like postgresql://user@host:5432/pinwarden"
        ) from None
    if url.drivername in _POSTGRES_SCHEMES:
        url = url.set(drivername="postgresql+psycopg")
    elif url.drivername not in ("sqlite", "sqlite+pysqlite"):
        raise CliError(
            f"PINWARDEN_DATABASE_URL: pinwarden runs on PostgreSQL or SQLite, not "
            f"{url.drivername!r}; write postgresql://user@host:5432/pinwarden"
        )
    if url.drivername == "postgresql+psycopg" and not url.database:
        raise CliError("PINWARDEN_DATABASE_URL names no database: add /<database> to its end")
    return url.render_as_string(hide_password=False)


def _url(data_dir: Path) -> str:
    """PINWARDEN_DATABASE_URL, or the SQLite file in `data_dir` (made if missing)."""
    url = database_url(os.environ.get("PINWARDEN_DATABASE_URL"))
    if url is not None:
        return url
    data_dir.mkdir(parents=True, exist_ok=True)
    return db.sqlite_url(data_dir)


def _store(data_dir: Path, **engine_kwargs: Any) -> Store:
    return Store(_url(data_dir), **engine_kwargs)


def _require(store: Store) -> None:
    try:
        store.require_migrated()
    except UnmigratedDatabase as exc:
        raise CliError(str(exc), 2) from None


def _deps(data_dir: Path) -> Deps:
    store = _store(data_dir)
    _require(store)
    return Deps(store=store, clock=SystemClock())


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = Path(".pinwarden")) -> None:
    """Bring the database schema up to date."""
    from pinwarden.engine.distributed import apply_schema

    store = _store(data_dir)
    store.upgrade()
    if not store.is_sqlite and apply_schema(store):  # the distributed runtime's job queue
        console.print("created the job queue's tables (procrastinate)")
    console.print(f"[green]database is up to date[/green] ({store.url.split('@')[-1]})")


# -- workspaces and keys -------------------------------------------------------------------------


def _table(*columns: str) -> Table:
    """A listing; `*_id` columns never wrap, so an id can be copied whole."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        if column.endswith("_id"):
            table.add_column(column, no_wrap=True, min_width=36)
        else:
            table.add_column(column, overflow="fold")
    return table


def _print_listing(table: Table, rows: int, empty: str) -> None:
    """Piped output is not cut to 80 columns: ids stay on one line."""
    if not rows:
        console.print(empty)
        return
    (console if console.is_terminal else Console(width=240)).print(table)


def _time(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


@workspace_app.command("create")
def workspace_create(
    name: str,
    data_dir: DataDir = Path(".pinwarden"),
    sandbox_devices: bool = typer.Option(False, help="Add one sandbox lock per brand."),
) -> None:
    """Create a workspace and print its id and a first API key."""
    from pinwarden.service.sandbox import seed_sandbox_devices

    deps = _deps(data_dir)
    workspace_id = auth.create_workspace(deps, name)
    key = auth.create_api_key(deps, workspace_id)
    if sandbox_devices:
        seed_sandbox_devices(deps, workspace_id)
    console.print_json(json.dumps({"workspace_id": workspace_id, "api_key": key.token}))


@workspace_app.command("list")
def workspace_list(data_dir: DataDir = Path(".pinwarden"), as_json: AsJson = False) -> None:
    """Every workspace, with its number of locks and of live API keys."""
    found = auth.list_workspaces(_deps(data_dir))
    if as_json:
        rows = [
            {"workspace_id": w.workspace_id, "name": w.name, "devices": w.devices}
            | {"active_api_keys": w.active_keys, "created_at": w.created_at.isoformat()}
            for w in found
        ]
        print(json.dumps(rows))
        return
    table = _table("workspace_id", "name", "locks", "live keys", "created")
    for w in found:
        table.add_row(
            w.workspace_id, w.name, str(w.devices), str(w.active_keys), _time(w.created_at)
        )
    _print_listing(table, len(found), "no workspaces yet: `pinwarden workspace create NAME`")


def _policy(
    change: Callable[..., policy.PolicyView],
    target: str,
    settings: list[str] | None,
    unset: list[str] | None,
    data_dir: Path,
    as_json: bool,
) -> None:
    """Check `key=value` settings, apply them and the unsets, and show the result."""
    changes = policy.parse_assignments(settings or [])
    _show_policy(change(_deps(data_dir), target, changes, unset or []), as_json)


def _show_policy(view: policy.PolicyView, as_json: bool) -> None:
    if as_json:
        effective = {
            s.key: s.value.total_seconds() if hasattr(s.value, "total_seconds") else s.value
            for s in view.settings
        }
        print(json.dumps({"overrides": view.overrides, "effective": effective}))
        return
    table = _table("key", "effective value", "set by")
    for setting in view.settings:
        table.add_row(setting.key, setting.shown, setting.source)
    console.print(table)


@workspace_app.command("policy")
def workspace_policy(
    workspace_id: str,
    settings: Settings_ = None,
    unset: Unset = None,
    data_dir: DataDir = Path(".pinwarden"),
    as_json: AsJson = False,
) -> None:
    """Show a workspace's effective reconciler policy, or change it (horizon, deadline, ...)."""
    _policy(policy.change_workspace_policy, workspace_id, settings, unset, data_dir, as_json)


@key_app.command("create")
def api_key_create(
    workspace_id: str, name: str = "default", data_dir: DataDir = Path(".pinwarden")
) -> None:
    """Create an API key for a workspace. It is shown once; only its hash is stored."""
    key = auth.create_api_key(_deps(data_dir), workspace_id, name)
    console.print_json(json.dumps({"api_key_id": key.api_key_id, "api_key": key.token}))


@key_app.command("list")
def api_key_list(
    workspace_id: str, data_dir: DataDir = Path(".pinwarden"), as_json: AsJson = False
) -> None:
    """A workspace's API keys: id, name, how the key starts, created, revoked."""
    keys = auth.list_api_keys(_deps(data_dir), workspace_id)
    if as_json:
        print(json.dumps([k.as_dict() for k in keys]))
        return
    table = _table("api_key_id", "name", "key", "created", "revoked")
    for k in keys:
        table.add_row(k.api_key_id, k.name, k.prefix, _time(k.created_at), _time(k.revoked_at))
    _print_listing(table, len(keys), "this workspace has no API keys")


@key_app.command("revoke")
def api_key_revoke(api_key_id: str, data_dir: DataDir = Path(".pinwarden")) -> None:
    """Revoke an API key: it stops working at once here, and within 5 seconds in a running
    server (which keeps a key lookup that long); console sessions made with it end at once."""
    key = auth.revoke_api_key(_deps(data_dir), api_key_id)
    console.print(f"revoked {key.name} ({key.prefix}) at {_time(key.revoked_at)}")


def _devices_of(deps: Deps, workspace_id: str) -> list[dict[str, Any]]:
    def page(p: dict[str, Any]) -> Page:
        return devices.list_devices(deps, workspace_id, p)

    return every_item(page, {})


@device_app.command("list")
def device_list(
    workspace_id: Annotated[str | None, typer.Argument(help="Only this workspace.")] = None,
    data_dir: DataDir = Path(".pinwarden"),
    as_json: AsJson = False,
) -> None:
    """Locks (of one workspace, or of all): id, name, brand, connection, time zone."""
    deps = _deps(data_dir)
    everyone = [w.workspace_id for w in auth.list_workspaces(deps)]
    workspaces = [workspace_id] if workspace_id else everyone
    found = [device for ws in workspaces for device in _devices_of(deps, ws)]
    if as_json:
        print(json.dumps(found))
        return
    table = _table("device_id", "name", "brand", "workspace_id", "online", "time zone")
    for d in found:
        online = "online" if d["properties"]["online"] else "offline"
        zone = d.get("location", {}).get("time_zone", "")
        brand = d["properties"]["model"]["manufacturer_display_name"]
        table.add_row(d["device_id"], d["display_name"], brand, d["workspace_id"], online, zone)
    _print_listing(table, len(found), "no locks")


@device_app.command("policy")
def device_policy(
    device_id: str,
    settings: Settings_ = None,
    unset: Unset = None,
    data_dir: DataDir = Path(".pinwarden"),
    as_json: AsJson = False,
) -> None:
    """Show one lock's effective policy, or change its overrides of the workspace's."""
    _policy(policy.change_device_policy, device_id, settings, unset, data_dir, as_json)


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


def _runtime(
    data_dir: Path, demo: bool, virtual_clock: bool, engine_workers: int, distributed: bool
) -> Runtime:
    """The server's store, engine and app, on a database that is up to date."""
    from pinwarden.engine.distributed import DistributedUnavailable
    from pinwarden.server import build

    store = _store(data_dir)
    if demo and database_url(os.environ.get("PINWARDEN_DATABASE_URL")) is None:
        store.upgrade()  # the demo is zero-setup: its own fresh SQLite file
    _require(store)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return build(
            store,
            virtual_clock=virtual_clock,
            engine_workers=engine_workers,
            distributed=distributed,
        )
    except DistributedUnavailable as exc:
        raise CliError(str(exc), 2) from None


@app.command()
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
        runtime = _runtime(data_dir, demo, virtual_clock, engine_workers, distributed)
    except BaseException:
        sock.close()
        raise
    endpoint = f"http://{host}:{port}"
    facts = _demo(runtime.deps, data_dir, endpoint) if demo else None
    _banner(runtime.deps, facts, endpoint, data_dir)
    runtime.runner.start()  # type: ignore[attr-defined]
    config = uvicorn.Config(
        runtime.app, host=host, port=port, log_level="warning", access_log=False
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
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
    from pinwarden.engine.distributed import DistributedUnavailable, run_worker

    url = _url(data_dir)
    # Each batch in progress holds a connection for its locks' leases and one for its work.
    store = Store(url) if url.startswith("sqlite") else Store(url, pool_size=2 * concurrency + 2)
    _require(store)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        run_worker(store, concurrency)
    except DistributedUnavailable as exc:
        raise CliError(str(exc), 2) from None


@app.command()
def reconcile(data_dir: DataDir = Path(".pinwarden")) -> None:
    """Reconcile every lock once, now, and exit (what a periodic sweep does)."""
    from rich.progress import Progress

    from pinwarden.server import build

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
    for key, value in report.as_dict().items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)


# -- one line for every error ---------------------------------------------------------------------


def _database_problem(exc: DBAPIError) -> str:
    """The driver's first line (connection refused, password failed, no such database)."""
    cause = str(exc.orig or exc).strip().splitlines()
    first = next((line for line in cause if line.strip()), type(exc).__name__)
    return f"cannot use the database: {first.strip()} (check PINWARDEN_DATABASE_URL or --data-dir)"


def _one_line(exc: BaseException) -> tuple[str, int]:
    """(message, exit status) for an error; a bug, too, is one line unless PINWARDEN_DEBUG."""
    if isinstance(exc, CliError):
        return str(exc), exc.code
    if isinstance(exc, ServiceError):
        return exc.message, 1
    if isinstance(exc, UnmigratedDatabase):
        return str(exc), 2
    if isinstance(exc, DBAPIError):
        return _database_problem(exc), 2
    if isinstance(exc, NoSuchModuleError | ArgumentError):
        return f"PINWARDEN_DATABASE_URL is not usable: {exc}", 2
    if isinstance(exc, OSError):  # a data directory that cannot be made or written, ...
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}", 1
    if isinstance(exc, typer.Abort):
        return "stopped", 130
    if isinstance(exc, typer.TyperException):  # a usage error found while parsing arguments
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if not message.strip():  # no arguments at all: the help has been printed
            return "", exc.exit_code
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "pinwarden"
        return f"{message.strip()} (see `{command} --help`)", exc.exit_code
    if os.environ.get("PINWARDEN_DEBUG"):
        raise exc
    return (
        f"unexpected error, please report it: {type(exc).__name__}: {exc} "
        "(PINWARDEN_DEBUG=1 shows the traceback)",
        1,
    )


def main() -> None:
    try:
        status = app(standalone_mode=False)
    except Exception as exc:  # noqa: BLE001 - each kind an operator can cause is named
        message, code = _one_line(exc)
        if message:
            errors.print(f"pinwarden: {message}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(code)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
