"""Reconciler policy: checking values an operator sets, storing overrides, and the effective
policy of each lock (the same `Policy.effective` the engine plans with).

Every path that sets policy (the CLI today, any HTTP route tomorrow) goes through `parse`, so a
value the engine cannot honour (`horizon=-5`, `deadline=1000000000`, `..._failure=maybe`) is
refused with one line that names the key, the allowed range and the value given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Table, select, update

from pinwarden.planner.types import Policy
from pinwarden.service.auth import require_workspace
from pinwarden.service.deps import Deps
from pinwarden.service.devices import defer_wake
from pinwarden.service.errors import ServiceError
from pinwarden.store.schema import devices, workspaces

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
_UNITS = {"s": 1, "m": _MINUTE, "min": _MINUTE, "h": _HOUR, "d": _DAY}
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Limit:
    """The values a policy key accepts: seconds for durations, a count for integers."""

    low: int
    high: int


# What the engine can honour. Wider ranges only invite a code that is never scheduled.
LIMITS: dict[str, Limit] = {
    "horizon": Limit(_HOUR, 90 * _DAY),
    "deadline": Limit(_HOUR, 30 * _DAY),
    "jit_lead": Limit(_MINUTE, 7 * _DAY),
    "retry_base": Limit(1, _HOUR),
    "retry_max": Limit(1, _DAY),
    "breaker_threshold": Limit(1, 1000),
    "breaker_pause": Limit(_MINUTE, 7 * _DAY),
    "max_set_attempts": Limit(1, 100),
    "slow_write": Limit(_MINUTE, _DAY),
    "command_interval": Limit(0, 10 * _MINUTE),
    "read_back_interval": Limit(0, 7 * _DAY),
}
_DEFAULTS = Policy()
KEYS = tuple(f.name for f in fields(Policy))

Source = Literal["default", "workspace", "lock"]


def span(seconds: float) -> str:
    """`9 d`, `1 h 30 min`, `45 s`: a duration as a person reads it."""
    if seconds == 0:
        return "0 s"
    parts, rest = [], int(seconds)
    for unit, size in (("d", _DAY), ("h", _HOUR), ("min", _MINUTE), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size} {unit}")
            rest %= size
    return " ".join(parts)


def _refuse(key: str, expected: str, value: Any) -> ServiceError:
    return ServiceError("invalid_policy", f"{key}: {expected}, not {value!r}")


def _duration(key: str, value: Any, limit: Limit) -> int | float:
    expected = (
        f"must be a duration from {span(limit.low)} to {span(limit.high)} "
        "(seconds, or a number with s, m, h or d: 9d)"
    )
    text = str(value).strip().lower()
    number, unit = text.rstrip("abcdefghijklmnopqrstuvwxyz").strip(), text.lstrip("0123456789.-+ ")
    try:
        seconds = float(number) * _UNITS[unit or "s"]
    except (ValueError, KeyError):
        raise _refuse(key, expected, value) from None
    if isinstance(value, bool) or not math.isfinite(seconds):
        raise _refuse(key, expected, value)
    if not limit.low <= seconds <= limit.high:
        raise _refuse(key, expected, value)
    return int(seconds) if seconds.is_integer() else seconds


def _count(key: str, value: Any, limit: Limit) -> int:
    expected = f"must be a whole number from {limit.low} to {limit.high}"
    text = str(value).strip()
    if isinstance(value, bool) or not text.lstrip("-").isdigit():
        raise _refuse(key, expected, value)
    if not limit.low <= int(text) <= limit.high:
        raise _refuse(key, expected, value)
    return int(text)


def _flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise _refuse(key, "must be true or false", value)


def _require_key(key: str) -> None:
    if key not in KEYS:
        raise ServiceError(
            "invalid_policy", f"{key!r} is not a policy key; the keys are {', '.join(KEYS)}"
        )


def parse_value(key: str, value: Any) -> Any:
    """One policy value, checked and in the form it is stored (seconds, counts, booleans)."""
    _require_key(key)
    default = getattr(_DEFAULTS, key)
    if isinstance(default, bool):
        return _flag(key, value)
    if isinstance(default, timedelta):
        return _duration(key, value, LIMITS[key])
    return _count(key, value, LIMITS[key])


def parse(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: parse_value(key, value) for key, value in values.items()}


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """`key=value` words (the CLI's form)."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ServiceError(
                "invalid_policy", f"{item!r}: write key=value, e.g. horizon=9d or deadline=259200"
            )
        values[key.strip()] = value
    return parse(values)


