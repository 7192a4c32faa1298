"""Events as an application reads them: Seam's types and payloads, and a problem told the
moment it is found (days before the guest arrives), with its mitigation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.seam_openapi import component_errors
from tests.support import START, Api

SINCE = "2026-01-01T00:00:00Z"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _events(api: Api, **filters: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.ok("/events/list", since=SINCE, **filters)["events"]
    return found


def _stay(days_ahead: float) -> dict[str, str]:
    starts = START + timedelta(days=days_ahead)
    return {"starts_at": _iso(starts), "ends_at": _iso(starts + timedelta(days=2))}


def test_problems_days_before_arrival_are_told_at_once_with_their_mitigation(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    stay = _stay(4.7)
    api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=api.devices["yale"],
        name="Cleaner",
        code="4821",
    )
    api.ok("/devices/simulate/disconnect", device_id=api.devices["igloohome"])
    api.ok("/devices/simulate/set_faults", device_id=api.devices["salto"], site_user_limit=0)
    wanted = {
        "august": {"code": "1234567"},  # August takes 4 to 6 digits
        "yale": {"code": "4821"},  # the cleaner's PIN
        "salto": {},  # the site's subscription has no room
        "igloohome": {"code": "739164"},  # offline
    }
    made = {
        brand: api.ok("/access_codes/create", device_id=api.devices[brand], **pin, **stay)
        for brand, pin in wanted.items()
    }
    api.advance(60)
    for brand, created in made.items():
        code = api.ok("/access_codes/get", access_code_id=created["access_code"]["access_code_id"])
        issues = code["access_code"]["errors"] + code["access_code"]["warnings"]
        assert issues, f"{brand}: the problem is on the code"
        told = [
            e
            for e in _events(api, access_code_id=code["access_code"]["access_code_id"])
            if "access_code_errors" in e
        ] or _events(api, device_id=api.devices[brand], event_type="device.disconnected")
        assert told, f"{brand}: no event says so"
        assert _when(told[0]["created_at"]) < START + timedelta(minutes=2)
        said = [
            i
            for key, found in told[0].items()
            if key.endswith(("_errors", "_warnings"))
            for i in found
        ]
        assert {i.get("error_code") or i["warning_code"] for i in said} >= {
            i.get("error_code") or i["warning_code"] for i in issues if "is_device_error" not in i
        }
        assert all(i["mitigation"]["description"] for i in said)


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _every_kind_of_event(api: Api) -> None:
    """A workspace's life that produces each event type pinwarden sends."""
    august, yale, kwikset = api.devices["august"], api.devices["yale"], api.devices["kwikset"]
    igloohome = api.devices["igloohome"]
    future = api.ok("/access_codes/create", device_id=august, code="4821", **_stay(2))
    front = api.ok("/access_codes/create", device_id=yale, code="5932")["access_code"]
    guest = api.ok(
        "/access_codes/create",
        device_id=yale,
        code="6043",
        use_backup_access_code_pool=True,
        **_stay(0.01),
    )["access_code"]
    api.ok("/devices/simulate/set_faults", device_id=august, programming_delay_seconds=-1)
    api.ok("/access_codes/create", device_id=august, code="7154")
    api.advance(600)
    api.ok("/access_codes/update", access_code_id=future["access_code"]["access_code_id"], name="B")
    unmanaged = api.ok("/access_codes/create", device_id=igloohome, code="428193")["access_code"]
    api.ok("/access_codes/update", access_code_id=unmanaged["access_code_id"], is_managed=False)
    api.ok("/access_codes/pull_backup_access_code", access_code_id=guest["access_code_id"])
    cleaner = api.ok(
        "/access_codes/simulate/create_unmanaged_access_code",
        device_id=kwikset,
        name="Cleaner",
        code="8265",
    )["access_code"]
    api.ok("/locks/simulate/keypad_code_entry", device_id=yale, code="5932")
    api.ok("/locks/simulate/keypad_code_entry", device_id=yale, code="0000")
    api.ok("/locks/simulate/manual_lock_via_keypad", device_id=yale)
    api.advance(60)
    api.ok("/access_codes/unmanaged/delete", access_code_id=cleaner["access_code_id"])
    gone = api.ok("/access_codes/create", device_id=kwikset, code="9376")["access_code"]
    changed = api.ok("/access_codes/create", device_id=kwikset, code="1487")["access_code"]
    api.advance(600)
    for code_id, change in ((gone, {"remove": True}), (changed, {"code": "2598"})):
        api.ok(
            "/access_codes/simulate/modify_external",
            access_code_id=code_id["access_code_id"],
            **change,
        )
    for lock in (kwikset, yale):
        api.ok("/devices/simulate/set_faults", device_id=lock, unconfirmable_removes=True)
    api.advance(600)
    for code in (changed, front):
        api.ok("/access_codes/delete", access_code_id=code["access_code_id"])
    api.ok("/devices/simulate/disconnect", device_id=igloohome)
    api.ok("/access_codes/create", device_id=igloohome, code="739164")
    api.advance(3600)
    api.ok("/devices/simulate/connect", device_id=igloohome)
    api.advance(3600)
    api.ok("/access_codes/delete", access_code_id=future["access_code"]["access_code_id"])
    api.advance(3 * 86_400)
    api.ok("/devices/simulate/remove", device_id=api.devices["salto"])


