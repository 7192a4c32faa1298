"""/access_codes/*: thin handlers, each validates, calls one service, shapes the body."""

from __future__ import annotations

from typing import Any

from pinwarden.api.app import Route
from pinwarden.api.params import P
from pinwarden.service import access_code_changes as changes
from pinwarden.service import access_codes as codes
from pinwarden.service import backups, device_constraints, operator
from pinwarden.service.deps import Deps

GET = ("GET", "POST")
CODE = P("code", min_length=4, max_length=12, digits=True)
# The store keeps names and keys in 200 characters.
NAME = P("name", nullable=True, max_length=200)
COMMON_CODE_KEY = P("common_code_key", nullable=True, max_length=200)
WINDOW = (P("starts_at", "datetime", nullable=True), P("ends_at", "datetime", nullable=True))
FLAGS = tuple(
    P(name, "bool")
    for name in (
        "allow_external_modification",
        "is_external_modification_allowed",
        "prefer_native_scheduling",
        "use_backup_access_code_pool",
        "attempt_for_offline_device",
        "sync",
    )
)
OFFLINE = (
    P("is_offline_access_code", "bool"),
    P("use_offline_access_code", "bool"),
    P("is_one_time_use", "bool"),
    P("max_time_rounding", choices=("1hour", "1day", "1h", "1d")),
)
LENGTH = P("preferred_code_length", "int", minimum=4, maximum=12)
PAGE = (P("limit", "int", minimum=1), P("page_cursor", nullable=True))


def _create(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    return codes.create(deps, ws, p)


def _list(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    page = codes.list_codes(deps, ws, p, for_wire=True)
    return {"access_codes": page.items, "pagination": page.pagination}


def _get(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    return {"access_code": codes.get(deps, ws, p, for_wire=True)}


def _report(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    device_constraints.report(deps, ws, p)
    return {}


def _update_multiple(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    return changes.update_multiple(deps, ws, p)


ROUTES = [
    Route(
        "/access_codes/create",
        ("POST",),
        (
            P("device_id", "uuid", required=True),
            NAME,
            CODE,
            COMMON_CODE_KEY,
            LENGTH,
            *WINDOW,
            *FLAGS,
            *OFFLINE,
        ),
        _create,
    ),
    Route(
        "/access_codes/create_multiple",
        ("POST", "PUT"),
        (
            P("device_ids", "uuid[]", required=True),
            NAME,
            CODE,
            LENGTH,
            P("behavior_when_code_cannot_be_shared", choices=("throw", "create_random_code")),
            *WINDOW,
            *FLAGS,
        ),
        changes.create_multiple,
    ),
    Route(
        "/access_codes/get",
        GET,
        (
            P("access_code_id", "uuid"),
            P("device_id", "uuid"),
            P("code"),
        ),
        _get,
    ),
    Route(
        "/access_codes/list",
        GET,
        (
            P("device_id", "uuid"),
            P("access_code_ids", "uuid[]"),
            P("search", min_length=1),
            P("user_identifier_key"),
            P("customer_key"),
            P("access_method_id", "uuid"),
            P("access_grant_id", "uuid"),
            P("access_grant_key"),
            *PAGE,
        ),
        _list,
    ),
    Route(
        "/access_codes/update",
        ("PATCH", "POST", "PUT"),
        (
            P("access_code_id", "uuid", required=True),
            P("device_id", "uuid"),
            NAME,
            CODE,
            LENGTH,
            *WINDOW,
            *FLAGS,
            *OFFLINE,
            P("type", choices=("ongoing", "time_bound")),
            P("is_managed", "bool"),
        ),
        changes.update_code,
    ),
    Route(
        "/access_codes/update_multiple",
        ("PATCH", "POST"),
        (
            P("common_code_key", required=True, max_length=200),
            NAME,
            *WINDOW,
        ),
        _update_multiple,
    ),
    Route(
        "/access_codes/delete",
        ("DELETE", "POST"),
        (
            P("access_code_id", "uuid", required=True),
            P("device_id", "uuid"),
            P("sync", "bool"),
        ),
        changes.delete_code,
    ),
    Route(
        "/access_codes/generate_code", GET, (P("device_id", "uuid", required=True),), codes.generate
    ),
    Route(
        "/access_codes/pull_backup_access_code",
        ("POST",),
        (P("access_code_id", "uuid", required=True),),
        backups.pull,
    ),
    Route(
        "/access_codes/report_device_constraints",
        ("POST",),
        (
            P("device_id", "uuid", required=True),
            P("supported_code_lengths", "int[]"),
            P("min_code_length", "int", minimum=4, maximum=20),
            P("max_code_length", "int", minimum=4, maximum=20),
        ),
        _report,
    ),
    Route(
        "/access_codes/retry",
        ("POST",),
        (P("access_code_id", "uuid", required=True),),
        operator.retry,
    ),
    Route(
        "/access_codes/force_forget",
        ("POST",),
        (P("access_code_id", "uuid", required=True),),
        operator.force_forget,
    ),
]
