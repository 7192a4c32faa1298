"""What every `pinwarden` command shares: the database it opens, its option types, its
consoles, and `CliError`, the one-line refusal `main` prints (cli.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.exc import ArgumentError

from pinwarden.engine.clock import SystemClock
from pinwarden.service.deps import Deps
from pinwarden.service.secrets import SecretBox, SecretsUnavailable
from pinwarden.store import db
from pinwarden.store.db import UnmigratedDatabase
from pinwarden.store.store import Store

DATABASE_HELP = (
    "SQLite in --data-dir by default; set PINWARDEN_DATABASE_URL to use PostgreSQL, "
    "e.g. postgresql://user@host:5432/pinwarden."
)
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
        help=f"Where the SQLite database and demo.json live. {DATABASE_HELP}",
    ),
]
PolicySettings = Annotated[
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


def database_location(data_dir: Path) -> str:
    """PINWARDEN_DATABASE_URL, or the SQLite file in `data_dir` (made if missing)."""
    url = database_url(os.environ.get("PINWARDEN_DATABASE_URL"))
    if url is not None:
        return url
    data_dir.mkdir(parents=True, exist_ok=True)
    return db.sqlite_url(data_dir)


def open_store(data_dir: Path, **engine_kwargs: Any) -> Store:
    return Store(database_location(data_dir), **engine_kwargs)


def require_migrated(store: Store) -> None:
    try:
        store.require_migrated()
    except UnmigratedDatabase as exc:
        raise CliError(str(exc), 2) from None


def secret_box(data_dir: Path) -> SecretBox:
    """The deployment's key for accounts' credentials (PINWARDEN_SECRET_KEY, or a key file in
    the data dir)."""
    try:
        return SecretBox.for_deployment(data_dir)
    except (SecretsUnavailable, OSError) as exc:
        raise CliError(f"cannot read the key for account credentials: {exc}", 2) from None


def operator_deps(data_dir: Path) -> Deps:
    store = open_store(data_dir)
    require_migrated(store)
    return Deps(store=store, clock=SystemClock(), secrets=secret_box(data_dir))
