"""Connected accounts of real installations: a Z-Wave JS server, a Zigbee2MQTT bridge.

An account holds how to reach the installation (its settings) and its credentials (sealed, see
`service/secrets.py`). Its locks are found by discovery (`sync`), never created by hand: a lock
the installation has becomes a device, a renamed one is renamed, one that is gone is removed.
Whether pinwarden is connected to the installation is the account's own state
(`account_disconnected`): losing the connection never fails a code.

Adding one over HTTP is a pinwarden addition (Seam connects accounts through its own web flow).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, select, update

from pinwarden.catalog.brands import brand_profile
from pinwarden.domain.ids import new_id
from pinwarden.domain.model import Issue
from pinwarden.providers.base import AccountConfig, DiscoveredLock
from pinwarden.service import events, wire
from pinwarden.service.deps import Deps
from pinwarden.service.devices import defer_wake, get_device_row
from pinwarden.service.errors import ServiceError, invalid, not_found
from pinwarden.service.secrets import SecretBox
from pinwarden.store.schema import connected_accounts, devices


@dataclass(frozen=True)
class AccountKind:
    """One kind of installation pinwarden connects to, and the settings it takes."""

    display_name: str
    schemes: tuple[str, ...]
    default_port: int
    # Settings beyond the URL, each with a check that returns the value or raises ValueError.
    settings: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()


def _text(limit: int) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value or len(value) > limit:
            raise ValueError(f"must be text of 1 to {limit} characters")
        return value

    return check


def _topic(value: Any) -> str:
    topic = _text(200)(value)
    if any(c in topic for c in "+#\0") or topic.startswith("/") or topic.endswith("/"):
        raise ValueError("must be an MQTT topic without wildcards or leading/trailing slashes")
    return topic


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.5 <= value <= 120:
        raise ValueError("must be a number of seconds from 0.5 to 120")
    return float(value)


KINDS: Mapping[str, AccountKind] = {
    "zwave_js": AccountKind("Z-Wave JS", ("ws", "wss"), 3000),
    "zigbee2mqtt": AccountKind(
        "Zigbee2MQTT",
        ("mqtt", "mqtts"),
        1883,
        settings={
            "base_topic": _topic,
            "tls_ca_file": _text(500),
            "tls_cert_file": _text(500),
            "tls_key_file": _text(500),
            "tls_insecure": _flag,
            "client_id": _text(100),
            "response_timeout": _seconds,
        },
        defaults={"base_topic": "zigbee2mqtt"},
        secrets=("username", "password"),
    ),
}


def _url(kind: AccountKind, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 500:
        raise invalid("url", "give the installation's URL")
    parts = urlsplit(value)
    if parts.scheme not in kind.schemes or not parts.hostname:
        schemes = " or ".join(f"{s}://HOST:{kind.default_port}" for s in kind.schemes)
        raise invalid("url", f"a {kind.display_name} URL looks like {schemes}")
    if parts.username or parts.password:
        raise invalid("url", "give the username and password separately, not in the URL")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise invalid("url", "the port must be a number from 1 to 65535") from None
    return value


def _settings(kind_name: str, p: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    kind = KINDS[kind_name]
    out = {**kind.defaults, **current}
    if "url" in p:
        out["url"] = _url(kind, p["url"])
    if "url" not in out:
        raise invalid("url", "give the installation's URL")
    for name, check in kind.settings.items():
        if name in p and p[name] is not None:
            try:
                out[name] = check(p[name])
            except ValueError as exc:
                raise invalid(name, str(exc)) from None
        elif name in p:
            out.pop(name, None)
    return out


def _secrets(kind_name: str, p: Mapping[str, Any]) -> dict[str, Any] | None:
    """The credentials given (None: none given, keep the stored ones). `password_env` names
    an environment variable instead of giving the password itself."""
    kind = KINDS[kind_name]
    given: dict[str, Any] = {}
    for name in kind.secrets:
        if p.get(name) is not None:
            given[name] = _text(500)(p[name])
        env = p.get(f"{name}_env")
        if env is not None:
            if not isinstance(env, str) or not env.replace("_", "").isalnum():
                raise invalid(f"{name}_env", "must be the name of an environment variable")
            given[name] = {"env": env}
    return given or None


def _kind_of(p: Mapping[str, Any]) -> str:
    kind = str(p.get("account_type", "")).replace("-", "_")
    if kind not in KINDS:
        raise invalid("account_type", f"must be one of {', '.join(KINDS)}")
    return kind


def _box(deps: Deps) -> SecretBox:
    if deps.secrets is None:
        raise ServiceError("secrets_unavailable", "this deployment has no key for credentials")
    return deps.secrets


def create_account(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    kind_name = _kind_of(p)
    settings = _settings(kind_name, p, {})
    secrets = _secrets(kind_name, p)
    sealed = _box(deps).seal(secrets) if secrets else None
    host = urlsplit(settings["url"]).hostname
    display = p.get("display_name") or f"{KINDS[kind_name].display_name} at {host}"
    now = deps.clock.now()
    account_id = new_id()
    with deps.store.begin() as conn:
        conn.execute(
            connected_accounts.insert().values(
                connected_account_id=account_id,
                workspace_id=workspace_id,
                account_type=kind_name,
                provider=kind_name,
                display_name=_text(200)(display),
                custom_metadata=p.get("custom_metadata") or {},
                settings=settings,
                secrets=sealed,
                connected=False,
                errors=[],
                created_at=now,
            )
        )
        events.record(
            conn, workspace_id, "connected_account.created", now, connected_account_id=account_id
        )
        row = _row(conn, workspace_id, account_id)
    deps.accounts.request_sync(account_id)
    return {"connected_account": wire.connected_account(row)}


def _row(conn: Connection, workspace_id: str, account_id: str) -> Row[Any]:
    row = conn.execute(
        select(connected_accounts).where(
            connected_accounts.c.connected_account_id == account_id,
            connected_accounts.c.workspace_id == workspace_id,
            connected_accounts.c.removed_at.is_(None),
        )
    ).first()
    if row is None:
        raise not_found("connected_account", connected_account_id=account_id)
    return row


def update_account(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    with deps.store.begin() as conn:
        row = _row(conn, workspace_id, p["connected_account_id"])
        values: dict[str, Any] = {}
        if "custom_metadata" in p:
            values["custom_metadata"] = {**row.custom_metadata, **(p["custom_metadata"] or {})}
        if p.get("display_name"):
            values["display_name"] = _text(200)(p["display_name"])
        if row.provider in KINDS:
            settings = _settings(row.provider, p, row.settings)
            if settings != row.settings:
                values["settings"] = settings
            secrets = _secrets(row.provider, p)
            if secrets:
                values["secrets"] = _box(deps).seal(secrets)
        elif any(k in p for k in ("url", "base_topic", "username", "password")):
            raise invalid("connected_account_id", "a sandbox account has no connection settings")
        if values:
            conn.execute(
                update(connected_accounts)
                .where(connected_accounts.c.connected_account_id == row.connected_account_id)
                .values(values)
            )
    if {"settings", "secrets"} & values.keys():
        deps.accounts.request_sync(row.connected_account_id)
    with deps.store.read() as conn:
        fresh = _row(conn, workspace_id, row.connected_account_id)
    return {"connected_account": wire.connected_account(fresh)}


def delete_account(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """The account and its locks go (their codes can no longer be managed)."""
    now = deps.clock.now()
    with deps.store.begin() as conn:
        row = _row(conn, workspace_id, p["connected_account_id"])
        for device in conn.execute(
            select(devices).where(
                devices.c.connected_account_id == row.connected_account_id,
                devices.c.removed_at.is_(None),
            )
        ).all():
            remove_device(conn, device, now)
        conn.execute(
            update(connected_accounts)
            .where(connected_accounts.c.connected_account_id == row.connected_account_id)
            .values(removed_at=now, secrets=None, connected=False)
        )
        events.record(
            conn,
            workspace_id,
            "connected_account.deleted",
            now,
            connected_account_id=row.connected_account_id,
        )
    deps.accounts.request_sync(row.connected_account_id)
    return {}


def sync_account(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    with deps.store.read() as conn:
        row = _row(conn, workspace_id, p["connected_account_id"])
    deps.accounts.request_sync(row.connected_account_id)
    return {}


def remove_device(conn: Connection, device: Row[Any], now: datetime) -> None:
    """The installation no longer has the lock (or its account was deleted)."""
    conn.execute(
        update(devices).where(devices.c.device_id == device.device_id).values(removed_at=now)
    )
    events.record(conn, device.workspace_id, "device.removed", now, device=device)


def delete_device(deps: Deps, workspace_id: str, p: dict[str, Any]) -> None:
    """Stop managing a lock: its record goes, and a sync does not bring it back. Its codes are
    no longer managed (they stay on the lock as they are)."""
    now = deps.clock.now()
    with deps.store.begin() as conn:
        device = get_device_row(conn, workspace_id, p["device_id"], lock=True)
        metadata = {**device.provider_metadata, "deleted_through_api": True}
        conn.execute(
            update(devices)
            .where(devices.c.device_id == device.device_id)
            .values(removed_at=now, provider_metadata=metadata)
        )
        events.record(conn, workspace_id, "device.deleted", now, device=device)


# -- what the running server does with accounts --------------------------------------------------


def real_accounts(deps: Deps) -> list[Row[Any]]:
    """Every account of a real installation (all workspaces), deleted ones included, so a
    watcher can close their connections."""
    with deps.store.read() as conn:
        return list(
            conn.execute(
                select(connected_accounts).where(connected_accounts.c.provider.in_(list(KINDS)))
            ).all()
        )


def account_config(row: Row[Any], box: SecretBox | None) -> AccountConfig:
    secrets = box.open(row.secrets) if box is not None and row.secrets else {}
    return AccountConfig(row.connected_account_id, row.provider, dict(row.settings), secrets)


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def apply_discovery(deps: Deps, account_id: str, found: Sequence[DiscoveredLock]) -> SyncResult:
    """Make the account's devices match the locks its installation has."""
    now = deps.clock.now()
    result = SyncResult()
    with deps.store.begin() as conn:
        account = conn.execute(
            select(connected_accounts).where(
                connected_accounts.c.connected_account_id == account_id
            )
        ).first()
        if account is None or account.removed_at is not None:
            return result
        rows = conn.execute(
            select(devices).where(devices.c.connected_account_id == account_id)
        ).all()
        known = {d.lock_ref: d for d in rows if d.removed_at is None}
        deleted = {d.lock_ref for d in rows if d.provider_metadata.get("deleted_through_api")}
        for lock in found:
            if lock.lock_ref in deleted and lock.lock_ref not in known:
                continue  # deleted through the API: not brought back
            device = known.pop(lock.lock_ref, None)
            if device is None:
                result.added.append(_add_device(conn, account, lock, now))
                continue
            values = _device_changes(device, lock)
            if values:
                if "name" in values:
                    result.renamed.append(device.device_id)
                    events.record(
                        conn, account.workspace_id, "device.name_changed", now, device=device
                    )
                conn.execute(
                    update(devices).where(devices.c.device_id == device.device_id).values(values)
                )
                defer_wake(conn, device.device_id, now)
        for device in known.values():
            missing = device.provider_metadata.get("missing_since")
            if missing is None:
                # Gone from one listing is not gone: an installation restarting can list no
                # locks for a moment. Removed when still missing a while later.
                metadata = {**device.provider_metadata, "missing_since": wire.iso(now)}
                conn.execute(
                    update(devices)
                    .where(devices.c.device_id == device.device_id)
                    .values(provider_metadata=metadata)
                )
            elif now - datetime.fromisoformat(missing.replace("Z", "+00:00")) >= _GONE_AFTER:
                remove_device(conn, device, now)
                result.removed.append(device.device_id)
        conn.execute(
            update(connected_accounts)
            .where(connected_accounts.c.connected_account_id == account_id)
            .values(last_synced_at=now)
        )
        if account.last_synced_at is None:
            events.record(
                conn,
                account.workspace_id,
                "connected_account.completed_first_sync",
                now,
                connected_account_id=account_id,
            )
    for device_id in result.added:
        deps.runner.request_reconcile(device_id)
    return result


