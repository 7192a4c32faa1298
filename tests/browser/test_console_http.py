"""The console over plain HTTP: sign-in, workspace scoping, CSRF, and how errors are shown."""

from __future__ import annotations

import logging

import pytest

from tests.browser.console_client import Console, OtherWorkspace, set_cookie_headers
from tests.browser.scenarios import (
    create_code,
    failing_arrival,
    get_code,
    slots_full_arrival,
    unconfirmable_removal,
)
from tests.support import Api

# -- signing in and out --------------------------------------------------------------------------


def test_signed_out_visitor_gets_only_the_sign_in_form(console: Console, sqlite_api: Api) -> None:
    page = console.http.get("/console")
    assert page.status_code == 200
    assert 'name="api_key"' in page.text
    assert "Front Door" not in page.text
    for path in (
        "/console/devices",
        "/console/events",
        f"/console/devices/{sqlite_api.devices['august']}",
    ):
        response = console.http.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/console"


def test_sign_in_sets_an_httponly_samesite_strict_session_cookie(
    console: Console, sqlite_api: Api
) -> None:
    response = console.sign_in(sqlite_api.api_key)
    assert response.status_code == 303
    [cookie] = set_cookie_headers(response, "pinwarden_console_session")
    attributes = cookie.lower()
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/console" in attributes
    assert "All clear" in console.http.get("/console").text


def test_wrong_api_key_is_refused_with_a_message(console: Console) -> None:
    response = console.sign_in("seam_wrong_notavalidkey")
    assert response.status_code == 401
    assert "That API key is not valid." in response.text
    assert set_cookie_headers(response, "pinwarden_console_session") == []
    assert console.http.get("/console/devices").status_code == 303


def test_sign_out_ends_the_session(signed_in: Console) -> None:
    response = signed_in.post("/console/sign-out")
    assert response.status_code == 303
    [cleared] = set_cookie_headers(response, "pinwarden_console_session")
    assert "max-age=0" in cleared.lower()
    assert signed_in.http.get("/console/devices").status_code == 303


# -- CSRF ------------------------------------------------------------------------------------------


def test_sign_in_without_the_csrf_token_is_refused(console: Console, sqlite_api: Api) -> None:
    console.csrf()  # the browser has a token cookie, but the form does not carry it
    response = console.http.post("/console/sign-in", data={"api_key": sqlite_api.api_key})
    assert response.status_code == 403
    assert set_cookie_headers(response, "pinwarden_console_session") == []


def test_an_action_with_a_wrong_csrf_token_changes_nothing(
    signed_in: Console, sqlite_api: Api
) -> None:
    code = create_code(sqlite_api, sqlite_api.devices["august"], "Guest", days=2)
    path = f"/console/codes/{code['access_code_id']}/delete"
    for fields in ({}, {"csrf_token": "forged"}):
        response = signed_in.http.post(path, data=fields)
        assert response.status_code == 403
        assert "Form expired" in response.text
    assert get_code(sqlite_api, code["access_code_id"])["status"] != "removing"


def test_an_action_posted_from_another_site_is_refused(signed_in: Console, sqlite_api: Api) -> None:
    code = create_code(sqlite_api, sqlite_api.devices["august"], "Guest", days=2)
    response = signed_in.http.post(
        f"/console/codes/{code['access_code_id']}/delete",
        data={"csrf_token": signed_in.csrf()},
        headers={"Origin": "https://attacker.example"},
    )
    assert response.status_code == 403
    assert get_code(sqlite_api, code["access_code_id"])["status"] != "removing"


# -- one workspace only -----------------------------------------------------------------------


def test_pages_show_only_the_signed_in_workspace(
    console: Console, sqlite_api: Api, other: OtherWorkspace
) -> None:
    arrival, _ = slots_full_arrival(sqlite_api)
    console.sign_in(other.api_key)

    at_risk = console.http.get("/console").text
    assert "All clear" in at_risk
    assert arrival["access_code_id"] not in at_risk
    devices = console.http.get("/console/devices").text
    assert other.devices["august"] in devices
    assert all(device_id not in devices for device_id in sqlite_api.devices.values())
    events = console.http.get("/console/events").text
    assert arrival["access_code_id"][:8] not in events
    foreign = console.http.get(f"/console/devices/{sqlite_api.devices['smartthings']}")
    assert foreign.status_code == 404
    assert "Cleaner" not in foreign.text


def test_actions_cannot_touch_another_workspaces_codes(
    console: Console, sqlite_api: Api, other: OtherWorkspace
) -> None:
    code = create_code(sqlite_api, sqlite_api.devices["august"], "Not yours", days=2)
    console.sign_in(other.api_key)
    response = console.post(f"/console/codes/{code['access_code_id']}/delete", next="/console")
    assert response.status_code == 303
    page = console.http.get(response.headers["location"]).text
    assert "Access code not found" in page
    assert "Not yours" not in page
    assert get_code(sqlite_api, code["access_code_id"])["status"] != "removing"


