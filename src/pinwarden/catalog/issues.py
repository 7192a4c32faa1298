"""Every error and warning pinwarden raises, with its recommended mitigation.

Data, not branches: the planner and the API look codes up here. Wording is pinwarden's own;
the facts come from the founding document (shared/spec/seed-recommended-mitigations.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["error", "warning"]
Scope = Literal["access_code", "device", "connected_account"]
OnCodes = Literal["all", "pool", "none"]


@dataclass(frozen=True, slots=True)
class Mitigation:
    action: str  # machine-readable: what to do (`pull_backup_access_code`, `free_slots`, ...)
    automatic: bool  # pinwarden carries this part out itself
    description: str

    def as_wire(self) -> dict[str, Any]:
        return {"action": self.action, "automatic": self.automatic, "description": self.description}


@dataclass(frozen=True, slots=True)
class IssueType:
    code: str
    kind: Kind
    scope: Scope
    message: str  # default message; the planner may give a more specific one
    mitigation: Mitigation
    seed: bool = False  # one of the thirteen codes of the founding document
    # A device issue shown on the lock's access codes too: "all" (the lock cannot be
    # reached, so no code on it can be managed; Seam copies these), "pool" (only on codes
    # that use the backup pool), "none".
    on_codes: OnCodes = "none"

    def shown_on(self, uses_backup_pool: bool) -> bool:
        """Whether this device issue is copied onto a code of the lock."""
        return self.on_codes == "all" or (self.on_codes == "pool" and uses_backup_pool)


def _t(
    code: str,
    kind: Kind,
    message: str,
    action: str,
    automatic: bool,
    description: str,
    *,
    scope: Scope = "access_code",
    seed: bool = False,
    on_codes: OnCodes = "none",
) -> IssueType:
    mitigation = Mitigation(action, automatic, description)
    return IssueType(code, kind, scope, message, mitigation, seed, on_codes)


_CONNECTIVITY = (
    "Check that the lock has a stable connection, for example by locking and unlocking it "
    "through the API, and fix whatever makes it drop off. pinwarden keeps trying and finishes "
    "the change as soon as the lock answers."
)
_FREE_SLOTS = (
    "Delete access codes you no longer need from this lock, preferably through pinwarden so "
    "its records stay right; the code is programmed as soon as a slot is free."
)

ISSUE_TYPES: dict[str, IssueType] = {
    t.code: t
    for t in (
        _t(
            "failed_to_set_on_device",
            "error",
            "The code could not be programmed on the lock.",
            "pull_backup_access_code",
            False,
            "Read this message for the specific cause. If the guest needs to get in before it is "
            "fixed, pull a backup access code (POST /access_codes/pull_backup_access_code). "
            "pinwarden keeps retrying with backoff.",
            seed=True,
        ),
        _t(
            "failed_to_remove_from_device",
            "error",
            "The code could not be removed from the lock.",
            "check_provider_app",
            False,
            "Check in the lock maker's app whether the code is still on the lock; another system may "
            "already have deleted it. pinwarden keeps retrying and clears this error as soon as a "
            "read-back shows the code gone.",
            seed=True,
        ),
        _t(
            "code_modified_external_to_seam",
            "error",
            "The code was changed or removed on the lock outside pinwarden.",
            "reset_access_code",
            True,
            "pinwarden puts the code back as it should be. If the change was intended, delete and "
            "re-create the code through pinwarden, or convert the external code to a managed one; "
            "set allow_external_modification to keep such changes.",
            seed=True,
        ),
        _t(
            "august_device_programming_delay",
            "warning",
            "The lock accepted the code but it has not appeared on the lock yet.",
            "check_connectivity",
            True,
            _CONNECTIVITY,
            seed=True,
        ),
        _t(
            "august_device_slots_full",
            "error",
            "Every code slot on the lock is taken.",
            "free_slots",
            False,
            _FREE_SLOTS,
            seed=True,
        ),
        _t(
            "august_lock_bad_access_code_format",
            "error",
            "The PIN or name does not meet this lock's requirements.",
            "fix_code_format",
            True,
            "Change the code or name to meet the lock's rules (see the device's code_constraints "
            "and supported_code_lengths). A PIN that pinwarden generated is regenerated "
            "automatically.",
            seed=True,
        ),
        _t(
            "august_lock_temporarily_offline",
            "warning",
            "The lock was offline while programming.",
            "check_connectivity",
            True,
            _CONNECTIVITY,
            seed=True,
        ),
        _t(
            "duplicate_code_on_device",
            "error",
            "Another code on the lock has the same PIN.",
            "remove_or_convert_duplicate",
            False,
            "Find the other code with this PIN: unmanaged_access_code_id names a code found on "
            "the lock (delete it, or convert it to a managed code), managed_access_code_id "
            "another code pinwarden manages (delete one of the two, or give one another PIN). "
            "Or give this code another PIN. pinwarden does not retry blindly while the duplicate "
            "is there.",
            seed=True,
        ),
        _t(
            "salto_site_user_not_subscribed",
            "error",
            "The Salto site has reached its subscription's user limit.",
            "check_subscription",
            False,
            "Check the user's subscription and the site's subscription limit in Salto; pinwarden "
            "retries when the limit changes.",
            seed=True,
        ),
        _t(
            "smartthings_failed_to_set_after_multiple_retries",
            "error",
            "Setting the code failed repeatedly and pinwarden stopped retrying.",
            "disable_third_party_manager",
            False,
            "Look for codes written by other software that manages this lock; RBoy Apps are the "
            "usual cause. Disable such apps for locks managed here, then retry the code "
            "(POST /access_codes/retry).",
            seed=True,
        ),
        _t(
            "smartthings_no_free_slots_available",
            "error",
            "No free code slot on the lock.",
            "free_slots",
            False,
            _FREE_SLOTS + " SmartThings keeps 3 codes of its own on the lock besides these.",
            seed=True,
        ),
        _t(
            "kwikset_unable_to_confirm_code",
            "error",
            "The code was sent but the lock does not confirm it.",
            "change_pin",
            False,
            "This is usually a duplicate PIN set outside pinwarden. Give the code a new PIN "
            "(POST /access_codes/update with a new code).",
            seed=True,
        ),
        _t(
            "kwikset_unable_to_confirm_deletion",
            "error",
            "The removal was sent but the lock does not confirm it.",
            "force_forget",
            False,
            "Open the Kwikset app on a phone connected to the lock over Bluetooth. If the code is "
            "not listed it is already gone: drop pinwarden's record with POST "
            "/access_codes/force_forget. Otherwise pinwarden keeps trying to confirm.",
            seed=True,
        ),
        _t(
            "delay_in_setting_on_device",
            "warning",
            "Programming the code is taking longer than usual.",
            "wait",
            True,
            "pinwarden keeps trying; this clears when the code is on the lock.",
        ),
        _t(
            "delay_in_removing_from_device",
            "warning",
            "Removing the code is taking longer than usual.",
            "wait",
            True,
            "pinwarden keeps trying; this clears when the code is gone.",
        ),
        _t(
            "third_party_integration_detected",
            "warning",
            "Another app appears to be managing codes on this lock.",
            "disable_third_party_manager",
            False,
            "Disable other software that writes codes to this lock (RBoy Apps, Operto).",
        ),
        _t(
            "using_backup_access_code",
            "warning",
            "A backup access code was pulled and stands in for this code.",
            "share_backup_code",
            False,
            "Give the guest the backup code (pulled_backup_access_code_id).",
        ),
        _t(
            "being_deleted",
            "warning",
            "The code is being deleted.",
            "wait",
            True,
            "pinwarden removes it from the lock and confirms the removal.",
        ),
        _t(
            "external_modification_in_effect",
            "warning",
            "The code was changed on the lock outside pinwarden and the change is kept.",
            "none",
            False,
            "External changes are allowed for this code; update the code through pinwarden to "
            "take control again.",
        ),
        _t(
            "no_space_for_access_code_on_device",
            "error",
            "No free code slot on the lock.",
            "free_slots",
            False,
            _FREE_SLOTS,
        ),
        _t(
            "insufficient_permissions",
            "error",
            "The account lacks permission to manage PINs.",
            "grant_permissions",
            False,
            "Give the connected account admin rights on the lock.",
        ),
        _t(
            "access_code_inactive",
            "error",
            "The code is on the lock but disabled.",
            "reset_access_code",
            True,
            "pinwarden re-enables the code.",
        ),
        _t(
            "provider_issue",
            "error",
            "The lock's provider reported a problem.",
            "read_message",
            False,
            "Read the message for the provider's explanation.",
        ),
        _t(
            "device_offline",
            "error",
            "The lock is offline.",
            "check_connectivity",
            True,
            _CONNECTIVITY,
            scope="device",
            on_codes="all",
        ),
        _t(
            "device_removed",
            "error",
            "The lock was removed.",
            "none",
            False,
            "The lock is gone from its account; its codes can no longer be managed.",
            scope="device",
            on_codes="all",
        ),
        _t(
            "device_disconnected",
            "error",
            "The lock is disconnected.",
            "check_connectivity",
            True,
            _CONNECTIVITY,
            scope="device",
            on_codes="all",
        ),
        _t(
            "hub_disconnected",
            "error",
            "The lock's hub is disconnected.",
            "check_connectivity",
            True,
            _CONNECTIVITY,
            scope="device",
            on_codes="all",
        ),
        _t(
            "account_disconnected",
            "error",
            "The connected account is disconnected.",
            "reconnect_account",
            False,
            "Reconnect the account.",
            scope="connected_account",
            on_codes="all",
        ),
        _t(
            "empty_backup_access_code_pool",
            "error",
            "The lock has no backup code to pull.",
            "free_slots",
            True,
            "pinwarden refills the pool when slots allow; free slots on the lock if it cannot.",
            scope="device",
            on_codes="pool",
        ),
        _t(
            "partial_backup_access_code_pool",
            "warning",
            "The backup pool is not full.",
            "wait",
            True,
            "pinwarden is refilling the pool.",
            scope="device",
        ),
        _t(
            "many_active_backup_codes",
            "warning",
            "Many backup codes are in use on this lock.",
            "investigate_failures",
            False,
            "Find out why codes on this lock keep needing backups.",
            scope="device",
        ),
        _t(
            "max_access_codes_reached",
            "warning",
            "The lock holds as many codes as it can.",
            "free_slots",
            False,
            _FREE_SLOTS,
            scope="device",
        ),
        # pinwarden's circuit breaker, under Seam's code for a lock that seems unresponsive
        # (it was `circuit_breaker_open`); `device_offline` says the lock is unreachable.
        _t(
            "device_communication_degraded",
            "warning",
            "pinwarden paused programming this lock after repeated failures.",
            "retry",
            False,
            "Fix the cause named in this message, then retry (POST /access_codes/retry or the "
            "console's Retry button); pinwarden also tries again on its own later.",
            scope="device",
        ),
    )
}


def issue_type(code: str) -> IssueType:
    found = ISSUE_TYPES.get(code)
    if found is None:
        raise KeyError(f"unknown issue code {code!r}; add it to catalog/issues.py")
    return found


SEED_CODES: tuple[str, ...] = tuple(c for c, t in ISSUE_TYPES.items() if t.seed)


def markdown_table() -> str:
    """The README's table of every issue code, its kind and its recommended mitigation."""
    rows = ["| code | kind | on | mitigation (`action`) | automatic |", "|---|---|---|---|---|"]
    for t in ISSUE_TYPES.values():
        seed = " (seed)" if t.seed else ""
        rows.append(
            f"| `{t.code}`{seed} | {t.kind} | {t.scope.replace('_', ' ')} | "
            f"{t.mitigation.description} (`{t.mitigation.action}`) | "
            f"{'yes' if t.mitigation.automatic else 'no'} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
