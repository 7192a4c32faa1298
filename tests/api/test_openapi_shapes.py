"""Responses validate against Seam's published OpenAPI document (tests/fixtures copy).

Each test drives the server into states a client will see (time-bound, backup pulled, waiting
for a PIN, disconnected, deleting...) and checks the whole response body against the documented
200 response of that route, `$ref`s to Seam's component schemas resolved in the document.
"""

from __future__ import annotations

from typing import Any

from tests.seam_openapi import component_errors, issue_codes, response_errors, to_json_schema
from tests.support import Api

SINCE = "2026-01-01T00:00:00Z"
WINDOW = {"starts_at": "2026-12-01T13:00:00Z", "ends_at": "2026-12-04T00:00:00Z"}


def _valid(path: str, method: str, body: dict[str, Any]) -> None:
    errors = response_errors(path, method, body)
    assert errors == [], f"{method} {path}: " + "; ".join(errors[:5])


def _call(api: Api, method: str, path: str, **params: Any) -> dict[str, Any]:
    """Call the route the way the SDKs do, and check the answer against Seam's schema."""
    if method in ("GET", "DELETE"):
        response = api.http.request(method, path, params=params)
    else:
        response = api.http.request(method, path, json=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    _valid(path, method, body)
    return body


def test_the_converter_turns_openapi_nullable_into_json_schema() -> None:
    converted = to_json_schema(
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "nullable": True},
                "b": {"enum": ["x"], "type": "string", "nullable": True},
                "c": {"oneOf": [{"type": "string"}], "nullable": True},
                "d": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
            },
        }
    )
    props = converted["properties"]
    assert props["a"] == {"type": ["string", "null"]}
    assert props["b"] == {"enum": ["x", None], "type": ["string", "null"]}
    assert props["c"] == {"anyOf": [{"oneOf": [{"type": "string"}]}, {"type": "null"}]}
    assert props["d"] == {"type": "number", "exclusiveMinimum": 0}
    # Against the real document: null passes where Seam allows it and fails where it does not.
    base = {
        "access_code_id": "3b1cbe0a-0000-4000-8000-000000000000",
        "workspace_id": "3b1cbe0a-0000-4000-8000-000000000001",
        "device_id": "3b1cbe0a-0000-4000-8000-000000000002",
        "name": None,
        "code": None,
        "common_code_key": None,
        "type": "ongoing",
        "status": "set",
        "created_at": "2026-12-01T12:00:00.000Z",
        "errors": [],
        "warnings": [],
        "is_managed": True,
        "is_backup_access_code_available": False,
        "is_external_modification_allowed": False,
        "is_one_time_use": False,
        "is_offline_access_code": False,
        "pending_mutations": [],
    }
    assert component_errors("access_code", base) == []
    assert component_errors("access_code", {**base, "is_managed": None}) != []
    assert component_errors("access_code", {**base, "created_at": "yesterday"}) != []


def test_access_code_routes_answer_in_seam_shapes(api: Api) -> None:
    august = api.devices["august"]
    created = _call(
        api,
        "POST",
        "/access_codes/create",
        device_id=august,
        name="Guest",
        code="4821",
        use_backup_access_code_pool=True,
        **WINDOW,
    )
    code_id = created["access_code"]["access_code_id"]
    _call(api, "POST", "/access_codes/create", device_id=api.devices["salto"], name="Waiting")
    _call(api, "PUT", "/access_codes/create_multiple", device_ids=[august, api.devices["yale"]])
    _call(api, "GET", "/access_codes/generate_code", device_id=api.devices["kwikset"])
    api.advance(3600)
    _call(api, "PATCH", "/access_codes/update", access_code_id=code_id, name="Guest 2")
    _call(api, "POST", "/access_codes/pull_backup_access_code", access_code_id=code_id)
    got = _call(api, "GET", "/access_codes/get", access_code_id=code_id)
    assert got["access_code"]["pulled_backup_access_code_id"]
    _call(api, "DELETE", "/access_codes/delete", access_code_id=code_id)
    for device_id in api.devices.values():
        _call(api, "GET", "/access_codes/list", device_id=device_id)
    _call(api, "GET", "/access_codes/list", search="Guest", limit=1)