def test_a_malformed_id_is_simply_not_found(signed_in: Console) -> None:
    page = signed_in.http.get("/console/devices/not-a-device")
    assert page.status_code == 404
    assert "There is no such device in this workspace." in page.text
    response = signed_in.post("/console/codes/not-a-code/retry", next="/console")
    assert "that id is not a valid UUID" in signed_in.http.get(response.headers["location"]).text


# -- what the operator sees --------------------------------------------------------------------


def test_a_service_error_is_a_readable_message_not_a_stack_trace(
    signed_in: Console, sqlite_api: Api
) -> None:
    code = create_code(sqlite_api, sqlite_api.devices["august"], "Guest", days=2)
    response = signed_in.post(
        f"/console/codes/{code['access_code_id']}/pull-backup", next="/console/devices"
    )
    assert response.headers["location"] == "/console/devices"
    page = signed_in.http.get("/console/devices").text
    assert 'role="alert"' in page
    assert "no backup code is programmed on this lock" in page
    assert "Traceback" not in page
    assert "no backup code" not in signed_in.http.get("/console/devices").text, "shown once"


def test_an_invalid_pin_is_refused_with_the_reason(signed_in: Console, sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["august"]
    response = signed_in.post(f"/console/devices/{device_id}/codes", name="Typo", code="12ab")
    assert response.status_code == 400
    assert "The code was not created: code: must contain only digits" in response.text
    listed = sqlite_api.ok("/access_codes/list", device_id=device_id)["access_codes"]
    assert listed == []


def test_times_are_shown_in_utc_without_fractions(signed_in: Console, sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["august"]
    sqlite_api.ok(
        "/access_codes/create",
        device_id=device_id,
        name="Precise",
        starts_at="2026-12-03T14:00:00.123+02:00",
        ends_at="2026-12-05T10:00:00.999Z",
    )
    page = signed_in.http.get(f"/console/devices/{device_id}").text
    assert "2026-12-03T12:00:00Z" in page
    assert "2026-12-05T10:00:00Z" in page
    assert ".123" not in page and ".999" not in page and ".000" not in page


def test_pins_are_shown_to_the_operator_but_never_logged(
    signed_in: Console, sqlite_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    device_id = sqlite_api.devices["august"]
    response = signed_in.post(f"/console/devices/{device_id}/codes", name="Walk-in", code="97531")
    assert response.status_code == 303
    assert "97531" in signed_in.http.get(f"/console/devices/{device_id}").text
    sqlite_api.advance(60)
    assert "97531" not in signed_in.http.get("/console/events").text, "hidden unless asked"
    assert "97531" in signed_in.http.get("/console/events?pins=shown").text
    assert "97531" not in caplog.text


def test_events_page_shows_the_newest_200_newest_first(signed_in: Console, sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["yale"]
    ids = [
        sqlite_api.ok("/access_codes/create", device_id=device_id, name=f"Guest {n}")[
            "access_code"
        ]["access_code_id"]
        for n in range(205)
    ]
    page = signed_in.http.get("/console/events").text
    rows = page[page.index("<tbody>") :]
    assert rows.count("<code>access_code.created</code>") == 200
    assert ids[0][:8] not in rows
    assert rows.index(ids[-1][:8]) < rows.index(ids[-2][:8])


def test_an_at_risk_arrival_offers_only_the_mitigations_that_apply(
    signed_in: Console, sqlite_api: Api
) -> None:
    failing_arrival(sqlite_api, failures=20)
    page = signed_in.http.get("/console").text
    assert "failed_to_set_on_device" in page
    assert ">Retry</button>" in page
    assert ">Delete</a>" in page, "a delete is confirmed on a page of its own"
    assert "Pull backup code" not in page, "the lock has no backup pool"
    assert "Forget" not in page


def test_an_ordinary_removal_is_listed_without_forget(signed_in: Console, sqlite_api: Api) -> None:
    code = create_code(sqlite_api, sqlite_api.devices["august"], "Leaving", days=1)
    sqlite_api.advance(60)
    signed_in.post(f"/console/codes/{code['access_code_id']}/delete", next="/console")
    page = signed_in.http.get("/console").text
    assert "Removals not yet confirmed" in page
    assert "being_deleted" in page
    assert ">Forget</button>" not in page


def test_forget_drops_a_removal_the_lock_cannot_confirm(
    signed_in: Console, sqlite_api: Api
) -> None:
    access_code_id = unconfirmable_removal(sqlite_api)["access_code_id"]

    page = signed_in.http.get("/console").text
    assert "kwikset_unable_to_confirm_deletion" in page
    assert "Open the Kwikset app" in page
    response = signed_in.post(f"/console/codes/{access_code_id}/forget", next="/console")
    assert "Forgot “Gone”" in signed_in.http.get(response.headers["location"]).text
    assert sqlite_api.post("/access_codes/get", access_code_id=access_code_id).status_code == 404
