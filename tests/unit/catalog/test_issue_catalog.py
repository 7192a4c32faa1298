"""The issue catalog covers every code the product promises, each with a mitigation."""

from __future__ import annotations

from pinwarden.catalog.issues import ISSUE_TYPES, SEED_CODES, markdown_table

# shared/spec/seed-recommended-mitigations.md
SEED = {
    "failed_to_set_on_device",
    "failed_to_remove_from_device",
    "code_modified_external_to_seam",
    "august_device_programming_delay",
    "august_device_slots_full",
    "august_lock_bad_access_code_format",
    "august_lock_temporarily_offline",
    "duplicate_code_on_device",
    "salto_site_user_not_subscribed",
    "smartthings_failed_to_set_after_multiple_retries",
    "smartthings_no_free_slots_available",
    "kwikset_unable_to_confirm_code",
    "kwikset_unable_to_confirm_deletion",
}
# shared/spec/issue-catalog.md, "Generic codes the system also needs"
GENERIC = {
    "delay_in_setting_on_device",
    "delay_in_removing_from_device",
    "third_party_integration_detected",
    "using_backup_access_code",
    "being_deleted",
    "external_modification_in_effect",
    "no_space_for_access_code_on_device",
    "insufficient_permissions",
    "access_code_inactive",
    "provider_issue",
    "device_offline",
    "device_disconnected",
    "hub_disconnected",
    "account_disconnected",
    "empty_backup_access_code_pool",
    "partial_backup_access_code_pool",
    "many_active_backup_codes",
    "max_access_codes_reached",
}


def test_every_seed_and_generic_code_is_in_the_catalog() -> None:
    assert set(SEED_CODES) == SEED
    assert set(ISSUE_TYPES) >= (SEED | GENERIC)


def test_every_code_has_an_actionable_mitigation() -> None:
    for issue in ISSUE_TYPES.values():
        assert issue.mitigation.action and " " not in issue.mitigation.action
        assert len(issue.mitigation.description) > 20, issue.code
        assert issue.message.endswith("."), issue.code


def test_the_readme_table_is_the_catalog() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[3] / "README.md").read_text()
    assert markdown_table() in readme, "run `python -m pinwarden.catalog.issues` into README"


def test_every_code_beyond_the_seed_is_one_of_seams() -> None:
    """Clients that validate against Seam's schema accept every code pinwarden raises, but for
    the founding document's brand codes (which /openapi.json lists as pinwarden's own)."""
    from tests.seam_openapi import issue_codes

    seams = {
        ("access_code", "error"): issue_codes("access_code", "errors"),
        ("access_code", "warning"): issue_codes("access_code", "warnings"),
        ("device", "error"): issue_codes("device", "errors"),
        ("device", "warning"): issue_codes("device", "warnings"),
        ("connected_account", "error"): issue_codes("connected_account", "errors"),
    }
    own = [
        t.code
        for t in ISSUE_TYPES.values()
        if not t.seed and t.code not in seams[(t.scope, t.kind)]
    ]
    assert own == []