def _without_pinwarden_issues(item: dict[str, Any], component: str) -> dict[str, Any]:
    """The code or device with issues whose codes are pinwarden's own (brand-specific codes from the issue
    catalog, such as `august_lock_temporarily_offline`) set aside, after checking that each one
    still has the shape of a Seam issue, so clients that read issues generically can."""
    kept: dict[str, Any] = dict(item)
    for field, key in (("errors", "error_code"), ("warnings", "warning_code")):
        seam = issue_codes(component, field)
        kept[field] = []
        for issue in item[field]:
            if issue[key] in seam:
                kept[field].append(issue)
                continue
            assert isinstance(issue["message"], str) and issue["message"]
            assert issue["created_at"].endswith("Z")
            if field == "errors":
                flags = ("is_access_code_error", "is_device_error", "is_connected_account_error")
                assert any(issue.get(flag) is True for flag in flags), issue
    return kept


def test_codes_on_an_offline_lock_answer_in_seam_shapes(sqlite_api: Api) -> None:
    yale = sqlite_api.devices["yale"]
    sqlite_api.ok("/access_codes/create", device_id=yale, code="4821", **WINDOW)
    sqlite_api.ok("/devices/simulate/disconnect", device_id=yale)
    sqlite_api.advance(3 * 3600)
    listed = sqlite_api.ok("/access_codes/list", device_id=yale)
    assert listed["access_codes"][0]["errors"], "the lock's trouble shows on its codes"
    listed["access_codes"] = [
        _without_pinwarden_issues(c, "access_code") for c in listed["access_codes"]
    ]
    _valid("/access_codes/list", "GET", listed)
    got = sqlite_api.ok("/devices/get", device_id=yale)
    got["device"] = _without_pinwarden_issues(got["device"], "device")
    _valid("/devices/get", "GET", got)


def test_unmanaged_code_routes_answer_in_seam_shapes(sqlite_api: Api) -> None:
    august = sqlite_api.devices["august"]
    found = _call(
        sqlite_api,
        "POST",
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=august,
        name="Cleaner",
        code="5511",
    )["access_code"]
    _call(sqlite_api, "GET", "/access_codes/unmanaged/get", access_code_id=found["access_code_id"])
    _call(sqlite_api, "GET", "/access_codes/unmanaged/list", device_id=august)
    _call(
        sqlite_api,
        "PATCH",
        "/access_codes/unmanaged/convert_to_managed",
        access_code_id=found["access_code_id"],
    )
    other = sqlite_api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=august,
        name="Old",
        code="6622",
    )["access_code"]
    _call(
        sqlite_api,
        "DELETE",
        "/access_codes/unmanaged/delete",
        access_code_id=other["access_code_id"],
    )
    unmanaged = sqlite_api.ok("/access_codes/unmanaged/list", device_id=august)["access_codes"]
    for code in unmanaged:
        assert component_errors("unmanaged_access_code", code) == []


def test_device_routes_answer_in_seam_shapes(api: Api) -> None:
    august = api.devices["august"]
    api.ok("/devices/update", device_id=august, name="Back door", custom_metadata={"unit": "4"})
    api.ok("/devices/simulate/disconnect", device_id=api.devices["kwikset"])
    api.advance(60)
    _call(api, "GET", "/devices/list")
    _call(api, "GET", "/locks/list")
    for device_id in api.devices.values():
        _call(api, "GET", "/devices/get", device_id=device_id)
        _call(api, "GET", "/locks/get", device_id=device_id)
    _call(api, "PATCH", "/devices/update", device_id=august, name=None)


def test_connected_account_routes_answer_in_seam_shapes(sqlite_api: Api) -> None:
    listed = _call(sqlite_api, "GET", "/connected_accounts/list", limit=3)
    assert listed["pagination"]["has_next_page"] is True
    for account in listed["connected_accounts"]:
        _call(
            sqlite_api,
            "GET",
            "/connected_accounts/get",
            connected_account_id=account["connected_account_id"],
        )


