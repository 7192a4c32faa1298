"""Seam's published OpenAPI document (a subset, copied into tests/fixtures) as JSON Schema.

OpenAPI 3.0 is not JSON Schema: it marks nullable values with `nullable: true` and writes
`exclusiveMinimum` as a boolean. `to_json_schema` rewrites both, so `jsonschema` can check our
responses against Seam's own component and response schemas, `$ref`s resolved in the document.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT = Path(__file__).parent / "fixtures" / "seam-openapi-subset.json"
_BASE = "urn:seam-openapi"


def to_json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema (any part of the document) rewritten as JSON Schema 2020-12."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_json_schema(value) for key, value in node.items()}
    if out.get("exclusiveMinimum") is True:
        out["exclusiveMinimum"] = out.pop("minimum")
    elif out.get("exclusiveMinimum") is False:
        del out["exclusiveMinimum"]
    if out.get("exclusiveMaximum") is True:
        out["exclusiveMaximum"] = out.pop("maximum")
    elif out.get("exclusiveMaximum") is False:
        del out["exclusiveMaximum"]
    if out.pop("nullable", False):
        out = _allow_null(out)
    return out


def _allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
        return schema
    if any(key in schema for key in ("oneOf", "anyOf", "allOf", "$ref")):
        return {"anyOf": [schema, {"type": "null"}]}
    return schema  # no type: null is already allowed


@cache
def _registry() -> Registry:
    document = to_json_schema(json.loads(DOCUMENT.read_text()))
    return Registry().with_resource(_BASE, Resource(document, DRAFT202012))


@cache
def _document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


_FORMATS = FormatChecker(["uuid", "email"])


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    """RFC 3339: a date, `T`, a time and an offset (jsonschema needs an extra package for it)."""
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value)
    return "T" in value.upper() and parsed.tzinfo is not None


def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"{_BASE}#/{pointer}"}, registry=_registry(), format_checker=_FORMATS
    )


def component_errors(name: str, instance: Any) -> list[str]:
    """Every way `instance` breaks Seam's `components.schemas.<name>`; empty when valid."""
    validator = _validator(_pointer("components", "schemas", name))
    return [_describe(e) for e in validator.iter_errors(instance)]


def response_errors(path: str, method: str, body: Any) -> list[str]:
    """Every way `body` breaks the documented 200 response of `method path`."""
    operations = _document()["paths"][path]
    assert method.lower() in operations, f"Seam documents no {method} {path}"
    pointer = _pointer(
        "paths", path, method.lower(), "responses", "200", "content", "application/json", "schema"
    )
    return [_describe(e) for e in _validator(pointer).iter_errors(body)]


def documented_methods(path: str) -> list[str]:
    return [m.upper() for m in _document()["paths"][path]]


def documented_paths() -> list[str]:
    return list(_document()["paths"])


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "<root>"
    best = error
    if error.context:
        # For a oneOf/anyOf, the branch that got furthest says most about what is wrong.
        best = max(error.context, key=lambda e: len(e.absolute_path))
        where = "/".join(str(p) for p in best.absolute_path) or where
    return f"{where}: {best.message[:300]}"


def issue_codes(component: str, field: str) -> set[str]:
    """The `error_code`s (field `errors`) or `warning_code`s (`warnings`) Seam's schema lists."""
    key = "error_code" if field == "errors" else "warning_code"
    items = _document()["components"]["schemas"][component]["properties"][field]["items"]
    return {code for v in items["oneOf"] for code in v["properties"][key].get("enum", [])}
