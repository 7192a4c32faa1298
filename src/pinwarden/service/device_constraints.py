"""report_device_constraints: an integrator tells pinwarden what PIN lengths a lock takes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from pinwarden.service.deps import Deps
from pinwarden.service.devices import defer_wake, get_device_row
from pinwarden.service.errors import invalid
from pinwarden.store.schema import devices


def report(deps: Deps, workspace_id: str, p: dict[str, Any]) -> None:
    lengths = p.get("supported_code_lengths")
    has_range = "min_code_length" in p or "max_code_length" in p
    if lengths and has_range:
        raise invalid(
            "supported_code_lengths", "give supported_code_lengths or a min/max range, not both"
        )
    if lengths:
        if any(not 4 <= n <= 20 for n in lengths):
            raise invalid("supported_code_lengths", "each length must be between 4 and 20")
        chosen = sorted(set(lengths))
    elif has_range:
        low, high = p.get("min_code_length", 4), p.get("max_code_length", 20)
        if low > high:
            raise invalid("min_code_length", "must not be greater than max_code_length")
        chosen = list(range(low, high + 1))
    else:
        raise invalid(
            "supported_code_lengths", "give supported_code_lengths or min/max_code_length"
        )
    with deps.store.begin() as conn:
        device = get_device_row(conn, workspace_id, p["device_id"], lock=True)
        overrides = {**device.overrides, "supported_code_lengths": chosen}
        conn.execute(
            update(devices)
            .where(devices.c.device_id == device.device_id)
            .values(overrides=overrides)
        )
        defer_wake(conn, device.device_id, deps.clock.now())
    deps.runner.request_reconcile(p["device_id"])
