"""Operator commands: the schema, workspaces, API keys, locks and their policies."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pinwarden.cli_common import (
    AsJson,
    DataDir,
    PolicySettings,
    Unset,
    console,
    open_store,
    operator_deps,
)
from pinwarden.service import auth, devices, policy
from pinwarden.service.deps import Deps
from pinwarden.service.pagination import Page, every_item

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
device_app = typer.Typer(help="Locks.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = Path(".pinwarden")) -> None:
    """Bring the database schema up to date."""
    from pinwarden.engine.distributed import apply_schema

    store = open_store(data_dir)
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

    deps = operator_deps(data_dir)
    workspace_id = auth.create_workspace(deps, name)
    key = auth.create_api_key(deps, workspace_id)
    if sandbox_devices:
        seed_sandbox_devices(deps, workspace_id)
    console.print_json(json.dumps({"workspace_id": workspace_id, "api_key": key.token}))


@workspace_app.command("list")
def workspace_list(data_dir: DataDir = Path(".pinwarden"), as_json: AsJson = False) -> None:
    """Every workspace, with its number of locks and of live API keys."""
    found = auth.list_workspaces(operator_deps(data_dir))
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
    _show_policy(change(operator_deps(data_dir), target, changes, unset or []), as_json)


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
    settings: PolicySettings = None,
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
    key = auth.create_api_key(operator_deps(data_dir), workspace_id, name)
    console.print_json(json.dumps({"api_key_id": key.api_key_id, "api_key": key.token}))


@key_app.command("list")
def api_key_list(
    workspace_id: str, data_dir: DataDir = Path(".pinwarden"), as_json: AsJson = False
) -> None:
    """A workspace's API keys: id, name, how the key starts, created, revoked."""
    keys = auth.list_api_keys(operator_deps(data_dir), workspace_id)
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
    key = auth.revoke_api_key(operator_deps(data_dir), api_key_id)
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
    deps = operator_deps(data_dir)
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
    settings: PolicySettings = None,
    unset: Unset = None,
    data_dir: DataDir = Path(".pinwarden"),
    as_json: AsJson = False,
) -> None:
    """Show one lock's effective policy, or change its overrides of the workspace's."""
    _policy(policy.change_device_policy, device_id, settings, unset, data_dir, as_json)
