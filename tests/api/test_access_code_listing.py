"""The access_code object, and how /access_codes/list filters and pages through codes."""

from __future__ import annotations

from typing import Any

from tests.api import expect
from tests.support import Api

REQUIRED = {
    "access_code_id": str,
    "workspace_id": str,
    "device_id": str,
    "common_code_key": (str, type(None)),
    "type": str,
    "name": (str, type(None)),
    "code": (str, type(None)),
    "created_at": str,
    "errors": list,
    "warnings": list,
    "is_managed": bool,
    "status": str,
    "is_backup_access_code_available": bool,
    "is_external_modification_allowed": bool,
    "is_one_time_use": bool,
    "is_offline_access_code": bool,
    "pending_mutations": list,
}


def _create(api: Api, brand: str = "yale", **body: Any) -> dict[str, Any]:
    return api.ok("/access_codes/create", device_id=api.devices[brand], **body)["access_code"]


def _ids(codes: list[dict[str, Any]]) -> list[str]:
    return [c["access_code_id"] for c in codes]


def test_an_access_code_has_every_field_seam_requires(api: Api) -> None:
    created = _create(api, name="Guest", code="4821")
    got = api.ok("/access_codes/get", access_code_id=created["access_code_id"])["access_code"]
    listed = api.ok("/access_codes/list", device_id=api.devices["yale"])["access_codes"]
    for code in (created, got, listed[0]):
        for field, kind in REQUIRED.items():
            assert isinstance(code[field], kind), (field, code.get(field))
        assert code["is_managed"] is True
        assert code["workspace_id"] == api.workspace_id
        assert code["created_at"] == "2026-12-01T12:00:00.000Z"
    assert created["pending_mutations"][0]["mutation_code"] == "creating"


def test_a_code_with_both_times_is_time_bound_and_without_is_ongoing(api: Api) -> None:
    ongoing = _create(api, code="4821")
    bound = _create(
        api, code="5932", starts_at="2026-12-02T15:00:00+01:00", ends_at="2026-12-03T10:00:00Z"
    )
    assert (ongoing["type"], ongoing["starts_at"], ongoing["ends_at"]) == ("ongoing", None, None)
    assert bound["type"] == "time_bound"
    assert (bound["starts_at"], bound["ends_at"]) == (
        "2026-12-02T14:00:00.000Z",
        "2026-12-03T10:00:00.000Z",
    )


def test_a_code_can_be_fetched_by_device_and_pin(sqlite_api: Api) -> None:
    created = _create(sqlite_api, code="4821")
    got = sqlite_api.ok("/access_codes/get", device_id=sqlite_api.devices["yale"], code="4821")
    assert got["access_code"]["access_code_id"] == created["access_code_id"]
    missing = sqlite_api.post(
        "/access_codes/get", device_id=sqlite_api.devices["yale"], code="1357"
    )
    expect.error(missing, 404, "access_code_not_found")


def test_list_filters_by_device(sqlite_api: Api) -> None:
    on_yale = _create(sqlite_api, "yale", code="4821")
    _create(sqlite_api, "august", code="4821")
    listed = sqlite_api.ok("/access_codes/list", device_id=sqlite_api.devices["yale"])[
        "access_codes"
    ]
    assert _ids(listed) == [on_yale["access_code_id"]]


def test_list_filters_by_access_code_ids(api: Api) -> None:
    codes = [_create(api, code=pin) for pin in ("4821", "5932", "6043")]
    wanted = [codes[0]["access_code_id"], codes[2]["access_code_id"]]
    listed = api.ok("/access_codes/list", access_code_ids=wanted)["access_codes"]
    assert sorted(_ids(listed)) == sorted(wanted)
    assert api.ok("/access_codes/list", access_code_ids=[])["access_codes"] == []


def test_filters_combine(sqlite_api: Api) -> None:
    on_yale = _create(sqlite_api, "yale", code="4821")
    on_august = _create(sqlite_api, "august", code="5932")
    both = [on_yale["access_code_id"], on_august["access_code_id"]]
    listed = sqlite_api.ok(
        "/access_codes/list", device_id=sqlite_api.devices["august"], access_code_ids=both
    )
    assert _ids(listed["access_codes"]) == [on_august["access_code_id"]]


