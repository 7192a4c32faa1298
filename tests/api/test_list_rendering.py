"""Codes are rendered to JSON by the database (store/access_code_wire.py) and embedded as they
are; a list must say exactly what `get` says for every kind of code."""

from __future__ import annotations

from datetime import timedelta

from tests.support import Api


def test_listed_codes_equal_the_codes_got_one_by_one(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["yale"]
    start = api.now() + timedelta(days=2)
    window = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(days=2)).isoformat()}
    api.ok("/access_codes/create", device_id=device, name="Ongoing", code="4821")
    api.ok(
        "/access_codes/create",
        device_id=device,
        name=None,
        code="5932",
        allow_external_modification=True,
    )
    api.ok(
        "/access_codes/create",
        device_id=device,
        name='Quote " and ü',
        **window,
        use_backup_access_code_pool=True,
    )
    api.ok("/access_codes/create", device_id=device, name="Far", **window)
    api.advance(60)
    api.ok(
        "/access_codes/simulate/modify_external",
        access_code_id=api.ok("/access_codes/list", device_id=device)["access_codes"][0][
            "access_code_id"
        ],
        code="7777",
    )
    api.ok("/devices/simulate/disconnect", device_id=device)  # device errors copied onto codes
    api.advance(60)
    listed = api.ok("/access_codes/list", device_id=device)["access_codes"]
    assert len(listed) == 4
    assert any(c["errors"] for c in listed)
    assert any(c["is_backup_access_code_available"] for c in listed)
    for code in listed:
        got = api.ok("/access_codes/get", access_code_id=code["access_code_id"])["access_code"]
        assert code == got
