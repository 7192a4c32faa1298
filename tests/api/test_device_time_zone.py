"""A lock's time zone: set over the API (pinwarden's addition to /devices/update), read back
where Seam's devices carry it (`location.time_zone`)."""

from __future__ import annotations

from seam import Seam

from tests.api import expect
from tests.seam_openapi import response_errors
from tests.support import Api


def test_a_time_zone_set_by_update_is_read_back_in_seams_location(api: Api) -> None:
    device_id = api.devices["august"]
    assert "location" not in api.ok("/devices/get", device_id=device_id)["device"]

    api.ok("/devices/update", device_id=device_id, time_zone="Europe/Paris")
    device = api.ok("/devices/get", device_id=device_id)["device"]
    assert device["location"] == {"time_zone": "Europe/Paris"}
    listed = api.ok("/locks/list")
    assert response_errors("/locks/list", "GET", listed) == []

    api.ok("/devices/update", device_id=device_id, time_zone=None)
    assert "location" not in api.ok("/devices/get", device_id=device_id)["device"]


def test_an_unknown_time_zone_is_refused_and_changes_nothing(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["yale"]
    sqlite_api.ok("/devices/update", device_id=device_id, time_zone="America/New_York")
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "", "Europe"):
        response = sqlite_api.post("/devices/update", device_id=device_id, time_zone=bad)
        expect.invalid(response, "time_zone")
    device = sqlite_api.ok("/devices/get", device_id=device_id)["device"]
    assert device["location"]["time_zone"] == "America/New_York"


def test_seams_sdk_reads_the_time_zone(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["schlage"]
    sqlite_api.ok("/devices/update", device_id=device_id, time_zone="Australia/Sydney")
    seam = Seam(api_key=sqlite_api.api_key, endpoint=sqlite_api.url)
    assert seam.locks.get(device_id=device_id).location["time_zone"] == "Australia/Sydney"