def test_search_matches_part_of_a_name_a_pin_or_an_id(api: Api) -> None:
    guest = _create(api, name="Guest Smith", code="4821")
    cleaner = _create(api, name="Cleaner", code="59320746")
    assert _ids(api.ok("/access_codes/list", search="smith")["access_codes"]) == [
        guest["access_code_id"]
    ]
    # Seven digits: a string that long is not found in a random UUID by chance.
    assert _ids(api.ok("/access_codes/list", search="9320746")["access_codes"]) == [
        cleaner["access_code_id"]
    ]
    by_id = api.ok("/access_codes/list", search=cleaner["access_code_id"][:13])
    assert _ids(by_id["access_codes"]) == [cleaner["access_code_id"]]


def test_search_treats_percent_and_underscore_as_plain_text(api: Api) -> None:
    discount = _create(api, name="50% off", code="4821")
    _create(api, name="Cleaner", code="5932")
    _create(api, name="Guest", code="6043")
    assert _ids(api.ok("/access_codes/list", search="%")["access_codes"]) == [
        discount["access_code_id"]
    ]
    assert api.ok("/access_codes/list", search="_")["access_codes"] == []


def test_backup_codes_are_not_listed(sqlite_api: Api) -> None:
    window = {"starts_at": "2026-12-01T13:00:00Z", "ends_at": "2026-12-03T00:00:00Z"}
    code = _create(sqlite_api, "august", code="4821", use_backup_access_code_pool=True, **window)
    sqlite_api.advance(3600)
    on_lock = sqlite_api.ok("/devices/simulate/list_device_codes", device_id=code["device_id"])
    assert len(on_lock["device_codes"]) > 1, "the pool is programmed beside the code"
    listed = sqlite_api.ok("/access_codes/list", device_id=code["device_id"])["access_codes"]
    assert _ids(listed) == [code["access_code_id"]]


def test_pages_follow_each_other_without_gaps_or_repeats(api: Api) -> None:
    created = [_create(api, code=f"48{n}19") for n in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"device_id": api.devices["yale"], "limit": 2}
        if cursor:
            params["page_cursor"] = cursor
        body = api.ok("/access_codes/list", **params)
        seen += _ids(body["access_codes"])
        pages += 1
        pagination = body["pagination"]
        assert pagination["next_page_url"] is None
        cursor = pagination["next_page_cursor"]
        assert pagination["has_next_page"] is (cursor is not None)
        if not cursor:
            break
    assert pages == 3
    assert seen == _ids(created)


def test_one_page_holds_everything_by_default(sqlite_api: Api) -> None:
    for n in range(3):
        _create(sqlite_api, code=f"48{n}19")
    body = sqlite_api.ok("/access_codes/list", device_id=sqlite_api.devices["yale"])
    assert len(body["access_codes"]) == 3
    assert body["pagination"] == {
        "has_next_page": False,
        "next_page_cursor": None,
        "next_page_url": None,
    }


def test_a_cursor_with_changed_filters_is_mismatched_page_parameters(sqlite_api: Api) -> None:
    for n in range(3):
        _create(sqlite_api, code=f"48{n}19")
    params = {"device_id": sqlite_api.devices["yale"], "limit": 1}
    cursor = sqlite_api.ok("/access_codes/list", **params)["pagination"]["next_page_cursor"]
    for changed in ({"limit": 2}, {"search": "48"}, {"device_id": sqlite_api.devices["august"]}):
        response = sqlite_api.post(
            "/access_codes/list", **{**params, **changed}, page_cursor=cursor
        )
        err = expect.error(response, 400, "mismatched_page_parameters")
        assert "identical to the initial request" in err["message"]


def test_a_cursor_from_another_list_is_refused(sqlite_api: Api) -> None:
    cursor = sqlite_api.ok("/devices/list", limit=1)["pagination"]["next_page_cursor"]
    response = sqlite_api.post("/connected_accounts/list", limit=1, page_cursor=cursor)
    expect.error(response, 400, "mismatched_page_parameters")


def test_other_lists_page_the_same_way(api: Api) -> None:
    for n in range(3):
        _create(api, code=f"48{n}19")
    for path, key, total in (
        ("/devices/list", "devices", len(api.devices)),
        ("/connected_accounts/list", "connected_accounts", len(api.devices)),
        ("/action_attempts/list", "action_attempts", 3),
    ):
        seen: list[Any] = []
        body = api.ok(path, limit=2)
        seen += body[key]
        while body["pagination"]["has_next_page"]:
            body = api.ok(path, limit=2, page_cursor=body["pagination"]["next_page_cursor"])
            seen += body[key]
        assert len(seen) == total, path
        assert len({str(item) for item in seen}) == total, f"{path} repeated an item"
