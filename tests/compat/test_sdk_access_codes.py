"""Seam's Python SDK (3.x: GET with query strings, PUT, PATCH, DELETE with a query) managing
access codes on pinwarden, with no change to the SDK."""

from __future__ import annotations

import pytest
from seam import Seam
from seam.exceptions import SeamHttpApiError

from pinwarden.domain.codes import code_violations
from pinwarden.domain.model import Capabilities
from tests.support import Api

WINDOW = {"starts_at": "2026-12-01T13:00:00.000Z", "ends_at": "2026-12-04T00:00:00.000Z"}


def _on_lock(api: Api, brand: str) -> list[str]:
    listed = api.ok("/devices/simulate/list_device_codes", device_id=api.devices[brand])
    return sorted(c["code"] for c in listed["device_codes"])


def test_an_app_manages_a_code_from_creation_to_removal(
    seam_on_each_database: Seam, api: Api
) -> None:
    seam = seam_on_each_database
    device_id = api.devices["august"]
    created = seam.access_codes.create(device_id=device_id, name="Guest", code="4821")
    assert (created.code, created.name, created.status, created.type) == (
        "4821",
        "Guest",
        "unset",
        "ongoing",
    )
    api.advance()
    got = seam.access_codes.get(access_code_id=created.access_code_id)
    assert got.status == "set" and got.is_managed is True
    assert seam.access_codes.get(device_id=device_id, code="4821").access_code_id == (
        created.access_code_id
    )
    assert _on_lock(api, "august") == ["4821"]
    seam.access_codes.update(access_code_id=created.access_code_id, name="Guest 2", code="5932")
    api.advance()
    assert seam.access_codes.get(access_code_id=created.access_code_id).name == "Guest 2"
    assert _on_lock(api, "august") == ["5932"]
    seam.access_codes.delete(access_code_id=created.access_code_id, device_id=device_id)
    api.advance()
    with pytest.raises(SeamHttpApiError) as gone:
        seam.access_codes.get(access_code_id=created.access_code_id)
    assert (gone.value.status_code, gone.value.code) == (404, "access_code_not_found")
    assert _on_lock(api, "august") == []


def test_an_app_creates_a_time_bound_code(seam: Seam, sqlite_api: Api) -> None:
    created = seam.access_codes.create(device_id=sqlite_api.devices["yale"], name="Stay", **WINDOW)
    assert created.type == "time_bound"
    assert (created.starts_at, created.ends_at) == (
        "2026-12-01T13:00:00.000Z",
        "2026-12-04T00:00:00.000Z",
    )
    seam.access_codes.update(access_code_id=created.access_code_id, type="ongoing")
    updated = seam.access_codes.get(access_code_id=created.access_code_id)
    assert (updated.type, updated.starts_at, updated.ends_at) == ("ongoing", None, None)


