"""`GET /openapi.json`: pinwarden's own OpenAPI document, built from its route tables.

- Every `Route` is a path, and each of its methods an operation. GET and DELETE take their
  parameters (`P`) in the query string, as Seam's SDKs send them; the others a JSON body.
- The objects pinwarden shares with Seam have Seam's own schemas (api/seam_schemas.json), and a
  route Seam has answers with Seam's documented response.
- What pinwarden adds is marked `x-pinwarden-addition: true`: its own routes, methods and
  parameters, the properties it adds to Seam's objects (every issue's `mitigation`, a
  webhook's status), its own issue codes and its own event types.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from pinwarden.api import openapi_objects as objects
from pinwarden.api.app import Route, json_response
from pinwarden.api.params import P
from pinwarden.api.seam_schemas import load as seam
from pinwarden.catalog.events import PINWARDEN_EVENT_TYPES
from pinwarden.catalog.issues import ISSUE_TYPES

ADDED = {"x-pinwarden-addition": True}
_REF = "#/components/schemas/"
# Seam routes whose schemas are not in pinwarden's copy of Seam's document.
_SEAM_ELSEWHERE = {"/locks/simulate/keypad_code_entry", "/locks/simulate/manual_lock_via_keypad"}
_SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "uuid": {"type": "string", "format": "uuid"},
    "bool": {"type": "boolean"},
    "int": {"type": "integer"},
    "number": {"type": "number"},
    "datetime": {"type": "string", "format": "date-time"},
    "object": {"type": "object"},
}


def ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


def parameter_schema(p: P) -> dict[str, Any]:
    """The JSON schema of what `p` accepts (api/params.py), constraints included."""
    if p.kind.endswith("[]"):
        return {"type": "array", "items": _scalar(p, p.kind[:-2])}
    schema = _scalar(p, p.kind)
    if p.nullable:
        schema["nullable"] = True
    return schema


def _scalar(p: P, kind: str) -> dict[str, Any]:
    schema = dict(_SCALARS[kind])
    if kind == "str":
        for key, value in (("minLength", p.min_length), ("maxLength", p.max_length)):
            if value is not None:
                schema[key] = value
        if p.digits:
            schema["pattern"] = "^[0-9]+$"
        if p.choices is not None:
            schema["enum"] = list(p.choices)
    if kind in ("int", "number"):
        for key, bound in (("minimum", p.minimum), ("maximum", p.maximum)):
            if bound is not None:
                schema[key] = int(bound) if kind == "int" else bound
    return schema


def _operation_id(path: str, method: str) -> str:
    words = [w for part in path.strip("/").split("/") for w in part.split("_")]
    return words[0] + "".join(w.capitalize() for w in words[1:]) + method.capitalize()


def _operation(route: Route, method: str) -> dict[str, Any]:
    copied = seam()["paths"].get(route.path)
    seam_params = set(copied["parameters"]) if copied else set()

    def mark(p: P, schema: dict[str, Any]) -> dict[str, Any]:
        return {**schema, **ADDED} if copied and p.name not in seam_params else schema

    operation: dict[str, Any] = {
        "operationId": _operation_id(route.path, method),
        "tags": ["/" + route.path.strip("/").split("/")[0]],
        "security": [{"api_key": []}],
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": _response(route.path)}},
            },
            "default": {
                "description": "An error, in Seam's envelope",
                "content": {"application/json": {"schema": ref("error_response")}},
            },
        },
    }
    if method in ("GET", "DELETE"):
        operation["parameters"] = [
            {
                "name": p.name,
                "in": "query",
                "required": p.required,
                "schema": parameter_schema(p),
                **({"style": "deepObject", "explode": True} if p.kind == "object" else {}),
                **(ADDED if copied and p.name not in seam_params else {}),
            }
            for p in route.params
        ]
    elif route.params:
        body = {
            "type": "object",
            "properties": {p.name: mark(p, parameter_schema(p)) for p in route.params},
        }
        required = [p.name for p in route.params if p.required]
        if required:
            body["required"] = required
        operation["requestBody"] = {
            "required": bool(required),
            "content": {"application/json": {"schema": body}},
        }
    own = copied is None and route.path not in _SEAM_ELSEWHERE
    if own or (copied is not None and method not in copied["methods"]):
        operation.update(ADDED)
    return operation


def _response(path: str) -> dict[str, Any]:
    copied = seam()["paths"].get(path)
    if copied is not None:
        return copy.deepcopy(copied["response"])
    keys = objects.OWN_RESPONSES[path]
    return {
        "type": "object",
        "properties": {**keys, "ok": {"type": "boolean"}},
        "required": [*keys, "ok"],
    }


def document(routes: Sequence[Route]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in routes:
        paths[route.path] = {m.lower(): _operation(route, m) for m in route.methods}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "pinwarden",
            "version": "1",
            "description": (
                "pinwarden speaks the Seam Connect access-code API. Objects it shares with "
                "Seam have Seam's schemas; what pinwarden adds is marked x-pinwarden-addition."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": _components(),
            "securitySchemes": {
                "api_key": {"type": "http", "scheme": "bearer", "bearerFormat": "API Key"}
            },
        },
    }


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = copy.deepcopy(seam()["components"])
    for name, field in (
        ("access_code", "errors"),
        ("access_code", "warnings"),
        ("unmanaged_access_code", "errors"),
        ("unmanaged_access_code", "warnings"),
        ("device", "errors"),
        ("device", "warnings"),
    ):
        _own_issue_codes(schemas[name]["properties"][field]["items"], name, field)
    for variant in schemas["event"]["oneOf"]:
        _issue_fields_mitigated(variant)
    schemas["event"]["oneOf"] += [objects.own_event(t) for t in PINWARDEN_EVENT_TYPES]
    schemas["webhook"]["properties"].update(objects.WEBHOOK_ADDITIONS)
    schemas.update(objects.OWN_SCHEMAS)
    return schemas


def _codes(name: str, field: str) -> set[str]:
    """The codes pinwarden may put in `<name>.<field>`: a code's own issues and those of its
    lock (copied onto it), or a lock's own."""
    kind = "error" if field == "errors" else "warning"
    scopes = {"device"} if name == "device" else {"access_code", "device", "connected_account"}
    if kind == "warning" and name != "device":
        scopes = {"access_code"}
    return {t.code for t in ISSUE_TYPES.values() if t.kind == kind and t.scope in scopes}


