"""Changes made on the lock itself, and changes made through the API, are told apart: only
what happened outside pinwarden is reported as such, a guest's PIN never changes behind the
API's back, and a lock that masks its PINs still gets a keypad change noticed (from what it
reports, as a real lock does)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.engine.test_promises import DAY, HOUR, event_types, get, issue_codes, on_lock, stay
from tests.support import Api

EXTERNAL = {"access_code.modified_external_to_seam", "access_code.deleted_external_to_seam"}


def _code_on(api: Api, brand: str, **extra: Any) -> dict[str, Any]:
    """An ongoing code, confirmed on the lock."""
    created = api.ok("/access_codes/create", device_id=api.devices[brand], name="Guest", **extra)
    api.advance(60)
    fresh = get(api, created["access_code"])
    assert fresh["status"] == "set", fresh
    return fresh


def test_a_pin_changed_at_a_masking_schlage_keypad_is_noticed_and_put_back(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    code = _code_on(api, "schlage", code="4821")
    api.ok(
        "/access_codes/simulate/modify_external", access_code_id=code["access_code_id"], code="9371"
    )
    api.advance(60)
    assert "access_code.modified_external_to_seam" in event_types(api, code)
    assert [s["code"] for s in on_lock(api, "schlage")] == ["4821"]  # reset
    fresh = get(api, code)
    assert fresh["status"] == "set" and fresh["code"] == "4821"
    entry = api.ok(
        "/locks/simulate/keypad_code_entry", device_id=api.devices["schlage"], code="4821"
    )["action_attempt"]
    assert entry["result"]["access_code_id"] == code["access_code_id"]


def test_a_salto_pin_changed_outside_never_becomes_the_guest_pin_silently(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    code = _code_on(api, "salto")
    given = code["code"]  # the PIN the guest was told
    api.ok(
        "/access_codes/simulate/modify_external",
        access_code_id=code["access_code_id"],
        code="731946",
    )
    api.advance(HOUR)
    fresh = get(api, code)
    assert fresh["code"] == given  # not the PIN someone set at the lock
    assert "code_modified_external_to_seam" in issue_codes(fresh)
    assert fresh["status"] != "set"
    assert "access_code.modified_external_to_seam" in event_types(api, code)
    assert "access_code.changed" not in event_types(api, code)
    assert [s["code"] for s in on_lock(api, "salto")] == ["731946"]  # left as it was found
    # The operator accepts a new PIN: the lock makes one, and the API says so.
    api.ok("/access_codes/retry", access_code_id=code["access_code_id"])
    api.advance(60)
    fresh = get(api, code)
    assert fresh["status"] == "set" and fresh["code"] not in (given, "731946")
    assert "access_code.changed" in event_types(api, code)
    assert [s["code"] for s in on_lock(api, "salto")] == [fresh["code"]]


def test_a_salto_code_removed_outside_is_not_restored_with_another_pin_silently(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    code = _code_on(api, "salto")
    api.ok(
        "/access_codes/simulate/modify_external", access_code_id=code["access_code_id"], remove=True
    )
    api.advance(HOUR)
    fresh = get(api, code)
    assert fresh["code"] == code["code"]
    assert "code_modified_external_to_seam" in issue_codes(fresh)
    assert on_lock(api, "salto") == []
    assert "access_code.deleted_external_to_seam" in event_types(api, code)


def test_renames_and_pin_changes_through_the_api_are_not_outside_changes(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    for brand in ("august", "schlage", "kwikset", "smartthings"):
        code = _code_on(api, brand, code="4821" if brand != "schlage" else "5821")
        for n in range(5):
            api.ok("/access_codes/update", access_code_id=code["access_code_id"], name=f"Guest {n}")
            api.advance(60)
        new_pin = "6932"
        api.ok("/access_codes/update", access_code_id=code["access_code_id"], code=new_pin)
        api.advance(HOUR)
        fresh = get(api, code)
        assert fresh["status"] == "set" and fresh["name"] == "Guest 4", (brand, fresh)
        assert not set(event_types(api, code)) & EXTERNAL, brand
        assert issue_codes(fresh) == set(), (brand, fresh)
        assert [(s["code"], s["name"]) for s in on_lock(api, brand)] == [(new_pin, "Guest 4")]
        api.ok("/access_codes/delete", access_code_id=code["access_code_id"])
        api.advance(HOUR)


def test_a_new_pin_held_by_an_unmanaged_code_is_a_duplicate_and_the_old_pin_goes(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    device = api.devices["yale"]
    code = _code_on(api, "yale", code="4821")
    theirs = api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=device,
        name="Cleaner",
        code="5555",
    )["access_code"]
    api.advance(60)
    api.ok("/access_codes/update", access_code_id=code["access_code_id"], code="5555")
    api.advance(HOUR)
    fresh = get(api, code)
    (duplicate,) = [e for e in fresh["errors"] if e["error_code"] == "duplicate_code_on_device"]
    assert duplicate["unmanaged_access_code_id"] == theirs["access_code_id"]
    assert "earlier PIN" in duplicate["message"]
    assert "code_modified_external_to_seam" not in issue_codes(fresh)
    assert not set(event_types(api, code)) & EXTERNAL
    assert [s["code"] for s in on_lock(api, "yale")] == ["5555"]  # the old PIN does not open
    # The cleaner's code is deleted: the guest's new PIN goes on.
    api.ok("/access_codes/unmanaged/delete", access_code_id=theirs["access_code_id"])
    api.advance(HOUR)
    fresh = get(api, code)
    assert fresh["status"] == "set" and fresh["errors"] == []
    assert [s["code"] for s in on_lock(api, "yale")] == ["5555"]
    assert not set(event_types(api, code)) & EXTERNAL


def test_resolving_a_duplicate_raises_no_outside_change(sqlite_api: Api) -> None:
    api = sqlite_api
    for brand, resolve in (("august", "delete"), ("yale", "convert")):
        device = api.devices[brand]
        theirs = api.ok(
            "/access_codes/simulate/create_unmanaged_access_code",
            device_id=device,
            name="Cleaner",
            code="4821",
        )["access_code"]
        guest = stay(api, brand, timedelta(days=2), code="4821")
        api.advance(HOUR)
        assert "duplicate_code_on_device" in issue_codes(get(api, guest))
        if resolve == "delete":
            api.ok("/access_codes/unmanaged/delete", access_code_id=theirs["access_code_id"])
        else:
            api.ok(
                "/access_codes/unmanaged/convert_to_managed",
                access_code_id=theirs["access_code_id"],
            )
            api.ok("/access_codes/delete", access_code_id=theirs["access_code_id"])
        api.advance(2 * DAY + HOUR)
        fresh = get(api, guest)
        assert fresh["status"] == "set", (brand, fresh)
        for code in (guest, theirs):
            assert not set(event_types(api, code)) & EXTERNAL, (brand, event_types(api, code))


def test_a_pulled_backup_works_at_once_raises_no_alarm_and_leaves_with_the_guest(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    api.advance(3 * DAY)
    guest = stay(api, "yale", timedelta(days=1), use_backup_access_code_pool=True)
    api.advance(HOUR)
    backup = api.ok(
        "/access_codes/pull_backup_access_code", access_code_id=guest["access_code_id"]
    )["backup_access_code"]
    api.advance(60)
    fresh = get(api, backup)
    assert fresh["status"] == "set" and fresh["errors"] == [], fresh
    assert event_types(api, backup) == ["access_code.set_on_device"]  # from the pool, once
    entry = api.ok(
        "/locks/simulate/keypad_code_entry", device_id=api.devices["yale"], code=backup["code"]
    )["action_attempt"]
    assert entry["result"]["access_code_id"] == backup["access_code_id"]
    api.advance(3 * DAY + HOUR)  # past the guest's check-out
    assert backup["code"] not in [s["code"] for s in on_lock(api, "yale")]
    assert "access_code.removed_from_device" in event_types(api, backup)
