"""What to do about an issue, written for the person at the console.

The catalog's mitigation text is written for integrators (it names API calls); the console
shows it in a details element under this advice, which speaks of what the operator sees: the
lock, the guest, the buttons on the page. One entry per mitigation action, so a new issue code
with a known action needs no new text here.
"""

from __future__ import annotations

ADVICE: dict[str, str] = {
    "pull_backup_access_code": (
        "The lock refused this code; pinwarden keeps retrying by itself. If the guest may arrive "
        "before it works, pull a backup code and give the guest that PIN once it is confirmed "
        "on the lock."
    ),
    "check_provider_app": (
        "Open the lock maker's app and check whether this code is still on the lock. pinwarden "
        "keeps trying to remove it and clears this as soon as the lock shows it gone."
    ),
    "reset_access_code": (
        "Nothing to do: pinwarden puts the code back as it should be. If the change on the lock "
        "was intended, edit the code here instead."
    ),
    "check_connectivity": (
        "Check that the lock has power and a connection (Wi-Fi, hub or bridge). pinwarden "
        "finishes the change as soon as the lock answers."
    ),
    "free_slots": (
        "The lock is full. Delete codes this lock no longer needs (see its codes); this code is "
        "programmed as soon as a slot is free."
    ),
    "fix_code_format": "The lock does not accept this PIN or name. Edit the code to fit its rules.",
    "remove_or_convert_duplicate": (
        "Another code on this lock already has this PIN. Give this code another PIN, or delete "
        "the other code if nobody needs it any more."
    ),
    "check_subscription": (
        "The lock system's site subscription is full. Free a user or raise the limit in the "
        "lock system's app; pinwarden then programs the code."
    ),
    "disable_third_party_manager": (
        "Another app manages this lock's codes and undoes pinwarden's changes. Turn that app's "
        "code management off, then press Retry."
    ),
    "change_pin": (
        "The lock could not confirm this PIN. Give the guest another PIN (Edit) and pinwarden "
        "programs that one."
    ),
    "force_forget": (
        "The lock cannot confirm the removal. Check in the lock maker's app that the code is "
        "gone, then press Forget."
    ),
    "wait": "Nothing to do yet: pinwarden is on it and says so here if it needs you.",
    "share_backup_code": (
        "A backup code stands in for this one. Give the guest the backup PIN shown here once it "
        "is confirmed on the lock."
    ),
    "grant_permissions": (
        "The lock's account does not let pinwarden manage codes. Give it that permission in "
        "the lock maker's app."
    ),
    "read_message": "The lock reported a problem; the message above says what it was.",
    "reconnect_account": (
        "The lock maker's account is disconnected. Connect it again; pinwarden then catches up."
    ),
    "investigate_failures": (
        "Codes on this lock often need backups. Check its connection and batteries, and "
        "whether another app changes its codes."
    ),
    "retry": "Fix the cause named above, then press Retry (pinwarden also retries by itself).",
    "none": "",
}


def advice(action: str, fallback: str) -> str:
    """The console's words for a mitigation action; the catalog's text for an unknown one."""
    return ADVICE.get(action, fallback)
