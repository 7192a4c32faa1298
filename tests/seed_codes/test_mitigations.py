"""The mitigations around the seed codes: backup access codes, automatic repairs, operator
actions."""

from __future__ import annotations

from datetime import timedelta

from tests.seed_codes.test_seed_codes import DAY, HOUR, Stay, iso
from tests.support import Api


def pool(api: Api, brand: str) -> list[dict[str, object]]:
    slots = api.ok("/devices/simulate/list_device_codes", device_id=api.devices[brand])
    return [s for s in slots["device_codes"] if (s["name"] or "").startswith("Backup")]


def test_backup_pool_is_programmed_and_a_backup_can_be_pulled(sqlite_api: Api) -> None:
    api = sqlite_api
    stay = Stay(api, "yale", use_backup_access_code_pool=True)
    api.advance(60)
    assert len(pool(api, "yale")) == 2
    assert stay.get()["is_backup_access_code_available"] is True
    pulled = api.ok("/access_codes/pull_backup_access_code", access_code_id=stay.id)
    backup = pulled["backup_access_code"]
    assert pulled["access_code"] == backup
    assert backup["is_backup"] is True and backup["status"] == "set"
    assert backup["ends_at"] == stay.code["ends_at"]
    original = stay.get()
    assert original["pulled_backup_access_code_id"] == backup["access_code_id"]
    assert "using_backup_access_code" in {w["warning_code"] for w in original["warnings"]}
    again = api.ok("/access_codes/pull_backup_access_code", access_code_id=stay.id)
    assert again["backup_access_code"]["access_code_id"] == backup["access_code_id"]
    events = api.ok("/events/list", since="2000-01-01T00:00:00Z", access_code_id=stay.id)["events"]
    pulls = [e for e in events if e["event_type"] == "access_code.backup_access_code_pulled"]
    assert len(pulls) == 1 and pulls[0]["backup_access_code_id"] == backup["access_code_id"]
    api.advance(60)
    assert len(pool(api, "yale")) == 3  # refilled: two unpulled backups plus the pulled one
    entry = api.ok(
        "/locks/simulate/keypad_code_entry", device_id=stay.device_id, code=backup["code"]
    )["action_attempt"]
    assert entry["result"]["access_code_id"] == backup["access_code_id"]


def test_pulled_backup_is_removed_when_the_stay_ends(sqlite_api: Api) -> None:
    api = sqlite_api
    stay = Stay(api, "yale", use_backup_access_code_pool=True)
    api.advance(60)
    backup = api.ok("/access_codes/pull_backup_access_code", access_code_id=stay.id)["access_code"]
    api.advance(14 * DAY)
    assert backup["code"] not in [s["code"] for s in pool(api, "yale")]
    assert api.post("/access_codes/get", access_code_id=backup["access_code_id"]).status_code == 404


def test_backup_pool_is_refused_on_brands_without_one(sqlite_api: Api) -> None:
    api = sqlite_api
    start = api.now() + timedelta(days=2)
    response = api.post(
        "/access_codes/create",
        device_id=api.devices["igloohome"],
        starts_at=iso(start),
        ends_at=iso(start + timedelta(days=1)),
        use_backup_access_code_pool=True,
    )
    assert response.status_code == 400
    assert "backup" in response.json()["error"]["message"]


