"""Connected accounts of real installations, removing a device, and locking the door.

`/connected_accounts/create` is a pinwarden addition (Seam connects accounts through its own
web flow); the other routes are Seam's.
"""

from __future__ import annotations

from typing import Any

from pinwarden.api.app import Route
from pinwarden.api.params import P
from pinwarden.service import accounts, doors
from pinwarden.service.deps import Deps

# What a connection takes (see service/accounts.py KINDS for each kind's own).
_CONNECTION = (
    P("url", max_length=500),
    P("base_topic", nullable=True, max_length=200),
    P("username", nullable=True, max_length=500),
    P("password", nullable=True, max_length=500),
    P("username_env", nullable=True, max_length=200),
    P("password_env", nullable=True, max_length=200),
    P("tls_ca_file", nullable=True, max_length=500),
    P("tls_cert_file", nullable=True, max_length=500),
    P("tls_key_file", nullable=True, max_length=500),
    P("tls_insecure", "bool", nullable=True),
    P("client_id", nullable=True, max_length=100),
    P("response_timeout", "number", nullable=True),
    P("display_name", max_length=200),
    P("custom_metadata", "object"),
)
_ACCOUNT = P("connected_account_id", "uuid", required=True)


def _done(handler: Any) -> Any:
    def answer(deps: Deps, ws: str, p: dict[str, Any]) -> dict[str, Any]:
        handler(deps, ws, p)
        return {}

    return answer


ROUTES = [
    Route(
        "/connected_accounts/create",
        ("POST",),
        (P("account_type", required=True, choices=tuple(accounts.KINDS)), *_CONNECTION),
        accounts.create_account,
    ),
    Route(
        "/connected_accounts/update",
        ("PATCH", "POST"),
        (_ACCOUNT, P("automatically_manage_new_devices", "bool"), *_CONNECTION),
        accounts.update_account,
    ),
    Route(
        "/connected_accounts/delete",
        ("DELETE", "POST"),
        (_ACCOUNT, P("sync", "bool")),
        _done(accounts.delete_account),
    ),
    Route("/connected_accounts/sync", ("POST",), (_ACCOUNT,), _done(accounts.sync_account)),
    Route(
        "/devices/delete",
        ("DELETE", "POST"),
        (P("device_id", "uuid", required=True),),
        _done(accounts.delete_device),
    ),
    Route(
        "/locks/lock_door",
        ("POST",),
        (P("device_id", "uuid", required=True), P("sync", "bool")),
        doors.lock_door,
    ),
    Route(
        "/locks/unlock_door",
        ("POST",),
        (P("device_id", "uuid", required=True), P("sync", "bool")),
        doors.unlock_door,
    ),
]