def _overrides(lock: DiscoveredLock) -> dict[str, Any]:
    """What the lock reports that differs from its brand profile (slot count, masking)."""
    base = brand_profile(lock.brand).capabilities
    reported = lock.capabilities
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name in ("slot_count", "pins_readable", "supported_code_lengths", "reserved_slots")
        if (value := getattr(reported, name)) != getattr(base, name)
    }


# How long a lock must stay missing from its installation's listings before it is removed.
_GONE_AFTER = timedelta(minutes=10)


def _metadata(lock: DiscoveredLock) -> dict[str, Any]:
    return {
        key: value
        for key, value in (("manufacturer", lock.manufacturer), ("model", lock.model))
        if value
    }


def _add_device(conn: Connection, account: Row[Any], lock: DiscoveredLock, now: datetime) -> str:
    device_id = new_id()
    profile = brand_profile(lock.brand)
    conn.execute(
        devices.insert().values(
            device_id=device_id,
            workspace_id=account.workspace_id,
            connected_account_id=account.connected_account_id,
            provider=account.provider,
            lock_ref=lock.lock_ref,
            brand=lock.brand,
            device_type=profile.device_type,
            name=lock.name,
            custom_metadata={},
            overrides=_overrides(lock),
            policy={},
            online=lock.online,
            errors=[],
            warnings=[],
            backup_pool_enabled=False,
            failure_count=0,
            provider_metadata=_metadata(lock),
            created_at=now,
            next_wake_at=now,
        )
    )
    row = conn.execute(select(devices).where(devices.c.device_id == device_id)).one()
    events.record(conn, account.workspace_id, "device.added", now, device=row)
    return device_id


