"""A code as a console card or row: its issues in words, and the buttons that fix them.

Every function takes the signed-in workspace and passes it to the services, which scope every
lookup to it; nothing here reads another workspace's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pinwarden.catalog.brands import BRANDS, REAL_LOCK_BRANDS
from pinwarden.catalog.issues import ISSUE_TYPES
from pinwarden.console.advice import advice
from pinwarden.service import access_codes, devices, unmanaged
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError
from pinwarden.service.pagination import every_item

Wire = dict[str, Any]

# Mitigations a retry cannot help with: something on or about the lock has to change first.
_RETRY_DOES_NOT_HELP = {
    "free_slots",
    "remove_or_convert_duplicate",
    "fix_code_format",
    "change_pin",
}
# Mitigations that ask for another PIN or name: the code's Edit button says so.
_EDIT_LABELS = {
    "remove_or_convert_duplicate": "Change PIN",
    "change_pin": "Change PIN",
    "fix_code_format": "Change PIN or name",
}


@dataclass(frozen=True)
class Action:
    """One button. A `get` action opens a page (a confirmation, a form) before anything
    changes; a `post` action changes something at once."""

    label: str
    path: str
    style: str = "secondary"  # primary | secondary | danger
    method: Literal["get", "post"] = "post"


@dataclass(frozen=True)
class IssueView:
    kind: str  # error | warning
    code: str
    message: str
    created_at: str | None
    advice: str  # what to do, for a person
    mitigation: str  # the catalog's text, for an integrator (names API calls)
    automatic: bool
    action: str
    unmanaged_access_code_id: str | None = None
    managed_access_code_id: str | None = None


@dataclass(frozen=True)
class CodeView:
    code: Wire
    device: Wire | None
    issues: list[IssueView]
    actions: list[Action]
    backup: Wire | None = None  # the pulled backup code standing in for this one

    @property
    def errors(self) -> list[IssueView]:
        return [i for i in self.issues if i.kind == "error"]

    @property
    def zone(self) -> str | None:
        return zone_of(self.device)

    @property
    def backup_confirmed(self) -> bool:
        """Whether the backup's PIN is on the lock, so it may be given to the guest."""
        return self.backup is not None and self.backup.get("status") == "set"


def zone_of(device: Wire | None) -> str | None:
    """The lock's IANA time zone, or None (times are then shown in UTC)."""
    if device is None:
        return None
    zone: str | None = device.get("location", {}).get("time_zone")
    return zone


# -- reading through the services --------------------------------------------------------------


def all_devices(deps: Deps, ws: str) -> list[Wire]:
    return every_item(lambda p: devices.list_devices(deps, ws, p), {})


def managed_codes(deps: Deps, ws: str, **p: Any) -> list[Wire]:
    return every_item(lambda q: access_codes.list_codes(deps, ws, q), p)


def unmanaged_codes(deps: Deps, ws: str, **p: Any) -> list[Wire]:
    return every_item(lambda q: unmanaged.list_unmanaged(deps, ws, q), p)


def parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def confirmed(code: Wire, now: datetime) -> bool:
    """On the lock (or scheduled on it), or deferred to just-in-time with a clean preflight.

    Locks without native schedules only get a code shortly before it starts; until then
    preflight stands in for confirmation (promise P2), and a failed preflight is an error.
    """
    if code.get("status") == "set" or code.get("is_scheduled_on_device"):
        return True
    for mutation in code.get("pending_mutations", []):
        if mutation.get("mutation_code") == "deferring_creation":
            scheduled = parse_time(mutation.get("scheduled_at"))
            if scheduled is not None and scheduled > now:
                return True
    return False


# -- issues and their mitigations --------------------------------------------------------------


def issues_of(thing: Wire) -> list[IssueView]:
    found = []
    for kind, key in (("error", "error_code"), ("warning", "warning_code")):
        for raw in thing.get(f"{kind}s", []):
            code = raw.get(key, "unknown")
            mitigation = raw.get("mitigation") or _catalog_mitigation(code)
            action = mitigation.get("action", "none")
            described = mitigation.get("description", "")
            found.append(
                IssueView(
                    kind=kind,
                    code=code,
                    message=raw.get("message", ""),
                    created_at=raw.get("created_at"),
                    advice=advice(action, described),
                    mitigation=described,
                    automatic=bool(mitigation.get("automatic")),
                    action=action,
                    unmanaged_access_code_id=raw.get("unmanaged_access_code_id"),
                    managed_access_code_id=raw.get("managed_access_code_id"),
                )
            )
    return found


