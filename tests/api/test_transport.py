"""How requests reach the routes: every documented method, query strings the way Seam's SDKs
write them, JSON bodies the way SDK 1.x sends everything, and Seam's envelope around it all."""

from __future__ import annotations

from tests.api import expect
from tests.seam_openapi import documented_methods
from tests.support import Api

# The Seam routes pinwarden serves (Seam's /access_codes/get_timeline is unreleased; not served).
SURFACE = (
    "/access_codes/create",
    "/access_codes/create_multiple",
    "/access_codes/delete",
    "/access_codes/generate_code",
    "/access_codes/get",
    "/access_codes/list",
    "/access_codes/pull_backup_access_code",
    "/access_codes/report_device_constraints",
    "/access_codes/simulate/create_unmanaged_access_code",
    "/access_codes/unmanaged/convert_to_managed",
    "/access_codes/unmanaged/delete",
    "/access_codes/unmanaged/get",
    "/access_codes/unmanaged/list",
    "/access_codes/unmanaged/update",
    "/access_codes/update",
    "/access_codes/update_multiple",
    "/action_attempts/get",
    "/action_attempts/list",
    "/connected_accounts/get",
    "/connected_accounts/list",
    "/devices/get",
    "/devices/list",
    "/devices/update",
    "/events/get",
    "/events/list",
    "/locks/get",
    "/locks/list",
)


def _create(api: Api, brand: str = "august", **body: object) -> dict:
    return api.ok("/access_codes/create", device_id=api.devices[brand], **body)["access_code"]


def test_every_method_seam_documents_reaches_the_route(sqlite_api: Api) -> None:
    for path in SURFACE:
        for method in documented_methods(path):
            response = sqlite_api.http.request(method, path)
            # Without parameters a route answers or asks for them; it is never 404/405/500.
            assert response.status_code in (200, 400), (method, path, response.text)
            assert response.json()["ok"] is (response.status_code == 200), (method, path)


def test_post_with_a_json_body_works_on_every_route_as_sdk_1_sends_it(sqlite_api: Api) -> None:
    for path in SURFACE:
        assert "POST" in documented_methods(path), path
        response = sqlite_api.http.post(path, json={})
        assert response.status_code in (200, 400), (path, response.text)


def test_a_method_seam_does_not_list_gets_405_in_seam_envelope(sqlite_api: Api) -> None:
    err = expect.error(sqlite_api.http.get("/access_codes/create"), 405, "method_not_allowed")
    assert "POST" in err["message"]
    expect.error(sqlite_api.http.delete("/access_codes/list"), 405, "method_not_allowed")


def test_an_unknown_route_gets_404_in_seam_envelope(sqlite_api: Api) -> None:
    expect.error(sqlite_api.http.post("/access_codes/teleport", json={}), 404, "not_found")


def test_get_with_a_query_string_answers_like_post_with_a_json_body(sqlite_api: Api) -> None:
    code = _create(sqlite_api, name="Guest", code="4821")
    device_id = sqlite_api.devices["august"]
    by_query = sqlite_api.http.get("/access_codes/list", params={"device_id": device_id})
    by_body = sqlite_api.http.post("/access_codes/list", json={"device_id": device_id})
    assert by_query.status_code == by_body.status_code == 200
    assert by_query.json() == by_body.json()
    assert [c["access_code_id"] for c in by_query.json()["access_codes"]] == [
        code["access_code_id"]
    ]


def test_repeated_query_keys_are_an_array(sqlite_api: Api) -> None:
    first, second, _third = (_create(sqlite_api, code=pin) for pin in ("4821", "5932", "6043"))
    ids = [first["access_code_id"], second["access_code_id"]]
    response = sqlite_api.http.get(
        "/access_codes/list", params=[("access_code_ids", ids[0]), ("access_code_ids", ids[1])]
    )
    assert sorted(c["access_code_id"] for c in response.json()["access_codes"]) == sorted(ids)


def test_an_empty_array_in_the_query_selects_nothing(sqlite_api: Api) -> None:
    _create(sqlite_api, code="4821")
    # Seam's serializer writes `access_code_ids: []` as `access_code_ids=`.
    response = sqlite_api.http.get("/access_codes/list?access_code_ids=")
    assert response.status_code == 200, response.text
    assert response.json()["access_codes"] == []


def test_older_clients_comma_lists_and_bracket_keys_are_arrays(sqlite_api: Api) -> None:
    a, b = (_create(sqlite_api, code=pin)["access_code_id"] for pin in ("4821", "5932"))
    for query in (f"access_code_ids={a},{b}", f"access_code_ids[]={a}&access_code_ids[]={b}"):
        found = sqlite_api.http.get(f"/access_codes/list?{query}").json()["access_codes"]
        assert sorted(c["access_code_id"] for c in found) == sorted([a, b]), query


