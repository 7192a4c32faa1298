"""GET /openapi.json: pinwarden's own document. Every route is in it, and every route's answer
(and its errors) is held to it; Seam's routes answer with Seam's documented responses, and
what pinwarden adds is marked."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from pinwarden.api import seam_schemas
from pinwarden.catalog.events import PINWARDEN_EVENT_TYPES
from pinwarden.server import all_routes
from tests.seam_openapi import DOCUMENT as SEAM_DOCUMENT
from tests.seam_openapi import documented_paths, response_errors, to_json_schema
from tests.support import Api, free_port

_BASE = "urn:pinwarden-openapi"
# Deliveries to it are refused at once: nothing leaves the machine.
HOOK = f"http://127.0.0.1:{free_port()}/hook"
Ids = dict[str, Any]
Params = Callable[[Api, Ids], dict[str, Any]]


@pytest.fixture
def document(sqlite_api: Api) -> dict[str, Any]:
    response = sqlite_api.http.get("/openapi.json", headers={"Authorization": ""})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _validator(document: dict[str, Any], pointer: str) -> Draft202012Validator:
    registry = Registry().with_resource(_BASE, Resource(to_json_schema(document), DRAFT202012))
    return Draft202012Validator({"$ref": f"{_BASE}#{pointer}"}, registry=registry)


def _escape(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


@cache
def _pins() -> Iterator[str]:
    return (f"{n:04d}" for n in itertools.count(1000))


def _code(api: Api, device: str = "igloohome", **extra: Any) -> str:
    made = api.ok("/access_codes/create", device_id=api.devices[device], **extra)
    return str(made["access_code"]["access_code_id"])


def _unmanaged(api: Api, ids: Ids) -> str:
    made = api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=api.devices["august"],
        name="Cleaner",
        code=next(_pins()),
    )
    return str(made["access_code"]["access_code_id"])


def _webhook(api: Api, ids: Ids) -> str:
    return str(api.ok("/webhooks/create", url=HOOK)["webhook"]["webhook_id"])


def _ids(api: Api) -> Ids:
    """One of everything a request can name, in a state where every route succeeds."""
    stay = {"starts_at": "2026-12-01T12:05:00Z", "ends_at": "2026-12-03T11:00:00Z"}
    ids: Ids = {"august": api.devices["august"], "yale": api.devices["yale"]}
    ids["code"] = _code(api, "august", code="4821")
    ids["guest"] = _code(api, "yale", code="5932", use_backup_access_code_pool=True, **stay)
    shared = api.ok("/access_codes/create_multiple", device_ids=[api.devices["kwikset"]])
    ids["common_code_key"] = shared["access_codes"][0]["common_code_key"]
    webhook = api.ok("/webhooks/create", url=HOOK)["webhook"]
    ids["webhook"] = webhook["webhook_id"]
    api.advance(600)
    ids["unmanaged"] = _unmanaged(api, ids)
    ids["account"] = api.ok("/connected_accounts/list")["connected_accounts"][0][
        "connected_account_id"
    ]
    ids["attempt"] = api.ok("/action_attempts/list")["action_attempts"][0]["action_attempt_id"]
    ids["event"] = api.ok("/events/list", since="2026-01-01T00:00:00Z")["events"][0]["event_id"]
    ids["delivery"] = api.ok("/webhooks/deliveries/list")["deliveries"][0]["delivery_id"]
    return ids


def _deleting(api: Api, ids: Ids) -> dict[str, Any]:
    code = _code(api)
    api.ok("/access_codes/delete", access_code_id=code)
    return {"access_code_id": code}


def _account(api: Api, ids: Ids) -> dict[str, Any]:
    """A connected account of its own (to update, sync or delete)."""
    made = api.ok("/connected_accounts/create", account_type="zwave_js", url="ws://127.0.0.1:9")
    return {"connected_account_id": made["connected_account"]["connected_account_id"]}


def _spare_lock(api: Api, ids: Ids) -> dict[str, Any]:
    """A lock no other request needs (to delete)."""
    spares = ids.setdefault("spares", ["igloohome", "salto", "schlage", "smartthings"])
    return {"device_id": api.devices[spares.pop()]}


# For each route, parameters that make it succeed (functions when each call needs its own).
REQUESTS: dict[str, Params] = {
    "/connected_accounts/create": lambda api, ids: {
        "account_type": "zigbee2mqtt",
        "url": "mqtt://127.0.0.1:9",
        "base_topic": "nowhere",
    },
    "/connected_accounts/update": lambda api, ids: {**_account(api, ids), "display_name": "Hub"},
    "/connected_accounts/delete": _account,
    "/connected_accounts/sync": _account,
    "/devices/delete": _spare_lock,
    "/locks/lock_door": lambda api, ids: {"device_id": ids["august"]},
    "/locks/unlock_door": lambda api, ids: {"device_id": ids["august"]},
    "/access_codes/create": lambda api, ids: {"device_id": ids["yale"]},
    "/access_codes/create_multiple": lambda api, ids: {"device_ids": [ids["yale"]]},
    "/access_codes/get": lambda api, ids: {"access_code_id": ids["code"]},
    "/access_codes/list": lambda api, ids: {"device_id": ids["august"]},
    "/access_codes/update": lambda api, ids: {"access_code_id": ids["code"], "name": "Guest"},
    "/access_codes/update_multiple": lambda api, ids: {
        "common_code_key": ids["common_code_key"],
        "name": "Shared",
    },
    "/access_codes/delete": lambda api, ids: {"access_code_id": _code(api)},
    "/access_codes/generate_code": lambda api, ids: {"device_id": ids["august"]},
    "/access_codes/pull_backup_access_code": lambda api, ids: {"access_code_id": ids["guest"]},
    "/access_codes/report_device_constraints": lambda api, ids: {
        "device_id": ids["august"],
        "supported_code_lengths": [4, 5, 6],
    },
    "/access_codes/retry": lambda api, ids: {"access_code_id": ids["code"]},
    "/access_codes/force_forget": _deleting,
    "/devices/list": lambda api, ids: {},
    "/devices/get": lambda api, ids: {"device_id": ids["august"]},
    "/devices/update": lambda api, ids: {"device_id": ids["august"], "name": "Front door"},
    "/locks/list": lambda api, ids: {},
    "/locks/get": lambda api, ids: {"device_id": ids["august"]},
    "/connected_accounts/list": lambda api, ids: {},
    "/connected_accounts/get": lambda api, ids: {"connected_account_id": ids["account"]},
    "/action_attempts/get": lambda api, ids: {"action_attempt_id": ids["attempt"]},
    "/action_attempts/list": lambda api, ids: {},
    "/events/list": lambda api, ids: {"since": "2026-01-01T00:00:00Z"},
    "/events/get": lambda api, ids: {"event_id": ids["event"]},
    "/access_codes/unmanaged/list": lambda api, ids: {"device_id": ids["august"]},
    "/access_codes/unmanaged/get": lambda api, ids: {"access_code_id": ids["unmanaged"]},
    "/access_codes/unmanaged/update": lambda api, ids: {
        "access_code_id": _unmanaged(api, ids),
        "is_managed": True,
    },
    "/access_codes/unmanaged/convert_to_managed": lambda api, ids: {
        "access_code_id": _unmanaged(api, ids)
    },
    "/access_codes/unmanaged/delete": lambda api, ids: {"access_code_id": _unmanaged(api, ids)},
    "/devices/simulate/connect": lambda api, ids: {"device_id": ids["yale"]},
    "/devices/simulate/disconnect": lambda api, ids: {"device_id": ids["yale"]},
    "/devices/simulate/remove": lambda api, ids: {"device_id": api.devices["salto"]},
    "/devices/simulate/set_faults": lambda api, ids: {
        "device_id": ids["yale"],
        "fail_next_sets": 0,
    },
    "/devices/simulate/get_faults": lambda api, ids: {"device_id": ids["yale"]},
    "/devices/simulate/list_device_codes": lambda api, ids: {"device_id": ids["august"]},
    "/access_codes/simulate/create_unmanaged_access_code": lambda api, ids: {
        "device_id": ids["august"],
        "name": "Cleaner",
        "code": next(_pins()),
    },
    "/access_codes/simulate/modify_external": lambda api, ids: {
        "access_code_id": ids["code"],
        "name": "Changed at the lock",
    },
    "/locks/simulate/keypad_code_entry": lambda api, ids: {
        "device_id": ids["august"],
        "code": "4821",
    },
    "/locks/simulate/manual_lock_via_keypad": lambda api, ids: {"device_id": ids["august"]},
    "/webhooks/create": lambda api, ids: {"url": HOOK},
    "/webhooks/list": lambda api, ids: {},
    "/webhooks/get": lambda api, ids: {"webhook_id": ids["webhook"]},
    "/webhooks/update": lambda api, ids: {"webhook_id": ids["webhook"], "event_types": ["*"]},
    "/webhooks/delete": lambda api, ids: {"webhook_id": _webhook(api, ids)},
    "/webhooks/deliveries/list": lambda api, ids: {"webhook_id": ids["webhook"]},
    "/webhooks/deliveries/get": lambda api, ids: {"delivery_id": ids["delivery"]},
    "/webhooks/deliveries/resend": lambda api, ids: {"delivery_id": ids["delivery"]},
    "/sandbox/clock/get": lambda api, ids: {},
    "/sandbox/clock/advance": lambda api, ids: {"seconds": 1},
    "/sandbox/clock/set": lambda api, ids: {"now": "2026-12-01T13:00:00Z"},
}


def test_the_document_has_every_route_and_method(sqlite_api: Api, document: dict[str, Any]) -> None:
    routes = all_routes(sqlite_api.runtime.runner)
    assert set(document["paths"]) == {r.path for r in routes} == set(REQUESTS)
    for route in routes:
        assert set(document["paths"][route.path]) == {m.lower() for m in route.methods}


def test_every_route_answers_as_the_document_says(
    sqlite_api: Api, document: dict[str, Any]
) -> None:
    api = sqlite_api
    ids = _ids(api)
    for path, operations in document["paths"].items():
        for method in operations:
            params = REQUESTS[path](api, ids)
            if method in ("get", "delete"):
                response = api.http.request(method, path, params=params)
            else:
                response = api.http.request(method, path, json=params)
            assert response.status_code == 200, f"{method} {path}: {response.text}"
            pointer = (
                f"/paths/{_escape(path)}/{method}/responses/200/content/application~1json/schema"
            )
            errors = [
                e.message[:200] for e in _validator(document, pointer).iter_errors(response.json())
            ]
            assert errors == [], f"{method} {path}: {errors[:3]}"


def test_errors_answer_in_the_documented_envelope(
    sqlite_api: Api, document: dict[str, Any]
) -> None:
    envelope = _validator(document, "/components/schemas/error_response")
    for response in (
        sqlite_api.post("/webhooks/get", webhook_id="6f1bd1a7-0000-4000-8000-000000000000"),
        sqlite_api.post("/webhooks/create"),
        sqlite_api.http.post("/webhooks/list", headers={"Authorization": "Bearer nope"}),
        sqlite_api.http.put("/webhooks/list"),
    ):
        assert response.status_code >= 400
        assert list(envelope.iter_errors(response.json())) == []


def test_seams_routes_answer_with_seams_responses_and_additions_are_marked(
    document: dict[str, Any],
) -> None:
    seams = set(documented_paths())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            added = operation.get("x-pinwarden-addition", False)
            if path not in seams:
                assert added or path.startswith("/locks/simulate/"), f"{method} {path}"
                continue
            schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert set(schema["required"]) <= set(schema["properties"]), path
    events = document["paths"]["/events/list"]["get"]["parameters"]
    assert [p for p in events if p["name"] == "order"][0]["x-pinwarden-addition"] is True


def test_pinwardens_own_codes_and_event_types_are_listed(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    own = [
        v
        for v in schemas["access_code"]["properties"]["errors"]["items"]["oneOf"]
        if v.get("x-pinwarden-addition")
    ]
    codes = own[0]["properties"]["error_code"]["enum"]
    assert "august_device_slots_full" in codes and "duplicate_code_on_device" not in codes
    events = {
        v["properties"]["event_type"]["enum"][0]
        for v in schemas["event"]["oneOf"]
        if v.get("x-pinwarden-addition")
    }
    assert events == set(PINWARDEN_EVENT_TYPES)


def test_an_answer_that_seam_documents_is_valid_in_both_documents(sqlite_api: Api) -> None:
    body = sqlite_api.ok("/webhooks/create", url=HOOK)
    assert response_errors("/webhooks/create", "POST", body) == []


def test_the_copy_of_seams_schemas_is_what_seams_document_gives() -> None:
    source = json.loads(SEAM_DOCUMENT.read_text())
    assert seam_schemas.load() == seam_schemas.extract(source, seam_schemas.served_paths()), (
        "run `python -m pinwarden.api.seam_schemas tests/fixtures/seam-openapi-subset.json`"
    )