def _catalog_mitigation(code: str) -> dict[str, Any]:
    """For issues stored without their mitigation (some services write warnings directly)."""
    known = ISSUE_TYPES.get(code)
    return known.mitigation.as_wire() if known is not None else {}


def can_convert(device: Wire | None) -> bool:
    """Whether the lock's brand lets pinwarden take over codes it did not set."""
    if device is None:
        return False
    provider = device.get("device_provider") or {}
    if provider.get("device_provider_name") == "sandbox":
        profiles = [p for p in BRANDS.values() if p.device_type == device.get("device_type")]
    else:  # a real lock shows its maker's type; its provider names the profile it follows
        profiles = [
            p
            for p in REAL_LOCK_BRANDS.values()
            if p.manufacturer_display_name == provider.get("display_name")
        ]
    return all(p.capabilities.supports_unmanaged_conversion for p in profiles)


def _duplicate_actions(
    issues: list[IssueView], device: Wire | None, names: dict[str, str]
) -> list[Action]:
    """Buttons for the other code that holds this one's PIN: an unmanaged code can be taken
    over or deleted; a managed one (a converted duplicate) can be deleted."""
    actions = []
    for other in dict.fromkeys(
        i.unmanaged_access_code_id for i in issues if i.unmanaged_access_code_id
    ):
        if can_convert(device):
            actions.append(
                Action(
                    "Convert duplicate to managed",
                    f"/console/unmanaged/{other}/convert",
                    method="get",
                )
            )
        actions.append(
            Action("Delete duplicate", f"/console/unmanaged/{other}/delete", "danger", "get")
        )
    for other in dict.fromkeys(
        i.managed_access_code_id for i in issues if i.managed_access_code_id
    ):
        label = f"Delete “{names[other]}”" if other in names else "Delete the other code"
        actions.append(Action(label, f"/console/codes/{other}/delete", "danger", "get"))
    return actions


def actions_for(
    code: Wire, device: Wire | None, issues: list[IssueView], names: dict[str, str] | None = None
) -> list[Action]:
    """The buttons for the mitigations that apply to this code now."""
    cid = code["access_code_id"]
    has_error = any(i.kind == "error" for i in issues)
    retry_helps = any(i.kind == "error" and i.action not in _RETRY_DOES_NOT_HELP for i in issues)
    actions: list[Action] = []
    if code.get("status") == "removing":
        if any(i.action == "force_forget" for i in issues):
            actions.append(Action("Forget", f"/console/codes/{cid}/forget", "danger", "get"))
        if has_error:
            actions.append(Action("Retry", f"/console/codes/{cid}/retry"))
        return actions
    if code.get("is_backup_access_code_available") and not code.get("pulled_backup_access_code_id"):
        actions.append(Action("Pull backup code", f"/console/codes/{cid}/pull-backup", "primary"))
    edit = next((_EDIT_LABELS[i.action] for i in issues if i.action in _EDIT_LABELS), "Edit")
    actions.append(Action(edit, f"/console/codes/{cid}/edit", method="get"))
    actions += _duplicate_actions(issues, device, names or {})
    if retry_helps:
        actions.append(Action("Retry", f"/console/codes/{cid}/retry"))
    actions.append(Action("Delete", f"/console/codes/{cid}/delete", "danger", "get"))
    return actions


def code_view(
    deps: Deps, ws: str, code: Wire, device: Wire | None, names: dict[str, str] | None = None
) -> CodeView:
    issues = issues_of(code)
    backup = None
    if code.get("pulled_backup_access_code_id"):
        try:
            backup = access_codes.get(
                deps, ws, {"access_code_id": code["pulled_backup_access_code_id"]}
            )
        except ServiceError:  # the backup has already been removed from the lock
            backup = None
    return CodeView(code, device, issues, actions_for(code, device, issues, names), backup)


def code_names(codes: list[Wire]) -> dict[str, str]:
    """Access code id to the name shown for it."""
    return {c["access_code_id"]: c.get("name") or "Unnamed code" for c in codes}
