"""The basic lifecycle over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.support import Api


def test_code_moves_from_unset_to_set_and_is_removed_on_delete(api: Api) -> None:
    device_id = api.devices["august"]
    created = api.ok("/access_codes/create", device_id=device_id, name="Guest", code="4821")
    code = created["access_code"]
    assert code["status"] == "unset"
    assert created["action_attempt"]["status"] == "success"
    api.advance()
    got = api.ok("/access_codes/get", access_code_id=code["access_code_id"])["access_code"]
    assert got["status"] == "set"
    on_lock = api.ok("/devices/simulate/list_device_codes", device_id=device_id)["device_codes"]
    assert [c["code"] for c in on_lock] == ["4821"]
    api.ok("/access_codes/delete", access_code_id=code["access_code_id"])
    api.advance()
    missing = api.post("/access_codes/get", access_code_id=code["access_code_id"])
    assert missing.status_code == 404
    assert api.ok("/devices/simulate/list_device_codes", device_id=device_id)["device_codes"] == []
