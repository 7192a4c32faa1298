"""Seam's schemas that pinwarden's /openapi.json reuses, copied from Seam's OpenAPI document.

`seam_schemas.json` holds the components of the objects pinwarden shares with Seam, and the 200
response of each Seam route pinwarden serves. Property descriptions are left out (they are
most of the document's size); each object keeps its own. Refresh it with

    python -m pinwarden.api.seam_schemas tests/fixtures/seam-openapi-subset.json

(a test keeps the copy equal to what that gives).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

COPY = Path(__file__).with_name("seam_schemas.json")
COMPONENTS = (
    "access_code",
    "unmanaged_access_code",
    "device",
    "event",
    "webhook",
    "action_attempt",
    "connected_account",
    "pagination",
)


def _terse(node: Any, keep_description: bool = False) -> Any:
    """`node` without descriptions and Seam's documentation-only extensions, except the
    description of the object itself (and of each variant of a union)."""
    if isinstance(node, list):
        return [_terse(item, keep_description) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "description" and not keep_description:
            continue
        if key.startswith("x-") and key not in ("x-route-path",):
            continue
        out[key] = _terse(value, keep_description=key == "oneOf")
    return out


def extract(document: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    schemas = document["components"]["schemas"]
    routes: dict[str, Any] = {}
    for path in sorted(paths):
        operations = document["paths"].get(path)
        if operations is None:
            continue
        any_operation = operations.get("post") or next(iter(operations.values()))
        ok = any_operation["responses"]["200"]["content"]["application/json"]["schema"]
        routes[path] = {
            "methods": sorted(m.upper() for m in operations),
            "parameters": sorted({name for op in operations.values() for name in _names(op)}),
            "response": _terse(ok),
        }
    return {
        "components": {name: _terse(schemas[name], keep_description=True) for name in COMPONENTS},
        "paths": routes,
    }


def _names(operation: dict[str, Any]) -> list[str]:
    """The parameters an operation takes, in its query string or its JSON body."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    return [p["name"] for p in operation.get("parameters", ())] + list(
        body.get("schema", {}).get("properties", {})
    )


@cache
def load() -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(COPY.read_text())
    return copy


def served_paths() -> list[str]:
    from pinwarden.server import all_routes

    return [route.path for route in all_routes(None)]


if __name__ == "__main__":
    source = json.loads(Path(sys.argv[1]).read_text())
    COPY.write_text(json.dumps(extract(source, served_paths()), indent=0, sort_keys=True) + "\n")
