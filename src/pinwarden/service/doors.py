"""Locking and unlocking a door on request: `/locks/lock_door` and `/locks/unlock_door`.

The answer is an action attempt, `pending` until the lock has done it (or failed to): the
command goes to the lock through its provider in the background (engine/supervisor.py), and
the attempt ends `success` or `error`, with `lock.locked` / `lock.unlocked` (method `remote`).
"""

from __future__ import annotations

from typing import Any

from pinwarden.providers.base import Outcome, WriteResult
from pinwarden.service import action_attempts, lock_events
from pinwarden.service.deps import Deps
from pinwarden.service.devices import get_device_row
from pinwarden.store.schema import devices

_TYPES = {True: "LOCK_DOOR", False: "UNLOCK_DOOR"}


def lock_door(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    return _set_locked(deps, workspace_id, p, True)


def unlock_door(deps: Deps, workspace_id: str, p: dict[str, Any]) -> dict[str, Any]:
    return _set_locked(deps, workspace_id, p, False)


def _set_locked(deps: Deps, workspace_id: str, p: dict[str, Any], locked: bool) -> dict[str, Any]:
    now = deps.clock.now()
    with deps.store.begin() as conn:
        device = get_device_row(conn, workspace_id, p["device_id"])
        attempt = action_attempts.start(
            conn, workspace_id, _TYPES[locked], now, device_id=device.device_id
        )
    deps.accounts.operate_door(device.device_id, locked, attempt["action_attempt_id"])
    return {"action_attempt": attempt}


def finished(
    deps: Deps, device_id: str, attempt_id: str, locked: bool, outcome: WriteResult | str
) -> None:
    """Record how a door command ended: the lock's answer, or why it could not be sent."""
    now = deps.clock.now()
    done = isinstance(outcome, WriteResult) and outcome.outcome in (
        Outcome.CONFIRMED,
        Outcome.ACCEPTED_UNCONFIRMED,
    )
    with deps.store.begin() as conn:
        if not done:
            message = outcome if isinstance(outcome, str) else outcome.message
            action_attempts.finish(
                conn,
                attempt_id,
                error={"type": "lock_operation_failed", "message": message or "the lock refused"},
            )
            return
        action_attempts.finish(conn, attempt_id, result={})
        device = conn.execute(devices.select().where(devices.c.device_id == device_id)).one()
        lock_events.set_bolt(conn, device, locked, "remote", now)


__all__ = ["finished", "lock_door", "unlock_door"]
