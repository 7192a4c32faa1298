"""Every failure answers in Seam's error envelope with the status and type clients branch on."""

from __future__ import annotations

import httpx
import pytest

from pinwarden.service import access_codes as access_code_service
from tests.api import expect
from tests.support import Api

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _create(api: Api, **body: object) -> httpx.Response:
    return api.post("/access_codes/create", **body)


def test_missing_device_id_is_named_in_validation_errors(sqlite_api: Api) -> None:
    err = expect.invalid(_create(sqlite_api, code="4821"), "device_id")
    assert "device_id" in err["message"]


def test_code_must_be_four_to_twelve_ascii_digits(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["yale"]
    for bad in ("123", "1234567890123", "12a4", "12 34", "1234\n", "١٢٣٤", "１２３４", ""):
        expect.invalid(_create(sqlite_api, device_id=device_id, code=bad), "code")


def test_ends_at_before_starts_at_is_refused(sqlite_api: Api) -> None:
    response = _create(
        sqlite_api,
        device_id=sqlite_api.devices["august"],
        starts_at="2026-12-05T00:00:00Z",
        ends_at="2026-12-04T00:00:00Z",
    )
    expect.invalid(response, "ends_at")


def test_ends_at_in_the_past_is_refused(sqlite_api: Api) -> None:
    response = _create(
        sqlite_api,
        device_id=sqlite_api.devices["august"],
        starts_at="2026-11-01T00:00:00Z",
        ends_at="2026-11-02T00:00:00Z",
    )
    expect.invalid(response, "ends_at")


def test_starts_at_without_ends_at_is_refused_and_the_reverse_too(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["august"]
    only_start = _create(sqlite_api, device_id=device_id, starts_at="2026-12-05T00:00:00Z")
    only_end = _create(sqlite_api, device_id=device_id, ends_at="2026-12-05T00:00:00Z")
    for response in (only_start, only_end):
        err = expect.error(response, 400, "invalid_input")
        assert "Both starts_at and ends_at must be provided" in err["message"]


def test_fields_of_the_wrong_type_are_each_named(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["august"]
    cases = {
        "device_id": "not-a-uuid",
        "code": 4821,
        "name": ["Guest"],
        "starts_at": "next tuesday",
        "preferred_code_length": "six",
        "allow_external_modification": "yes",
        "max_time_rounding": "2d",
        "common_code_key": {"k": 1},
    }
    for field, value in cases.items():
        body = {"device_id": device_id, "ends_at": "2026-12-09T00:00:00Z", field: value}
        if field != "starts_at":
            body.pop("ends_at")
        expect.invalid(sqlite_api.post("/access_codes/create", **body), field)


def test_several_wrong_fields_are_reported_together(sqlite_api: Api) -> None:
    response = _create(sqlite_api, device_id="nope", code="12", name=5)
    err = expect.invalid(response, "device_id", "code", "name")
    assert err["message"].startswith("3 Input Errors")


def test_malformed_json_is_invalid_input(sqlite_api: Api) -> None:
    response = sqlite_api.http.post(
        "/access_codes/create",
        content=b'{"device_id": ',
        headers={"content-type": "application/json"},
    )
    err = expect.invalid(response)
    assert err["validation_errors"]["_errors"], "a form-level error says what is wrong"


def test_a_json_body_that_is_not_an_object_is_invalid_input(sqlite_api: Api) -> None:
    for body in (b"[1, 2]", b'"text"', b"5", b"null"):
        response = sqlite_api.http.post(
            "/access_codes/create", content=body, headers={"content-type": "application/json"}
        )
        expect.invalid(response)


def test_a_body_over_one_megabyte_is_invalid_input(sqlite_api: Api) -> None:
    name = "x" * (1024 * 1024)
    response = _create(sqlite_api, device_id=sqlite_api.devices["august"], name=name)
    err = expect.invalid(response)
    assert "larger than" in err["message"]
    listed = sqlite_api.ok("/access_codes/list", device_id=sqlite_api.devices["august"])
    assert listed["access_codes"] == []


def test_a_request_without_a_bearer_key_is_unauthorized(sqlite_api: Api) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        response = httpx.get(f"{sqlite_api.url}/devices/list", headers=headers)
        expect.error(response, 401, "unauthorized")


def test_an_unknown_api_key_is_unauthorized(sqlite_api: Api) -> None:
    for token in ("seam_nope_nope", "not_a_seam_key", sqlite_api.api_key + "x"):
        response = httpx.get(
            f"{sqlite_api.url}/devices/list", headers={"Authorization": f"Bearer {token}"}
        )
        expect.error(response, 401, "unauthorized")


def test_authentication_comes_before_validation(sqlite_api: Api) -> None:
    response = httpx.post(f"{sqlite_api.url}/access_codes/create", json={"code": "1"})
    expect.error(response, 401, "unauthorized")


def test_unknown_ids_answer_404_with_the_kind_of_thing_missing(sqlite_api: Api) -> None:
    cases = [
        ("/access_codes/create", {"device_id": UNKNOWN}, "device_not_found"),
        ("/access_codes/get", {"access_code_id": UNKNOWN}, "access_code_not_found"),
        ("/access_codes/update", {"access_code_id": UNKNOWN, "name": "x"}, "access_code_not_found"),
        ("/access_codes/delete", {"access_code_id": UNKNOWN}, "access_code_not_found"),
        ("/access_codes/generate_code", {"device_id": UNKNOWN}, "device_not_found"),
        ("/access_codes/unmanaged/get", {"access_code_id": UNKNOWN}, "access_code_not_found"),
        ("/devices/get", {"device_id": UNKNOWN}, "device_not_found"),
        ("/locks/get", {"device_id": UNKNOWN}, "device_not_found"),
        (
            "/connected_accounts/get",
            {"connected_account_id": UNKNOWN},
            "connected_account_not_found",
        ),
        ("/action_attempts/get", {"action_attempt_id": UNKNOWN}, "action_attempt_not_found"),
        ("/events/get", {"event_id": UNKNOWN}, "event_not_found"),
    ]
    for path, body, error_type in cases:
        expect.error(sqlite_api.post(path, **body), 404, error_type)


def test_delete_of_an_unknown_code_names_it_in_data(sqlite_api: Api) -> None:
    err = expect.error(
        sqlite_api.http.delete("/access_codes/delete", params={"access_code_id": UNKNOWN}),
        404,
        "access_code_not_found",
    )
    assert err["data"]["access_code_id"] == UNKNOWN


def test_a_code_asked_for_on_the_wrong_device_is_not_found(sqlite_api: Api) -> None:
    code = sqlite_api.ok("/access_codes/create", device_id=sqlite_api.devices["august"])
    access_code_id = code["access_code"]["access_code_id"]
    wrong_device = sqlite_api.devices["yale"]
    for path in ("/access_codes/update", "/access_codes/delete"):
        response = sqlite_api.post(
            path, access_code_id=access_code_id, device_id=wrong_device, name="x"
        )
        err = expect.error(response, 404, "access_code_not_found")
        assert err["data"] == {"access_code_id": access_code_id, "device_id": wrong_device}
    got = sqlite_api.ok("/access_codes/get", access_code_id=access_code_id)["access_code"]
    assert got["status"] == "unset" and got["name"] is None


def test_the_same_pin_twice_on_one_device_is_a_409(api: Api) -> None:
    device_id = api.devices["august"]
    api.ok("/access_codes/create", device_id=device_id, code="4821")
    err = expect.error(_create(api, device_id=device_id, code="4821"), 409, "duplicate_access_code")
    assert "4821" not in err["message"], "an error message never repeats a PIN"


def test_the_same_pin_at_times_that_do_not_overlap_is_allowed(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["august"]
    first = {"starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-03T00:00:00Z"}
    second = {"starts_at": "2026-12-03T00:00:00Z", "ends_at": "2026-12-04T00:00:00Z"}
    sqlite_api.ok("/access_codes/create", device_id=device_id, code="4821", **first)
    sqlite_api.ok("/access_codes/create", device_id=device_id, code="4821", **second)
    sqlite_api.ok("/access_codes/create", device_id=sqlite_api.devices["yale"], code="4821")


def test_updating_a_code_to_a_pin_already_on_the_device_is_a_409(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["august"]
    sqlite_api.ok("/access_codes/create", device_id=device_id, code="4821")
    other = sqlite_api.ok("/access_codes/create", device_id=device_id, code="5932")
    response = sqlite_api.post(
        "/access_codes/update",
        access_code_id=other["access_code"]["access_code_id"],
        code="4821",
    )
    expect.error(response, 409, "duplicate_access_code")


def test_pulling_a_backup_for_an_ongoing_code_is_refused(sqlite_api: Api) -> None:
    code = sqlite_api.ok("/access_codes/create", device_id=sqlite_api.devices["august"])
    response = sqlite_api.post(
        "/access_codes/pull_backup_access_code",
        access_code_id=code["access_code"]["access_code_id"],
    )
    expect.error(response, 400, "access_code_not_time_bound")


def test_the_backup_pool_cannot_serve_an_ongoing_code(sqlite_api: Api) -> None:
    response = _create(
        sqlite_api, device_id=sqlite_api.devices["august"], use_backup_access_code_pool=True
    )
    expect.invalid(response, "use_backup_access_code_pool")


def test_get_needs_an_id_or_a_device_and_code(sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["august"]
    for params in ({}, {"device_id": device_id}, {"code": "4821"}):
        expect.error(sqlite_api.http.get("/access_codes/get", params=params), 400, "invalid_input")


def test_events_list_needs_since_or_between(sqlite_api: Api) -> None:
    expect.invalid(sqlite_api.http.get("/events/list"), "since")
    only_one = sqlite_api.http.get("/events/list", params={"between": "2026-12-01T00:00:00Z"})
    expect.invalid(only_one, "between")


def test_an_unexpected_failure_is_a_500_in_seam_envelope_that_keeps_the_connection(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database exploded at /secret/path")

    monkeypatch.setattr(access_code_service, "get", broken)
    response = sqlite_api.http.get("/access_codes/get", params={"access_code_id": UNKNOWN})
    err = expect.error(response, 500, "internal_server_error")
    assert "secret" not in response.text, "no internals in the answer"
    assert set(err) == {"type", "message"}
    monkeypatch.undo()
    # The same keep-alive connection serves the next request (a POST is not retried by clients).
    assert sqlite_api.post("/devices/list").status_code == 200
