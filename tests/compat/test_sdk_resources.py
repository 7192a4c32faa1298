"""Seam's Python SDK reading devices, locks, connected accounts, action attempts and events,
and surfacing pinwarden's errors as its own exception types."""

from __future__ import annotations

import pytest
from seam import Seam
from seam.exceptions import SeamHttpApiError, SeamHttpInvalidInputError, SeamHttpUnauthorizedError

from tests.support import Api
from tests.workspaces import second_workspace

SINCE = "2026-01-01T00:00:00.000Z"


def test_an_app_reads_and_renames_devices(seam: Seam, sqlite_api: Api) -> None:
    devices = seam.devices.list()
    assert sorted(d.device_id for d in devices) == sorted(sqlite_api.devices.values())
    device_id = sqlite_api.devices["kwikset"]
    device = seam.devices.get(device_id=device_id)
    assert device.device_type == "kwikset_lock" and device.properties.online is True
    assert seam.devices.get(name=device.display_name).device_id == device_id
    seam.devices.update(device_id=device_id, name="Side gate", custom_metadata={"unit": "4"})
    renamed = seam.devices.get(device_id=device_id)
    assert (renamed.display_name, renamed.custom_metadata) == ("Side gate", {"unit": "4"})
    assert [d.device_id for d in seam.devices.list(device_ids=[device_id])] == [device_id]


def test_an_app_reads_locks(seam: Seam, sqlite_api: Api) -> None:
    locks = seam.locks.list()
    assert len(locks) == len(sqlite_api.devices)
    lock = seam.locks.get(device_id=sqlite_api.devices["schlage"])
    assert lock.device_type == "schlage_lock"
    assert lock.properties.supported_code_lengths == [4]


def test_an_app_reads_connected_accounts(seam: Seam, sqlite_api: Api) -> None:
    accounts = seam.connected_accounts.list()
    assert len(accounts) == len(sqlite_api.devices)
    device = seam.devices.get(device_id=sqlite_api.devices["yale"])
    account = seam.connected_accounts.get(connected_account_id=device.connected_account_id)
    assert account.connected_account_id == device.connected_account_id
    assert account.display_name.startswith("Yale")


def test_an_app_reads_action_attempts(seam: Seam, sqlite_api: Api) -> None:
    code = seam.access_codes.create(device_id=sqlite_api.devices["august"], code="4821")
    seam.access_codes.delete(access_code_id=code.access_code_id)
    attempts = seam.action_attempts.list()
    assert [a.action_type for a in attempts] == ["CREATE_ACCESS_CODE", "DELETE_ACCESS_CODE"]
    got = seam.action_attempts.get(action_attempt_id=attempts[0].action_attempt_id)
    assert got.status == "success" and got.result.access_code.code == "4821"
    some = seam.action_attempts.list(action_attempt_ids=[attempts[1].action_attempt_id])
    assert [a.action_type for a in some] == ["DELETE_ACCESS_CODE"]


def test_an_app_reads_every_kind_of_event_it_is_sent(seam: Seam, sqlite_api: Api) -> None:
    august = sqlite_api.devices["august"]
    code = seam.access_codes.create(device_id=august, name="Guest", code="4821")
    sqlite_api.advance()
    sqlite_api.ok("/locks/simulate/keypad_code_entry", device_id=august, code="4821")
    sqlite_api.ok("/locks/simulate/keypad_code_entry", device_id=august, code="9999")
    seam.access_codes.update(access_code_id=code.access_code_id, name="Guest 2")
    seam.access_codes.simulate.create_unmanaged_access_code(
        device_id=august, name="Cleaner", code="5511"
    )
    events = seam.events.list(since=SINCE)
    kinds = [e.event_type for e in events]
    for expected in (
        "access_code.created",
        "access_code.set_on_device",
        "lock.unlocked",
        "lock.access_denied",
        "access_code.changed",
        "access_code.unmanaged.created",
    ):
        assert expected in kinds
    denied = next(e for e in events if e.event_type == "lock.access_denied")
    assert denied.reason.reason_code == "unknown_code"
    created = next(e for e in events if e.event_type == "access_code.created")
    assert seam.events.get(event_id=created.event_id).access_code_id == code.access_code_id
    for_code = seam.events.list(since=SINCE, access_code_id=code.access_code_id)
    assert {e.access_code_id for e in for_code} == {code.access_code_id}


def test_invalid_input_becomes_the_sdks_invalid_input_error(seam: Seam, sqlite_api: Api) -> None:
    with pytest.raises(SeamHttpInvalidInputError) as caught:
        seam.access_codes.create(
            device_id=sqlite_api.devices["august"],
            code="12",
            starts_at="2026-12-05T00:00:00Z",
            ends_at="2026-12-04T00:00:00Z",
        )
    err = caught.value
    assert (err.status_code, err.code) == (400, "invalid_input")
    assert err.get_validation_error_messages("code")
    assert {e.parameter_name for e in err.validation_errors} == {"code"}
    assert err.request_id


def test_a_duplicate_pin_becomes_an_api_error_with_its_type(seam: Seam, sqlite_api: Api) -> None:
    seam.access_codes.create(device_id=sqlite_api.devices["august"], code="4821")
    with pytest.raises(SeamHttpApiError) as caught:
        seam.access_codes.create(device_id=sqlite_api.devices["august"], code="4821")
    assert (caught.value.status_code, caught.value.code) == (409, "duplicate_access_code")


def test_missing_things_become_not_found_errors(seam: Seam, sqlite_api: Api) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    calls = [
        (lambda: seam.access_codes.get(access_code_id=unknown), "access_code_not_found"),
        (lambda: seam.access_codes.delete(access_code_id=unknown), "access_code_not_found"),
        (lambda: seam.devices.get(device_id=unknown), "device_not_found"),
        (lambda: seam.locks.get(device_id=unknown), "device_not_found"),
        (lambda: seam.action_attempts.get(action_attempt_id=unknown), "action_attempt_not_found"),
        (
            lambda: seam.connected_accounts.get(connected_account_id=unknown),
            "connected_account_not_found",
        ),
        (lambda: seam.events.get(event_id=unknown), "event_not_found"),
    ]
    for call, error_type in calls:
        with pytest.raises(SeamHttpApiError) as caught:
            call()
        assert (caught.value.status_code, caught.value.code) == (404, error_type)


def test_an_unknown_key_becomes_the_sdks_unauthorized_error(sqlite_api: Api) -> None:
    with (
        Seam(api_key="seam_unknown_key", endpoint=sqlite_api.url) as stranger,
        pytest.raises(SeamHttpUnauthorizedError),
    ):
        stranger.devices.list()


def test_another_workspaces_codes_are_invisible_to_the_sdk(seam: Seam, sqlite_api: Api) -> None:
    mine = seam.access_codes.create(device_id=sqlite_api.devices["august"], code="4821")
    with (
        second_workspace(sqlite_api) as other,
        Seam(api_key=other.api_key, endpoint=other.url) as theirs,
    ):
        with pytest.raises(SeamHttpApiError) as caught:
            theirs.access_codes.get(access_code_id=mine.access_code_id)
        assert caught.value.status_code == 404
        assert theirs.access_codes.list(device_id=sqlite_api.devices["august"]) == []
        assert sqlite_api.devices["august"] not in {d.device_id for d in theirs.devices.list()}