def _check_together(policy: Policy) -> None:
    """Rules between keys, checked on the policy a lock would really get."""
    if policy.retry_base > policy.retry_max:
        raise ServiceError(
            "invalid_policy",
            f"retry_base ({span(policy.retry_base.total_seconds())}) must not be longer than "
            f"retry_max ({span(policy.retry_max.total_seconds())})",
        )


@dataclass(frozen=True)
class Setting:
    """One key of a policy as shown to an operator: its effective value and where it is set."""

    key: str
    value: Any
    source: Source

    @property
    def shown(self) -> str:
        if isinstance(self.value, timedelta):
            return span(self.value.total_seconds())
        return str(self.value).lower() if isinstance(self.value, bool) else str(self.value)


def describe(
    workspace: Mapping[str, Any], device: Mapping[str, Any] | None = None
) -> list[Setting]:
    policy = Policy.effective(workspace, device or {})
    settings = []
    for key in KEYS:
        source: Source = "default"
        if device and key in device:
            source = "lock"
        elif key in workspace:
            source = "workspace"
        settings.append(Setting(key, getattr(policy, key), source))
    return settings


@dataclass(frozen=True)
class PolicyView:
    """What `workspace policy` / `device policy` show: the stored overrides and every key's
    effective value."""

    overrides: dict[str, Any]
    settings: list[Setting]


def _change(
    stored: Mapping[str, Any], changes: Mapping[str, Any], unset: Iterable[str]
) -> dict[str, Any]:
    gone = set(unset)
    for key in gone:
        _require_key(key)
    return {**{k: v for k, v in stored.items() if k not in gone}, **parse(changes)}


def change_workspace_policy(
    deps: Deps, workspace_id: str, changes: Mapping[str, Any], unset: Iterable[str] = ()
) -> PolicyView:
    """Set and unset workspace overrides; every lock of the workspace is looked at again."""
    with deps.store.begin() as conn:
        row = require_workspace(conn, workspace_id)
        policy = _change(row.policy, changes, unset)
        locks = conn.execute(
            select(devices.c.device_id, devices.c.policy).where(
                devices.c.workspace_id == workspace_id, devices.c.removed_at.is_(None)
            )
        ).all()
        for lock in [None, *locks]:
            _check_together(Policy.effective(policy, lock.policy if lock else {}))
        if policy != row.policy:
            _store(conn, workspaces, workspaces.c.workspace_id == workspace_id, policy)
            for lock in locks:
                defer_wake(conn, lock.device_id, deps.clock.now())
    return PolicyView(policy, describe(policy))


def change_device_policy(
    deps: Deps, device_id: str, changes: Mapping[str, Any], unset: Iterable[str] = ()
) -> PolicyView:
    """Set and unset one lock's overrides (on top of its workspace's policy)."""
    with deps.store.begin() as conn:
        row = conn.execute(
            select(devices.c.policy, workspaces.c.policy.label("workspace_policy"))
            .join(workspaces, workspaces.c.workspace_id == devices.c.workspace_id)
            .where(devices.c.device_id == device_id, devices.c.removed_at.is_(None))
        ).first()
        if row is None:
            raise ServiceError(
                "device_not_found",
                f"there is no lock {device_id} (`pinwarden device list` shows them)",
                404,
            )
        policy = _change(row.policy, changes, unset)
        _check_together(Policy.effective(row.workspace_policy, policy))
        if policy != row.policy:
            _store(conn, devices, devices.c.device_id == device_id, policy)
            defer_wake(conn, device_id, deps.clock.now())
    return PolicyView(policy, describe(row.workspace_policy, policy))


def _store(
    conn: Connection, table: Table, where: ColumnElement[bool], policy: dict[str, Any]
) -> None:
    conn.execute(update(table).where(where).values(policy=policy))


def effective_by_device(deps: Deps, workspace_id: str) -> dict[str, Policy]:
    """Each live lock's effective policy, for pages that judge timing lock by lock."""
    with deps.store.read() as conn:
        workspace = require_workspace(conn, workspace_id)
        rows = conn.execute(
            select(devices.c.device_id, devices.c.policy).where(
                devices.c.workspace_id == workspace_id, devices.c.removed_at.is_(None)
            )
        ).all()
    return {r.device_id: Policy.effective(workspace.policy, r.policy) for r in rows}


def workspace_default(deps: Deps, workspace_id: str) -> Policy:
    """The workspace's policy, for a lock that has no overrides (or is unknown)."""
    with deps.store.read() as conn:
        return Policy.effective(require_workspace(conn, workspace_id).policy, {})