def _own_issue_codes(items: dict[str, Any], name: str, field: str) -> None:
    """Every issue of Seam's gets a `mitigation`; pinwarden's own codes one more variant."""
    key = "error_code" if field == "errors" else "warning_code"
    seams: set[str] = set()
    for variant in items["oneOf"]:
        variant["properties"]["mitigation"] = {**ref("mitigation"), **ADDED}
        seams.update(variant["properties"][key].get("enum", ()))
    own = sorted(_codes(name, field) - seams)
    if own:
        items["oneOf"].append(objects.own_issue(key, own))


def _issue_fields_mitigated(variant: dict[str, Any]) -> None:
    for prop, schema in variant.get("properties", {}).items():
        if prop.endswith(("_errors", "_warnings")) and schema.get("type") == "array":
            schema["items"].setdefault("properties", {})["mitigation"] = {
                **ref("mitigation"),
                **ADDED,
            }


def installer(routes: Iterable[Route]) -> Callable[[FastAPI], None]:
    """`create_app(..., extra=[installer(routes)])` serves the document at /openapi.json."""
    routes = list(routes)

    def install(app: FastAPI) -> None:
        body = document(routes)

        async def openapi(request: Request) -> Response:
            return json_response(body)

        app.add_route("/openapi.json", openapi, methods=["GET"], include_in_schema=False)

    return install
