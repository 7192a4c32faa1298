"""Input that databases or number types choke on is refused with 400, never a 500.

These run on SQLite and PostgreSQL: PostgreSQL refuses NUL characters and over-long strings
that SQLite stores without a word, so a gap shows up only there.
"""

from __future__ import annotations

import base64
import binascii
import json

import httpx

from tests.api import expect
from tests.support import Api


def test_strings_the_database_cannot_store_are_refused(api: Api) -> None:
    august = api.devices["august"]
    long_name = "n" * 201
    cases = [
        ("/access_codes/create", {"device_id": august, "name": "a\x00b"}, "name"),
        ("/access_codes/create", {"device_id": august, "name": long_name}, "name"),
        (
            "/access_codes/create",
            {"device_id": august, "common_code_key": "k" * 201},
            "common_code_key",
        ),
        ("/access_codes/list", {"search": "a\x00b"}, "search"),
        ("/access_codes/update_multiple", {"common_code_key": "\x00"}, "common_code_key"),
        ("/devices/get", {"name": "Front\x00Door"}, "name"),
        ("/devices/update", {"device_id": august, "name": long_name}, "name"),
        ("/devices/update", {"device_id": august, "properties": {"name": 5}}, "properties"),
        (
            "/devices/update",
            {"device_id": august, "custom_metadata": {"room": {"floor": 2}}},
            "custom_metadata",
        ),
        (
            "/devices/update",
            {"device_id": august, "custom_metadata": {"room": "1\x002"}},
            "custom_metadata",
        ),
        (
            "/access_codes/simulate/create_unmanaged_access_code",
            {"device_id": august, "name": long_name, "code": "4821"},
            "name",
        ),
    ]
    for path, body, field in cases:
        expect.invalid(api.post(path, **body), field)
    assert api.ok("/access_codes/list", device_id=august)["access_codes"] == []
    assert "nickname" not in api.ok("/devices/get", device_id=august)["device"]
    longest = api.ok(
        "/access_codes/create", device_id=august, name="n" * 200, common_code_key="k" * 200
    )
    assert len(longest["access_code"]["name"]) == 200, "the limit itself is allowed"


def test_numbers_out_of_range_are_refused(api: Api) -> None:
    since = "2026-12-01T00:00:00Z"
    cases = [
        ("GET", "/access_codes/list", {"params": {"limit": "1e400"}}, "limit"),
        ("GET", "/access_codes/list", {"params": {"limit": "Infinity"}}, "limit"),
        ("GET", "/access_codes/list", {"params": {"limit": "NaN"}}, "limit"),
        ("POST", "/access_codes/list", {"json": {"limit": 1e300}}, "limit"),
        ("POST", "/access_codes/list", {"json": {"limit": 0}}, "limit"),
        ("POST", "/devices/list", {"json": {"limit": 2**64}}, "limit"),
        ("POST", "/events/list", {"json": {"since": since, "limit": 10**30}}, "limit"),
        (
            "POST",
            "/events/list",
            {"json": {"since": since, "unstable_offset": 2**63}},
            "unstable_offset",
        ),
        (
            "POST",
            "/access_codes/create",
            {"json": {"device_id": api.devices["yale"], "preferred_code_length": 1e308}},
            "preferred_code_length",
        ),
    ]
    for method, path, kwargs, field in cases:
        expect.invalid(api.http.request(method, path, **kwargs), field)


def test_dates_outside_the_calendar_are_refused(api: Api) -> None:
    too_late = api.http.get("/events/list", params={"since": "9999-12-31T23:00:00-14:00"})
    expect.invalid(too_late, "since")
    too_early = api.post(
        "/access_codes/create",
        device_id=api.devices["august"],
        starts_at="0001-01-01T00:00:00+05:00",
        ends_at="2027-01-01T00:00:00Z",
    )
    expect.invalid(too_early, "starts_at")


def test_a_cursor_that_this_server_did_not_issue_is_refused(api: Api) -> None:
    for pin in ("4821", "5932"):
        api.ok("/access_codes/create", device_id=api.devices["yale"], code=pin)
    params = {"device_id": api.devices["yale"], "limit": "1"}
    issued = api.http.get("/access_codes/list", params=params).json()["pagination"]
    cursor = issued["next_page_cursor"]
    forged = [cursor[:-4], cursor[::-1], "!!!", "W10=", "e30=", "bnVsbA=="]
    try:  # a cursor that keeps whatever binds it to the query but holds nonsense positions
        saved = json.loads(base64.urlsafe_b64decode(cursor))
        for nonsense in (["x"], [None], [True], [1.5], [[1]], [10**30], []):
            forged.append(base64.urlsafe_b64encode(json.dumps([saved[0], nonsense]).encode()))
    except (binascii.Error, ValueError, TypeError, KeyError, IndexError):
        pass  # an opaque format of another kind: the corruptions above must still be refused
    for bad in forged:
        response = api.http.get("/access_codes/list", params={**params, "page_cursor": bad})
        expect.invalid(response, "page_cursor")


def test_query_strings_that_are_not_utf8_are_refused(api: Api) -> None:
    response = httpx.get(
        f"{api.url}/access_codes/list?device_id=%ff%fe&search=%c3",
        headers={"Authorization": f"Bearer {api.api_key}"},
    )
    expect.error(response, 400, "invalid_input")