def test_the_strict_flag_seam_clients_add_is_ignored(sqlite_api: Api) -> None:
    code = _create(sqlite_api, code="4821")
    response = sqlite_api.http.get(
        "/access_codes/get", params={"access_code_id": code["access_code_id"], "_strict": "true"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["access_code"]["code"] == "4821"


def test_key_with_no_value_is_null_for_a_nullable_parameter(sqlite_api: Api) -> None:
    _create(sqlite_api, code="4821")
    device_id = sqlite_api.devices["august"]
    response = sqlite_api.http.get(f"/access_codes/list?device_id={device_id}&page_cursor=")
    assert response.status_code == 200, response.text
    assert len(response.json()["access_codes"]) == 1


def test_booleans_and_dates_in_the_query_are_read_as_seam_writes_them(sqlite_api: Api) -> None:
    code = _create(sqlite_api, code="4821")
    deleted = sqlite_api.http.delete(
        "/access_codes/delete", params={"access_code_id": code["access_code_id"], "sync": "false"}
    )
    assert deleted.status_code == 200, deleted.text
    events = sqlite_api.http.get(
        "/events/list",
        params={"since": "2026-12-01T11:59:59.000Z", "access_code_id": code["access_code_id"]},
    )
    assert [e["event_type"] for e in events.json()["events"]] == ["access_code.created"]


def test_unknown_parameters_are_ignored(sqlite_api: Api) -> None:
    created = sqlite_api.ok(
        "/access_codes/create",
        device_id=sqlite_api.devices["august"],
        code="4821",
        access_grant_id="3b1cbe0a-0000-4000-8000-000000000000",
        some_future_flag=True,
    )
    assert created["access_code"]["code"] == "4821"


def test_get_with_a_json_body_is_read_as_curl_examples_send_it(sqlite_api: Api) -> None:
    code = _create(sqlite_api, code="4821")
    response = sqlite_api.http.request(
        "GET", "/access_codes/get", json={"access_code_id": code["access_code_id"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["access_code"]["access_code_id"] == code["access_code_id"]


def test_delete_reads_its_parameters_from_the_query(sqlite_api: Api) -> None:
    code = _create(sqlite_api, code="4821")
    response = sqlite_api.http.delete(
        "/access_codes/delete", params={"access_code_id": code["access_code_id"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["action_attempt"]["action_type"] == "DELETE_ACCESS_CODE"
    got = sqlite_api.ok("/access_codes/get", access_code_id=code["access_code_id"])
    assert got["access_code"]["status"] == "removing"


def test_put_creates_codes_on_several_devices(sqlite_api: Api) -> None:
    ids = [sqlite_api.devices["august"], sqlite_api.devices["yale"]]
    response = sqlite_api.http.put("/access_codes/create_multiple", json={"device_ids": ids})
    assert response.status_code == 200, response.text
    assert sorted(c["device_id"] for c in response.json()["access_codes"]) == sorted(ids)


def test_patch_updates_a_code(sqlite_api: Api) -> None:
    code = _create(sqlite_api, code="4821", name="Before")
    response = sqlite_api.http.patch(
        "/access_codes/update", json={"access_code_id": code["access_code_id"], "name": "After"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["action_attempt"]["action_type"] == "UPDATE_ACCESS_CODE"
    got = sqlite_api.ok("/access_codes/get", access_code_id=code["access_code_id"])
    assert got["access_code"]["name"] == "After"


def test_a_body_that_is_not_json_is_refused(sqlite_api: Api) -> None:
    response = sqlite_api.http.post(
        "/access_codes/create",
        content=f"device_id={sqlite_api.devices['august']}",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    expect.error(response, 400, "invalid_content_type")


def test_every_answer_carries_a_request_id(sqlite_api: Api) -> None:
    ok = sqlite_api.http.get("/devices/list")
    failed = sqlite_api.http.get("/devices/get")
    assert ok.headers["seam-request-id"] and failed.headers["seam-request-id"]
    assert ok.headers["seam-request-id"] != failed.headers["seam-request-id"]


def test_a_client_that_posts_json_everywhere_runs_the_whole_surface(sqlite_api: Api) -> None:
    api, august = sqlite_api, sqlite_api.devices["august"]
    code = api.ok("/access_codes/create", device_id=august, code="4821")["access_code"]
    code_id = code["access_code_id"]
    api.ok("/access_codes/update", access_code_id=code_id, name="Guest")
    assert api.ok("/access_codes/list", device_id=august)["access_codes"][0]["name"] == "Guest"
    api.ok("/access_codes/create_multiple", device_ids=[august, sqlite_api.devices["yale"]])
    found = api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=august,
        name="Cleaner",
        code="5511",
    )["access_code"]
    api.ok("/access_codes/unmanaged/convert_to_managed", access_code_id=found["access_code_id"])
    api.ok("/devices/update", device_id=august, name="Front")
    assert api.ok("/locks/get", device_id=august)["lock"]["display_name"] == "Front"
    api.ok("/access_codes/delete", access_code_id=code_id)
    assert (
        api.ok("/access_codes/get", access_code_id=code_id)["access_code"]["status"] == "removing"
    )
