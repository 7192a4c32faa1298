"""Confirmation pages: before a delete, a forget, a conversion or a key revocation, say what will
happen on the lock (or to the key) and ask once more."""

from __future__ import annotations

from dataclasses import dataclass

from pinwarden.console.views import Wire, managed_codes
from pinwarden.service import access_codes, devices
from pinwarden.service.auth import ApiKeyInfo
from pinwarden.service.deps import Deps


@dataclass(frozen=True)
class Confirmation:
    title: str
    lines: list[str]  # what will happen, one sentence each
    button: str
    path: str  # where the confirming POST goes
    style: str = "danger"


def _pin(code: Wire) -> str:
    return f"PIN {code['code']}" if code.get("code") else "its PIN"


def _lock(deps: Deps, ws: str, code: Wire) -> str:
    name: str = devices.get_device(deps, ws, {"device_id": code["device_id"]})["display_name"]
    return name


def _on_lock(code: Wire) -> bool:
    return code.get("status") == "set" or bool(code.get("is_scheduled_on_device"))


def delete_code(deps: Deps, ws: str, access_code_id: str) -> Confirmation:
    code = access_codes.get(deps, ws, {"access_code_id": access_code_id})
    name, lock = code.get("name") or "this code", _lock(deps, ws, code)
    if _on_lock(code) or code.get("status") == "setting":
        lines = [
            f"pinwarden removes {_pin(code)} of “{name}” from {lock} and reads the lock back to "
            "confirm it is gone.",
            "Until the lock confirms it, the code is listed under removals and may still open "
            "the door.",
        ]
    else:
        lines = [
            f"“{name}” is not confirmed on {lock}: pinwarden stops programming it, and removes "
            "it if the lock turns out to hold it after all."
        ]
    if code.get("pulled_backup_access_code_id"):
        lines.append("The backup code pulled for it stays on the lock until the stay's end.")
    path = f"/console/codes/{access_code_id}/delete"
    return Confirmation(f"Delete “{name}”?", lines, "Delete code", path)


def delete_unmanaged(deps: Deps, ws: str, access_code_id: str) -> Confirmation:
    code = access_codes.get(deps, ws, {"access_code_id": access_code_id}, managed=False)
    name, lock = code.get("name") or "this code", _lock(deps, ws, code)
    lines = [
        f"pinwarden removes {_pin(code)} (“{name}”) from {lock}; whoever uses it can no "
        "longer open the door.",
        "pinwarden did not set this code and keeps no copy of it: it cannot be put back.",
    ]
    path = f"/console/unmanaged/{access_code_id}/delete"
    return Confirmation(f"Delete “{name}” from the lock?", lines, "Delete from the lock", path)


def sharing_pin(deps: Deps, ws: str, code: Wire) -> list[str]:
    """Names of the managed codes on the same lock that are held back by `code`'s PIN."""
    if not code.get("code"):
        return []
    return [
        other.get("name") or "Unnamed code"
        for other in managed_codes(deps, ws, device_id=code["device_id"])
        if other.get("code") == code["code"]
        and other["access_code_id"] != code["access_code_id"]
        and any(e.get("error_code") == "duplicate_code_on_device" for e in other.get("errors", []))
    ]


def convert(deps: Deps, ws: str, access_code_id: str) -> Confirmation:
    code = access_codes.get(deps, ws, {"access_code_id": access_code_id}, managed=False)
    name, lock = code.get("name") or "this code", _lock(deps, ws, code)
    lines = [
        f"“{name}” ({_pin(code)}) becomes a managed code: pinwarden keeps it on {lock} as it is, "
        "and puts it back if someone changes it at the lock."
    ]
    for other in sharing_pin(deps, ws, code):
        lines.append(
            f"It still has the same PIN as “{other}”, whose code stays off the lock until you "
            f"give “{other}” another PIN (Change PIN) or delete “{name}”."
        )
    path = f"/console/unmanaged/{access_code_id}/convert"
    return Confirmation(
        f"Manage “{name}” with pinwarden?", lines, "Convert to managed", path, "primary"
    )


def forget(deps: Deps, ws: str, access_code_id: str) -> Confirmation:
    code = access_codes.get(deps, ws, {"access_code_id": access_code_id})
    name, lock = code.get("name") or "this code", _lock(deps, ws, code)
    lines = [
        f"pinwarden stops tracking “{name}” and no longer tries to remove it from {lock}.",
        f"Do this only after checking in the lock maker's app that {_pin(code)} is gone: if it "
        "is still on the lock, it keeps opening the door.",
    ]
    path = f"/console/codes/{access_code_id}/forget"
    return Confirmation(f"Forget “{name}”?", lines, "Forget the code", path)


def revoke_key(key: ApiKeyInfo, current: bool) -> Confirmation:
    lines = [
        f"Apps using the key “{key.name}” ({key.prefix}) are refused from now on; a key "
        "cannot be restored once revoked.",
        "Console sessions signed in with it end at once.",
    ]
    if current:
        lines.append("You are signed in with this key: you will be signed out.")
    path = f"/console/keys/{key.api_key_id}/revoke"
    return Confirmation(f"Revoke the key “{key.name}”?", lines, "Revoke key", path)
