"""`pinwarden account ...`: connect real installations (a Z-Wave JS server, a Zigbee2MQTT
bridge) to a workspace, list them, find their locks again, remove them.

A password is never a command-line argument (it would stay in the shell's history and in
`ps`): give `--password-env NAME` (only the variable's name is stored; a running server reads
it from its own environment) or `--password-stdin` (stored encrypted).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from pinwarden.cli_common import AsJson, CliError, DataDir, console, operator_deps
from pinwarden.service import accounts, devices
from pinwarden.service.deps import Deps
from pinwarden.service.secrets import new_key

account_app = typer.Typer(
    help="Connected installations: Z-Wave JS servers and Zigbee2MQTT bridges.",
    no_args_is_help=True,
)
_DISCOVERY_SECONDS = 20.0


@account_app.command("add")
def account_add(
    kind: Annotated[str, typer.Argument(help="zwave-js or zigbee2mqtt.")],
    url: Annotated[str, typer.Argument(help="ws://HOST:3000 (Z-Wave JS), mqtt://HOST:1883.")],
    workspace: Annotated[str, typer.Option("--workspace", help="The workspace's id.")],
    base_topic: Annotated[
        str | None, typer.Option(help="Zigbee2MQTT's base topic (default zigbee2mqtt).")
    ] = None,
    username: Annotated[str | None, typer.Option(help="The MQTT broker's user.")] = None,
    password_env: Annotated[
        str | None, typer.Option(help="Read the password from this environment variable.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input (stored encrypted).")
    ] = False,
    tls_ca_file: Annotated[str | None, typer.Option(help="CA bundle for mqtts://.")] = None,
    name: Annotated[str | None, typer.Option(help="A name for the installation.")] = None,
    discover: Annotated[bool, typer.Option(help="Connect now and list the locks found.")] = True,
    data_dir: DataDir = Path(".pinwarden"),
) -> None:
    """Connect an installation to a workspace; its locks become devices."""
    body: dict[str, Any] = {"account_type": kind.replace("-", "_"), "url": url}
    for key, value in (
        ("base_topic", base_topic),
        ("username", username),
        ("password_env", password_env),
        ("tls_ca_file", tls_ca_file),
        ("display_name", name),
    ):
        if value is not None:
            body[key] = value
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise CliError("--password-stdin: no password on standard input")
        body["password"] = password
    deps = operator_deps(data_dir)
    _workspace_exists(deps, workspace)
    created = accounts.create_account(deps, workspace, body)["connected_account"]
    account_id = created["connected_account_id"]
    console.print(f"added {created['display_name']}: connected_account_id {account_id}")
    if discover:
        _discover_now(deps, account_id)


def _workspace_exists(deps: Deps, workspace_id: str) -> None:
    from pinwarden.service import auth

    if workspace_id not in {w.workspace_id for w in auth.list_workspaces(deps)}:
        raise CliError(f"no workspace {workspace_id} (see `pinwarden workspace list`)")


def _discover_now(deps: Deps, account_id: str) -> None:
    """Connect once from here and record the locks found; a running server does the same
    and keeps at it, so an installation that is down now is no error."""
    from pinwarden.engine.clock import SystemClock
    from pinwarden.engine.host import ProviderHost

    row = next(r for r in accounts.real_accounts(deps) if r.connected_account_id == account_id)
    host = ProviderHost(deps.store, SystemClock(), secrets=deps.secrets)
    try:
        found = host.call(_find(host, row))
    except Exception as exc:  # noqa: BLE001 - reported, not fatal: the server keeps trying
        console.print(
            f"[yellow]could not reach it now ({type(exc).__name__}: {exc}); a running "
            "`pinwarden serve` keeps trying and finds the locks when it can[/yellow]"
        )
        return
    finally:
        host.close()
    result = accounts.apply_discovery(deps, account_id, found)
    accounts.set_connected(deps, account_id, True)
    console.print(f"found {len(found)} locks ({len(result.added)} new)")
    for lock in found:
        console.print(f"  {lock.name}  [dim]{lock.manufacturer or ''} {lock.model or ''}[/dim]")


async def _find(host: Any, row: Any) -> Any:
    account = await host.account(row)
    for _ in range(int(_DISCOVERY_SECONDS / 0.2)):
        if account.connected:
            return await account.discover()
        await asyncio.sleep(0.2)
    raise TimeoutError(f"no connection within {_DISCOVERY_SECONDS:g} s")


@account_app.command("list")
def account_list(
    workspace: Annotated[str, typer.Option("--workspace", help="The workspace's id.")],
    data_dir: DataDir = Path(".pinwarden"),
    as_json: AsJson = False,
) -> None:
    """A workspace's connected accounts, their connection and their locks."""
    deps = operator_deps(data_dir)
    page = devices.list_connected_accounts(deps, workspace, {})
    if as_json:
        print(json.dumps(page.items))
        return
    if not page.items:
        console.print("no connected accounts: `pinwarden account add KIND URL --workspace W`")
        return
    for account in page.items:
        state = "disconnected" if account["errors"] else "connected"
        console.print(
            f"{account['connected_account_id']}  {account['account_type']:<12} {state:<12} "
            f"{account['display_name']}"
        )


@account_app.command("sync")
def account_sync(account_id: str, data_dir: DataDir = Path(".pinwarden")) -> None:
    """Find the installation's locks again now (added, renamed, removed)."""
    deps = operator_deps(data_dir)
    _discover_now(deps, account_id)


@account_app.command("remove")
def account_remove(
    account_id: str,
    workspace: Annotated[str, typer.Option("--workspace", help="The workspace's id.")],
    data_dir: DataDir = Path(".pinwarden"),
) -> None:
    """Disconnect an installation: its locks are no longer managed (codes stay as they are)."""
    accounts.delete_account(
        operator_deps(data_dir), workspace, {"connected_account_id": account_id}
    )
    console.print(f"removed {account_id}")


def secret_key() -> None:
    """Print a new key for accounts' credentials, for PINWARDEN_SECRET_KEY."""
    print(new_key())


__all__ = ["account_app", "secret_key"]
