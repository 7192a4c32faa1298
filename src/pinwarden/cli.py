"""The `pinwarden` command.

Every wrong input ends in one line on stderr and a non-zero exit, never a traceback: `main`
turns the errors an operator can cause (a bad argument, a service refusal, a database that is
missing, unreachable or behind the code) into `pinwarden: <what is wrong>`. The commands live
in cli_admin.py (operator commands), cli_accounts.py (connected installations) and
cli_server.py (running pinwarden).
"""

from __future__ import annotations

import os
import sys

import typer
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from pinwarden import cli_accounts, cli_admin, cli_server
from pinwarden.cli_common import DATABASE_HELP, CliError, errors
from pinwarden.service.errors import ServiceError
from pinwarden.store.db import UnmigratedDatabase

app = typer.Typer(
    help=f"pinwarden: smart-lock access codes, on the lock in time. {DATABASE_HELP}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(cli_admin.db_app, name="db")
app.add_typer(cli_admin.workspace_app, name="workspace")
app.add_typer(cli_admin.key_app, name="api-key")
app.add_typer(cli_admin.device_app, name="device")
app.add_typer(cli_accounts.account_app, name="account")
for command in (cli_server.serve, cli_server.worker, cli_server.reconcile, cli_server.simulate):
    app.command()(command)
app.command("secret-key")(cli_accounts.secret_key)


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