def test_every_event_type_follows_seams_payload(sqlite_api: Api) -> None:
    _every_kind_of_event(sqlite_api)
    events = _events(sqlite_api)
    kinds = {e["event_type"] for e in events}
    assert {
        "connected_account.connected",
        "device.added",
        "access_code.created",
        "access_code.changed",
        "access_code.scheduled_on_device",
        "access_code.set_on_device",
        "access_code.removed_from_device",
        "access_code.deleted",
        "access_code.delay_in_setting_on_device",
        "access_code.delay_in_removing_from_device",
        "access_code.failed_to_remove_from_device",
        "access_code.modified_external_to_seam",
        "access_code.deleted_external_to_seam",
        "access_code.backup_access_code_pulled",
        "access_code.unmanaged.created",
        "access_code.unmanaged.removed",
        "lock.unlocked",
        "lock.locked",
        "lock.access_denied",
        "device.disconnected",
        "device.connected",
        "device.removed",
    } <= kinds, kinds
    for event in events:
        assert component_errors("event", event) == [], event


def test_events_list_takes_seams_filters_and_can_give_the_newest_first(sqlite_api: Api) -> None:
    api = sqlite_api
    august, yale = api.devices["august"], api.devices["yale"]
    a = api.ok("/access_codes/create", device_id=august, code="4821")["access_code"]
    api.advance(60)
    b = api.ok("/access_codes/create", device_id=yale, code="5932")["access_code"]
    api.advance(60)
    both = _events(api, access_code_ids=[a["access_code_id"], b["access_code_id"]])
    assert {e["access_code_id"] for e in both} == {a["access_code_id"], b["access_code_id"]}
    assert {e["device_id"] for e in _events(api, device_ids=[yale])} == {yale}
    created = _events(api, event_types=["access_code.created", "access_code.set_on_device"])
    assert {e["event_type"] for e in created} == {
        "access_code.created",
        "access_code.set_on_device",
    }
    newest = _events(api, order="newest_first", limit=2)
    assert newest == list(reversed(_events(api)))[:2]
    # `between` is Seam's exclusive interval.
    moment = next(e for e in both if e["access_code_id"] == b["access_code_id"])["created_at"]
    assert _events(
        api, between=[moment, "2027-01-01T00:00:00Z"], access_code_id=b["access_code_id"]
    ) == [
        e for e in both if e["access_code_id"] == b["access_code_id"] and e["created_at"] > moment
    ]
    assert (
        api.ok("/events/list", between=[SINCE, moment], access_code_id=b["access_code_id"])[
            "events"
        ]
        == []
    )
