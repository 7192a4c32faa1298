"""Devices, locks, connected accounts, action attempts, events, unmanaged codes."""

from __future__ import annotations

from typing import Any

from pinwarden.api.app import Route
from pinwarden.api.params import P
from pinwarden.service import access_codes as codes
from pinwarden.service import action_attempts, devices, events, unmanaged
from pinwarden.service.deps import Deps

GET = ("GET", "POST")
PAGE = (P("limit", "int", minimum=1), P("page_cursor", nullable=True))
DEVICE_FILTERS = (
    P("device_ids", "uuid[]"),
    P("connected_account_id", "uuid"),
    P("connected_account_ids", "uuid[]"),
    P("device_type"),
    P("device_types", "str[]"),
    P("manufacturer"),
    P("search", min_length=1),
    P("created_before", "datetime"),
    P("customer_key"),
    P("user_identifier_key"),
    P("space_id", "uuid"),
    P("connect_webview_id", "uuid"),
    P("custom_metadata_has", "object"),
    P("include_if", "str[]"),
    P("exclude_if", "str[]"),
    *PAGE,
)
# Filters on things pinwarden does not have: declared so that they are read, and then match
# nothing (service/pagination.py FOREIGN_FILTERS).
EVENT_FOREIGN_FILTERS = (
    P("customer_key"),
    P("space_id", "uuid"),
    P("space_ids", "uuid[]"),
    P("access_grant_id", "uuid"),
    P("access_grant_ids", "uuid[]"),
    P("access_method_id", "uuid"),
    P("access_method_ids", "uuid[]"),
    P("user_identity_id", "uuid"),
    P("connect_webview_id", "uuid"),
    P("acs_system_id", "uuid"),
    P("acs_system_ids", "uuid[]"),
    P("acs_user_id", "uuid"),
    P("acs_credential_id", "uuid"),
    P("acs_entrance_id", "uuid"),
    P("acs_access_group_id", "uuid"),
    P("acs_encoder_id", "uuid"),
)
EXTERNAL = (P("allow_external_modification", "bool"), P("is_external_modification_allowed", "bool"))


def _devices(*keys: str) -> Any:
    """Seam's SDKs read `devices` even from /locks/list, its docs say `locks`: send both."""

    def handler(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
        page = devices.list_devices(deps, ws, p)
        return {**{key: page.items for key in keys}, "pagination": page.pagination}

    return handler


def _device(*keys: str) -> Any:
    def handler(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
        found = devices.get_device(deps, ws, p)
        return {key: found for key in keys}

    return handler


def _update_device(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    devices.update_device(deps, ws, p)
    return {}


def _accounts(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    page = devices.list_connected_accounts(deps, ws, p)
    return {"connected_accounts": page.items, "pagination": page.pagination}


def _account(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    return {"connected_account": devices.get_connected_account(deps, ws, p)}


def _attempt(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    return {"action_attempt": action_attempts.get_attempt(deps, ws, p)}


def _attempts(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    page = action_attempts.list_attempts(deps, ws, p)
    return {"action_attempts": page.items, "pagination": page.pagination}


def _events(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    return {"events": events.list_events(deps, ws, p)}


def _event(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    return {"event": events.get_event(deps, ws, p)}


def _unmanaged_list(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    page = unmanaged.list_unmanaged(deps, ws, p)
    return {"access_codes": page.items, "pagination": page.pagination}


def _unmanaged_get(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
    return {"access_code": codes.get(deps, ws, p, managed=False, for_wire=True)}


ROUTES = [
    Route("/devices/list", GET, DEVICE_FILTERS, _devices("devices")),
    Route("/devices/get", GET, (P("device_id", "uuid"), P("name")), _device("device")),
    Route(
        "/devices/update",
        ("PATCH", "POST"),
        (
            P("device_id", "uuid", required=True),
            P("name", nullable=True, max_length=200),
            P("properties", "object"),
            P("is_managed", "bool"),
            P("custom_metadata", "object"),
            P("backup_access_code_pool_enabled", "bool"),
            P("time_zone", nullable=True, max_length=64),
        ),
        _update_device,
    ),
    Route("/locks/list", GET, DEVICE_FILTERS, _devices("devices", "locks")),
    Route("/locks/get", GET, (P("device_id", "uuid"), P("name")), _device("device", "lock")),
    Route(
        "/connected_accounts/list",
        GET,
        (
            P("custom_metadata_has", "object"),
            P("customer_key"),
            P("user_identifier_key"),
            P("space_id", "uuid"),
            P("search", min_length=1),
            *PAGE,
        ),
        _accounts,
    ),
    Route(
        "/connected_accounts/get", GET, (P("connected_account_id", "uuid"), P("email")), _account
    ),
    Route("/action_attempts/get", GET, (P("action_attempt_id", "uuid", required=True),), _attempt),
    Route(
        "/action_attempts/list",
        GET,
        (
            P("action_attempt_ids", "uuid[]"),
            P("device_id", "uuid"),
            *PAGE,
        ),
        _attempts,
    ),
    Route(
        "/events/list",
        GET,
        (
            P("since", "datetime"),
            P("between", "datetime[]"),
            P("access_code_id", "uuid"),
            P("access_code_ids", "uuid[]"),
            P("device_id", "uuid"),
            P("device_ids", "uuid[]"),
            P("connected_account_id", "uuid"),
            P("event_type"),
            P("event_types", "str[]"),
            P("event_ids", "uuid[]"),
            *EVENT_FOREIGN_FILTERS,
            P("limit", "int", minimum=1),
            P("unstable_offset", "int", minimum=0),
            # pinwarden's addition: newest first, so `limit` gives the latest events.
            P("order", choices=("oldest_first", "newest_first")),
        ),
        _events,
    ),
    Route(
        "/events/get", GET, (P("event_id", "uuid"), P("event_type"), P("device_id", "uuid")), _event
    ),
    Route(
        "/access_codes/unmanaged/list",
        GET,
        (
            P("device_id", "uuid", required=True),
            P("user_identifier_key"),
            P("search", min_length=1),
            *PAGE,
        ),
        _unmanaged_list,
    ),
    Route(
        "/access_codes/unmanaged/get",
        GET,
        (
            P("access_code_id", "uuid"),
            P("device_id", "uuid"),
            P("code"),
        ),
        _unmanaged_get,
    ),
    Route(
        "/access_codes/unmanaged/update",
        ("PATCH", "POST"),
        (
            P("access_code_id", "uuid", required=True),
            P("is_managed", "bool", required=True),
            *EXTERNAL,
            P("force", "bool"),
        ),
        unmanaged.update_unmanaged,
    ),
    Route(
        "/access_codes/unmanaged/convert_to_managed",
        ("PATCH", "POST"),
        (
            P("access_code_id", "uuid", required=True),
            *EXTERNAL,
            P("force", "bool"),
            P("sync", "bool"),
        ),
        unmanaged.convert_to_managed,
    ),
    Route(
        "/access_codes/unmanaged/delete",
        ("DELETE", "POST"),
        (
            P("access_code_id", "uuid", required=True),
            P("sync", "bool"),
        ),
        unmanaged.delete_unmanaged,
    ),
]