def test_action_attempt_routes_answer_in_seam_shapes(sqlite_api: Api) -> None:
    august = sqlite_api.devices["august"]
    code = sqlite_api.ok("/access_codes/create", device_id=august, code="4821")["access_code"]
    sqlite_api.advance()
    sqlite_api.ok("/access_codes/update", access_code_id=code["access_code_id"], name="x")
    sqlite_api.ok("/locks/simulate/keypad_code_entry", device_id=august, code="4821")
    sqlite_api.ok("/locks/simulate/keypad_code_entry", device_id=august, code="9999")
    found = sqlite_api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=august,
        name="Cleaner",
        code="5511",
    )["access_code"]
    sqlite_api.ok(
        "/access_codes/unmanaged/convert_to_managed", access_code_id=found["access_code_id"]
    )
    sqlite_api.ok("/access_codes/retry", access_code_id=code["access_code_id"])
    sqlite_api.ok("/access_codes/delete", access_code_id=code["access_code_id"])
    listed = _call(sqlite_api, "GET", "/action_attempts/list")
    kinds = {a["action_type"] for a in listed["action_attempts"]}
    assert {"CREATE_ACCESS_CODE", "UPDATE_ACCESS_CODE", "DELETE_ACCESS_CODE"} <= kinds
    assert "SIMULATE_KEYPAD_CODE_ENTRY" in kinds
    for attempt in listed["action_attempts"]:
        _call(
            sqlite_api,
            "GET",
            "/action_attempts/get",
            action_attempt_id=attempt["action_attempt_id"],
        )


def _busy_workspace(api: Api) -> None:
    """Codes created, set, changed, pulled, deleted; unmanaged codes; keypad entries."""
    august = api.devices["august"]
    code = api.ok(
        "/access_codes/create",
        device_id=august,
        code="4821",
        use_backup_access_code_pool=True,
        **WINDOW,
    )["access_code"]
    api.ok(
        "/access_codes/create_multiple", device_ids=[api.devices["yale"], api.devices["igloohome"]]
    )
    api.advance(3600)
    api.ok("/access_codes/update", access_code_id=code["access_code_id"], name="Guest")
    api.ok("/access_codes/pull_backup_access_code", access_code_id=code["access_code_id"])
    found = api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=august,
        name="Cleaner",
        code="5511",
    )["access_code"]
    api.ok("/access_codes/unmanaged/convert_to_managed", access_code_id=found["access_code_id"])
    api.ok("/locks/simulate/keypad_code_entry", device_id=august, code="4821")
    api.ok("/locks/simulate/keypad_code_entry", device_id=august, code="9999")
    api.ok("/access_codes/delete", access_code_id=code["access_code_id"])
    api.advance(3600)


def test_events_answer_in_seam_shapes(sqlite_api: Api) -> None:
    _busy_workspace(sqlite_api)
    listed = _call(sqlite_api, "GET", "/events/list", since=SINCE)
    kinds = {e["event_type"] for e in listed["events"]}
    assert {
        "access_code.created",
        "access_code.changed",
        "access_code.set_on_device",
        "access_code.backup_access_code_pulled",
        "access_code.deleted",
        "access_code.unmanaged.created",
        "access_code.unmanaged.converted_to_managed",
        "lock.unlocked",
        "lock.access_denied",
    } <= kinds, kinds
    for event in listed["events"][:5]:
        _call(sqlite_api, "GET", "/events/get", event_id=event["event_id"])


def test_device_disconnected_event_answers_in_seam_shape(sqlite_api: Api) -> None:
    sqlite_api.ok("/devices/simulate/disconnect", device_id=sqlite_api.devices["yale"])
    sqlite_api.ok("/access_codes/create", device_id=sqlite_api.devices["yale"], code="4821")
    sqlite_api.advance(600)
    _call(sqlite_api, "GET", "/events/list", since=SINCE, event_type="device.disconnected")


def test_pagination_objects_match_seam_schema(sqlite_api: Api) -> None:
    first = sqlite_api.ok("/devices/list", limit=2)["pagination"]
    assert first["has_next_page"] is True
    last = sqlite_api.ok("/devices/list")["pagination"]
    for pagination in (first, last):
        assert component_errors("pagination", pagination) == []