def test_empty_pool_is_a_device_error(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["august"]
    api.ok("/devices/simulate/set_faults", device_id=device, fail_next_sets=1000)
    Stay(api, "august", use_backup_access_code_pool=True)
    api.advance(60)
    warnings = api.ok("/devices/get", device_id=device)["device"]["errors"]
    assert "empty_backup_access_code_pool" in {w["error_code"] for w in warnings}
    api.ok("/devices/simulate/set_faults", device_id=device, fail_next_sets=0)
    api.advance(HOUR)
    found = api.ok("/devices/get", device_id=device)["device"]
    assert found["errors"] == [] and found["warnings"] == []


def test_backup_is_pulled_automatically_when_a_code_misses_its_start(sqlite_api: Api) -> None:
    api = sqlite_api
    from pinwarden.store.schema import workspaces

    with api.runtime.deps.store.begin() as conn:
        conn.execute(workspaces.update().values(policy={"auto_pull_backup_on_failure": True}))
    stay = Stay(api, "yale", use_backup_access_code_pool=True)
    api.advance(60)
    api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=stay.device_id,
        name="Owner",
        code="2580",
    )
    api.ok("/access_codes/update", access_code_id=stay.id, code="2580")  # now a duplicate
    api.advance((stay.starts_at - api.now()).total_seconds() + 60)
    original = stay.get()
    assert original["pulled_backup_access_code_id"]
    events = api.ok("/events/list", since="2000-01-01T00:00:00Z", access_code_id=stay.id)["events"]
    assert "access_code.backup_access_code_pulled" in [e["event_type"] for e in events]


def test_generated_pin_that_breaks_a_new_rule_is_regenerated(sqlite_api: Api) -> None:
    api = sqlite_api
    stay = Stay(api, "yale")  # no PIN given: pinwarden generates one
    first = stay.get()["code"]
    wanted = 8 if len(first) != 8 else 7
    api.ok(
        "/access_codes/report_device_constraints",
        device_id=stay.device_id,
        supported_code_lengths=[wanted],
    )
    api.advance(60)
    fresh = stay.get()
    assert len(fresh["code"]) == wanted and fresh["errors"] == []
    events = api.ok("/events/list", since="2000-01-01T00:00:00Z", access_code_id=stay.id)["events"]
    assert any(e["event_type"] == "access_code.changed" for e in events)


def test_forgetting_an_unconfirmable_removal_drops_the_record(sqlite_api: Api) -> None:
    api = sqlite_api
    stay = Stay(api, "kwikset", code="4821")
    api.advance(DAY + HOUR)
    stay.faults(unconfirmable_removes=True)
    api.ok("/access_codes/delete", access_code_id=stay.id)
    api.advance(HOUR)
    assert "kwikset_unable_to_confirm_deletion" in {e["error_code"] for e in stay.get()["errors"]}
    api.ok("/access_codes/force_forget", access_code_id=stay.id)
    api.advance(HOUR)
    assert api.post("/access_codes/get", access_code_id=stay.id).status_code == 404
    # The lock still lists the PIN: it is shown as an unmanaged code, not hidden.
    unmanaged = api.ok("/access_codes/unmanaged/list", device_id=stay.device_id)["access_codes"]
    assert [c["code"] for c in unmanaged] == ["4821"]


def test_force_forget_refuses_a_code_that_is_not_being_removed(sqlite_api: Api) -> None:
    api = sqlite_api
    stay = Stay(api, "kwikset")
    response = api.post("/access_codes/force_forget", access_code_id=stay.id)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "access_code_not_being_removed"


def test_smartthings_stops_retrying_after_repeated_failures(sqlite_api: Api) -> None:
    api = sqlite_api
    device = api.devices["smartthings"]
    api.ok("/devices/simulate/set_faults", device_id=device, fail_next_sets=1000)
    code = api.ok("/access_codes/create", device_id=device, name="Guest", code="4821")[
        "access_code"
    ]
    api.advance(DAY)
    fresh = api.ok("/access_codes/get", access_code_id=code["access_code_id"])["access_code"]
    assert "smartthings_failed_to_set_after_multiple_retries" in {
        e["error_code"] for e in fresh["errors"]
    }
    faults = api.ok("/devices/simulate/get_faults", device_id=device)["faults"]
    attempts_used = 1000 - faults["fail_next_sets"]
    api.advance(DAY)
    later = api.ok("/devices/simulate/get_faults", device_id=device)["faults"]
    assert 1000 - later["fail_next_sets"] == attempts_used <= 5  # no retry storm
