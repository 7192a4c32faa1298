"""Assertions on Seam's error envelope, shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx


def error(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    """The `error` object of a failed response, after checking Seam's envelope around it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["ok"] is False, body
    assert body["error"]["type"] == error_type, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    assert response.headers.get("seam-request-id"), "clients quote this header in their errors"
    return dict(body["error"])


def invalid(response: httpx.Response, *fields: str) -> dict[str, Any]:
    """A 400 invalid_input naming exactly `fields` in its zod-style `validation_errors`."""
    err = error(response, 400, "invalid_input")
    tree = err["validation_errors"]
    assert isinstance(tree["_errors"], list)
    named = {k for k in tree if k != "_errors"}
    assert named == set(fields), tree
    for name in fields:
        assert tree[name]["_errors"] and all(isinstance(m, str) for m in tree[name]["_errors"])
    return err
