"""A lock that does not report changes made at its keypad is read back on a schedule
(policy `read_back_interval`), so the change is still found and undone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from tests.engine.test_promises import event_types, get, on_lock
from tests.support import Api

from pinwarden.providers.sandbox import SandboxLock
from pinwarden.store.schema import devices, sandbox_locks


def _change_pin_silently(api: Api, device: str, new_pin: str) -> None:
    """Someone changes the code at the keypad, and the lock tells nobody: the sandbox lock's
    state is changed in the store directly, with no request to the engine."""
    store = api.runtime.deps.store
    device_id = api.devices[device]
    with store.begin() as conn:
        state = conn.execute(
            select(sandbox_locks.c.state).where(sandbox_locks.c.device_id == device_id)
        ).scalar_one()
        lock = SandboxLock(device, state)
        (slot,) = [s["slot"] for s in lock.list_device_codes(api.now())]
        lock.modify_external(api.now(), slot, code=new_pin)
        conn.execute(
            update(sandbox_locks)
            .where(sandbox_locks.c.device_id == device_id)
            .values(state=lock.state)
        )


def _owner_code(api: Api, device: str, **policy: Any) -> dict[str, Any]:
    with api.runtime.deps.store.begin() as conn:
        conn.execute(
            update(devices).where(devices.c.device_id == api.devices[device]).values(policy=policy)
        )
    code = api.ok("/access_codes/create", device_id=api.devices[device], name="Owner", code="2468")
    api.advance(0)
    return dict(code["access_code"])


def test_a_silent_keypad_change_is_found_by_the_scheduled_read_back(sqlite_api: Api) -> None:
    api = sqlite_api
    code = _owner_code(api, "august", read_back_interval=3600)
    _change_pin_silently(api, "august", "9999")
    api.advance(3600)
    assert "access_code.modified_external_to_seam" in event_types(api, code)
    assert [s["code"] for s in on_lock(api, "august")] == ["2468"]
    assert get(api, code)["status"] == "set"


def test_without_a_read_back_interval_a_silent_change_waits_for_the_next_look(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    code = _owner_code(api, "august")
    _change_pin_silently(api, "august", "9999")
    api.advance(7 * 86400)  # an ongoing code on an idle lock: nothing makes the engine look
    assert "access_code.modified_external_to_seam" not in event_types(api, code)
    assert [s["code"] for s in on_lock(api, "august")] == ["9999"]