def test_an_app_lists_and_searches_codes(seam: Seam, sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["yale"]
    guest = seam.access_codes.create(device_id=device_id, name="Guest Smith", code="48219")
    cleaner = seam.access_codes.create(device_id=device_id, name="Cleaner", code="59320")
    listed = seam.access_codes.list(device_id=device_id)
    assert [c.access_code_id for c in listed] == [guest.access_code_id, cleaner.access_code_id]
    picked = seam.access_codes.list(access_code_ids=[cleaner.access_code_id])
    assert [c.name for c in picked] == ["Cleaner"]
    assert seam.access_codes.list(access_code_ids=[]) == []
    assert [c.name for c in seam.access_codes.list(search="smith")] == ["Guest Smith"]


def test_the_sdk_paginator_walks_every_page(seam: Seam, sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["yale"]
    created = [
        seam.access_codes.create(device_id=device_id, code=f"48{n}19").access_code_id
        for n in range(5)
    ]
    paginator = seam.create_paginator(seam.access_codes.list, {"device_id": device_id, "limit": 2})
    first, pagination = paginator.first_page()
    assert len(first) == 2 and pagination is not None and pagination.has_next_page
    assert [c.access_code_id for c in paginator.flatten_to_list()] == created


def test_an_app_links_codes_across_devices(seam: Seam, sqlite_api: Api) -> None:
    devices = [sqlite_api.devices["august"], sqlite_api.devices["yale"]]
    linked = seam.access_codes.create_multiple(device_ids=devices, name="Family")
    assert len({c.code for c in linked}) == 1 and linked[0].common_code_key
    seam.access_codes.update_multiple(
        common_code_key=linked[0].common_code_key, name="Family 2", **WINDOW
    )
    for code in linked:
        got = seam.access_codes.get(access_code_id=code.access_code_id)
        assert (got.name, got.type) == ("Family 2", "time_bound")
    custom = seam.access_codes.create_multiple(device_ids=devices, code="7733")
    assert [c.code for c in custom] == ["7733", "7733"]
    assert [c.common_code_key for c in custom] == [None, None]
    mixed = seam.access_codes.create_multiple(
        device_ids=[*devices, sqlite_api.devices["salto"]],
        behavior_when_code_cannot_be_shared="create_random_code",
    )
    assert mixed[0].code == mixed[1].code and mixed[2].common_code_key is None


def test_generated_codes_follow_the_devices_rules(seam: Seam, sqlite_api: Api) -> None:
    for brand in ("august", "kwikset", "schlage", "igloohome"):
        device = seam.devices.get(device_id=sqlite_api.devices[brand])
        rules = Capabilities(
            brand=brand,
            slot_count=1,
            native_scheduling=True,
            supported_code_lengths=tuple(int(n) for n in device.properties.supported_code_lengths),
            code_constraints=tuple(
                c.constraint_type
                for c in device.properties.code_constraints
                if c.constraint_type != "name_length"
            ),
        )
        for _ in range(5):
            generated = seam.access_codes.generate_code(device_id=device.device_id)
            assert code_violations(generated.code, rules) == [], (brand, generated.code)


def test_reported_constraints_reach_the_device(seam: Seam, sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["smartthings"]
    seam.access_codes.report_device_constraints(device_id=device_id, supported_code_lengths=[6, 7])
    assert seam.devices.get(device_id=device_id).properties.supported_code_lengths == [6, 7]
    seam.access_codes.report_device_constraints(
        device_id=device_id, min_code_length=4, max_code_length=5
    )
    assert seam.devices.get(device_id=device_id).properties.supported_code_lengths == [4, 5]
    assert len(seam.access_codes.generate_code(device_id=device_id).code) == 4


def test_an_app_pulls_a_backup_code(seam: Seam, sqlite_api: Api) -> None:
    created = seam.access_codes.create(
        device_id=sqlite_api.devices["august"],
        name="Stay",
        code="4821",
        use_backup_access_code_pool=True,
        **WINDOW,
    )
    sqlite_api.advance(3600)
    assert seam.access_codes.get(
        access_code_id=created.access_code_id
    ).is_backup_access_code_available
    backup = seam.access_codes.pull_backup_access_code(access_code_id=created.access_code_id)
    assert backup.is_backup is True and backup.code and backup.code != "4821"
    assert backup.ends_at == created.ends_at
    again = seam.access_codes.pull_backup_access_code(access_code_id=created.access_code_id)
    assert again.access_code_id == backup.access_code_id
    original = seam.access_codes.get(access_code_id=created.access_code_id)
    assert original.pulled_backup_access_code_id == backup.access_code_id


def test_an_app_handles_unmanaged_codes(seam: Seam, sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["august"]
    found = seam.access_codes.simulate.create_unmanaged_access_code(
        device_id=device_id, name="Cleaner", code="5511"
    )
    assert found.is_managed is False
    listed = seam.access_codes.unmanaged.list(device_id=device_id)
    assert [c.access_code_id for c in listed] == [found.access_code_id]
    assert seam.access_codes.unmanaged.get(access_code_id=found.access_code_id).code == "5511"
    seam.access_codes.unmanaged.convert_to_managed(
        access_code_id=found.access_code_id, is_external_modification_allowed=True
    )
    converted = seam.access_codes.get(access_code_id=found.access_code_id)
    assert converted.is_managed and converted.is_external_modification_allowed
    second = seam.access_codes.simulate.create_unmanaged_access_code(
        device_id=device_id, name="Owner", code="6622"
    )
    seam.access_codes.unmanaged.update(access_code_id=second.access_code_id, is_managed=True)
    assert seam.access_codes.get(access_code_id=second.access_code_id).is_managed
    third = seam.access_codes.simulate.create_unmanaged_access_code(
        device_id=device_id, name="Old", code="7733"
    )
    seam.access_codes.unmanaged.delete(access_code_id=third.access_code_id)
    sqlite_api.advance()
    assert seam.access_codes.unmanaged.list(device_id=device_id) == []
    assert _on_lock(sqlite_api, "august") == ["5511", "6622"]