def _device_changes(device: Row[Any], lock: DiscoveredLock) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if device.name != lock.name:
        values["name"] = lock.name
    kept = {k: v for k, v in dict(device.overrides).items() if k not in _REPORTED}
    overrides = {**kept, **_overrides(lock)}
    if overrides != dict(device.overrides):
        values["overrides"] = overrides
    if _metadata(lock) != dict(device.provider_metadata):
        values["provider_metadata"] = _metadata(lock)
    return values


_REPORTED = {"slot_count", "pins_readable", "supported_code_lengths", "reserved_slots"}


def set_connected(deps: Deps, account_id: str, connected: bool, message: str = "") -> None:
    """Record that pinwarden (re)gained or lost its connection to the installation; its locks
    are looked at again (their codes are never failed for it)."""
    now = deps.clock.now()
    with deps.store.begin() as conn:
        account = conn.execute(
            select(connected_accounts).where(
                connected_accounts.c.connected_account_id == account_id
            )
        ).first()
        if account is None or account.removed_at is not None:
            return
        if account.connected == connected and bool(account.errors) != connected:
            return  # already recorded
        error = wire.issue_to_wire(
            Issue(
                "account_disconnected",
                "error",
                message or "pinwarden cannot reach the installation; it keeps trying.",
                now,
            )
        )
        conn.execute(
            update(connected_accounts)
            .where(connected_accounts.c.connected_account_id == account_id)
            .values(connected=connected, errors=[] if connected else [error])
        )
        if account.connected == connected:
            return  # the error only (an account never connected yet): no event
        kind = "connected" if connected else "disconnected"
        payload: dict[str, Any] = {"connected_account_id": account_id}
        if not connected:
            payload["error_code"] = "account_disconnected"
        events.record(conn, account.workspace_id, f"connected_account.{kind}", now, **payload)
        for device_id in conn.execute(
            select(devices.c.device_id).where(
                devices.c.connected_account_id == account_id, devices.c.removed_at.is_(None)
            )
        ).scalars():
            defer_wake(conn, device_id, now)


__all__ = [
    "KINDS",
    "SyncResult",
    "account_config",
    "apply_discovery",
    "create_account",
    "delete_account",
    "delete_device",
    "real_accounts",
    "remove_device",
    "set_connected",
    "sync_account",
    "update_account",
]
