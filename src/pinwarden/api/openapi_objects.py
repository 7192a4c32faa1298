"""The schemas of what pinwarden adds to Seam's API, for /openapi.json (api/openapi.py)."""

from __future__ import annotations

from typing import Any

ADDED = {"x-pinwarden-addition": True}
_REF = "#/components/schemas/"
STRING = {"type": "string"}
WHEN = {"type": "string", "format": "date-time"}
MAYBE_WHEN = {**WHEN, "nullable": True}
MAYBE_STRING = {"type": "string", "nullable": True}
MAYBE_INT = {"type": "integer", "nullable": True}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


def _object(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        **ADDED,
    }


ISSUE_FIELDS = (
    "access_code_errors",
    "access_code_warnings",
    "device_errors",
    "device_warnings",
    "connected_account_errors",
    "connected_account_warnings",
)

OWN_SCHEMAS: dict[str, Any] = {
    "error_response": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "type": STRING,
                    "message": STRING,
                    "validation_errors": {"type": "object"},
                    "data": {"type": "object"},
                },
                "required": ["type", "message"],
            },
            "ok": {"type": "boolean", "enum": [False]},
        },
        "required": ["error", "ok"],
        "description": "Seam's error envelope; `error.type` says what went wrong.",
    },
    "mitigation": _object(
        {
            "action": STRING,
            "automatic": {"type": "boolean"},
            "description": STRING,
        }
    )
    | {"description": "What to do about an issue; `automatic`: pinwarden does it itself."},
    "webhook_delivery_attempt": _object(
        {
            "attempted_at": WHEN,
            "status": {"type": "string", "enum": ["succeeded", "failed"]},
            "response_status_code": MAYBE_INT,
            "response_body": MAYBE_STRING,
            "error": MAYBE_STRING,
            "duration_ms": {"type": "integer"},
            "trigger": {"type": "string", "enum": ["scheduled", "manual"]},
        }
    ),
    "webhook_delivery": _object(
        {
            "delivery_id": STRING,
            "webhook_id": {"type": "string", "format": "uuid"},
            "event_id": {"type": "string", "format": "uuid"},
            "event_type": STRING,
            "status": {"type": "string", "enum": ["pending", "succeeded", "failed"]},
            "attempt_count": {"type": "integer"},
            "created_at": WHEN,
            "last_attempt_at": MAYBE_WHEN,
            "next_attempt_at": MAYBE_WHEN,
            "attempts": {"type": "array", "items": _ref("webhook_delivery_attempt")},
        }
    )
    | {
        "description": "One event sent to one webhook; `delivery_id` is the `webhook-id` header "
        "of every attempt."
    },
    "device_code": _object(
        {"slot": {"type": "integer"}, "code": MAYBE_STRING, "name": MAYBE_STRING},
        {"starts_at": WHEN, "ends_at": WHEN},
    ),
    "sandbox_faults": {"type": "object", **ADDED},
}

WEBHOOK_ADDITIONS: dict[str, Any] = {
    "created_at": {**WHEN, **ADDED},
    "status": {"type": "string", "enum": ["active", "failing", "disabled"], **ADDED},
    "failing_since": {**MAYBE_WHEN, **ADDED},
    "disabled_at": {**MAYBE_WHEN, **ADDED},
    "disabled_reason": {**MAYBE_STRING, **ADDED},
}

_ATTEMPT = {"action_attempt": _ref("action_attempt")}
_NOW = {"now": WHEN}
_DELIVERY = {"delivery": _ref("webhook_delivery")}
OWN_RESPONSES: dict[str, dict[str, Any]] = {
    "/access_codes/retry": {},
    "/connected_accounts/create": {"connected_account": _ref("connected_account")},
    "/access_codes/force_forget": {},
    "/access_codes/simulate/modify_external": {},
    "/devices/simulate/set_faults": {"device": _ref("device"), "faults": _ref("sandbox_faults")},
    "/devices/simulate/get_faults": {"faults": _ref("sandbox_faults")},
    "/devices/simulate/list_device_codes": {
        "device_codes": {"type": "array", "items": _ref("device_code")}
    },
    "/locks/simulate/keypad_code_entry": _ATTEMPT,
    "/locks/simulate/manual_lock_via_keypad": _ATTEMPT,
    "/webhooks/deliveries/list": {
        "deliveries": {"type": "array", "items": _ref("webhook_delivery")}
    },
    "/webhooks/deliveries/get": _DELIVERY,
    "/webhooks/deliveries/resend": _DELIVERY,
    "/sandbox/clock/get": _NOW,
    "/sandbox/clock/advance": _NOW,
    "/sandbox/clock/set": _NOW,
}


def _issue(key: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: STRING, "message": STRING, "created_at": WHEN},
        "required": [key, "message", "created_at"],
    }


def _mitigated(issue: dict[str, Any]) -> dict[str, Any]:
    issue["properties"]["mitigation"] = _ref("mitigation")
    return issue


def own_issue(key: str, codes: list[str]) -> dict[str, Any]:
    """A variant for pinwarden's own issue codes (`key`: error_code or warning_code)."""
    variant = _mitigated(_issue(key))
    variant["properties"][key] = {"type": "string", "enum": codes}
    variant["description"] = "pinwarden's own codes, in Seam's shape."
    return variant | ADDED


def own_event(event_type: str) -> dict[str, Any]:
    """pinwarden's own event: an issue appeared on a lock that Seam has no event for."""
    kind = event_type.split(".")[1]
    fields = {
        name: {"type": "array", "items": _mitigated(_issue(f"{name.rsplit('_', 1)[1][:-1]}_code"))}
        for name in ISSUE_FIELDS
    }
    return _object(
        {
            "event_id": {"type": "string", "format": "uuid"},
            "event_type": {"type": "string", "enum": [event_type]},
            "workspace_id": {"type": "string", "format": "uuid"},
            "created_at": WHEN,
            "occurred_at": WHEN,
            "device_id": {"type": "string", "format": "uuid"},
            "connected_account_id": {"type": "string", "format": "uuid"},
            **fields,
        }
    ) | {"description": f"pinwarden's own: a {kind} appeared on a lock. Sent when named."}
