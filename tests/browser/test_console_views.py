"""What the console says, over plain HTTP: the first page never hides a guest at risk, times are
in the property's zone, actions finish the job and say what they will do first."""

from __future__ import annotations

import re
from datetime import timedelta

from pinwarden.catalog.issues import ISSUE_TYPES
from pinwarden.console.advice import ADVICE
from pinwarden.service import policy
from pinwarden.service.devices import get_device_row
from pinwarden.service.sandbox import sandbox_lock
from tests.browser.console_client import Console
from tests.browser.scenarios import (
    create_code,
    duplicate_arrival,
    failing_arrival,
    flagged_early,
    get_code,
    iso,
)
from tests.support import Api


def _section(page: str, heading_id: str) -> str:
    """The HTML of the `<section>` whose heading has this id ('' when there is none)."""
    match = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', page, re.S)
    return match.group(1) if match else ""


def _cards(html: str) -> list[str]:
    return re.findall(r'<h3 id="code-[^"]+">([^<]+)</h3>', html)


# -- the first page ---------------------------------------------------------------------------------


def test_day_zero_is_not_all_clear_while_later_guests_carry_errors(
    signed_in: Console, sqlite_api: Api
) -> None:
    flagged_early(sqlite_api)
    for name, pin in (("Guest Bad Length", "12345"), ("Guest Too Long", "1234567")):
        create_code(sqlite_api, sqlite_api.devices["igloohome"], name, days=4.7, code=pin)
    create_code(sqlite_api, sqlite_api.devices["yale"], "Guest Fine", days=4.7)
    for name in ("Housekeeping", "Owner"):
        sqlite_api.ok("/access_codes/create", device_id=sqlite_api.devices["yale"], name=name)
    sqlite_api.advance(120)

    page = signed_in.http.get("/console").text
    assert "All clear" not in page
    flagged = _section(page, "flagged")
    assert sorted(_cards(flagged)) == [
        "Guest Bad Length",
        "Guest Early",
        "Guest Short PIN",
        "Guest Too Long",
    ]
    assert "smartthings_no_free_slots_available" in flagged
    assert _section(page, "arrivals") == "", "none starts within the 3-day issue deadline"
    # Staff codes are not arrivals: the 2 set ongoing codes are counted nowhere.
    assert "0 other arrivals in the next 3 days" in page
    assert "1 later arrival has no issue so far" in page


def test_arrivals_are_judged_with_each_locks_effective_policy(
    signed_in: Console, sqlite_api: Api
) -> None:
    flagged_early(sqlite_api)
    deps = sqlite_api.runtime.deps
    policy.change_device_policy(deps, sqlite_api.devices["smartthings"], {"deadline": "5d"})

    page = signed_in.http.get("/console").text
    assert _cards(_section(page, "arrivals")) == ["Guest Early"], "its lock's deadline is 5 days"
    assert _cards(_section(page, "flagged")) == ["Guest Short PIN"], "igloohome keeps 3 days"
    assert "(3–5 days)" in page

    policy.change_workspace_policy(deps, sqlite_api.workspace_id, {"deadline": "5d"})
    page = signed_in.http.get("/console").text
    assert sorted(_cards(_section(page, "arrivals"))) == ["Guest Early", "Guest Short PIN"]
    assert "(5 days)" in page


def test_ongoing_codes_with_a_problem_are_listed_apart_from_arrivals(
    signed_in: Console, sqlite_api: Api
) -> None:
    device_id = sqlite_api.devices["yale"]
    sqlite_api.ok("/access_codes/create", device_id=device_id, name="Cleaner", code="4444")
    sqlite_api.ok("/devices/simulate/disconnect", device_id=device_id)
    sqlite_api.advance(120)

    page = signed_in.http.get("/console").text
    assert _cards(_section(page, "ongoing")) == ["Cleaner"]
    assert "All clear" not in page and _section(page, "arrivals") == ""


# -- times in the property's zone --------------------------------------------------------------------


def test_times_are_shown_in_the_locks_zone_beside_utc_and_forms_take_local_time(
    signed_in: Console, sqlite_api: Api
) -> None:
    device_id = sqlite_api.devices["august"]
    response = signed_in.post(f"/console/devices/{device_id}/time-zone", time_zone="Europe/Paris")
    assert sqlite_api.ok("/devices/get", device_id=device_id)["device"]["location"] == {
        "time_zone": "Europe/Paris"
    }
    page = signed_in.http.get(response.headers["location"]).text
    assert "Starts at, Europe/Paris" in page

    signed_in.post(
        f"/console/devices/{device_id}/codes",
        name="Local",
        starts_at="2026-12-04T15:00",
        ends_at="2026-12-06T11:00",
    )
    [code] = sqlite_api.ok("/access_codes/list", device_id=device_id)["access_codes"]
    assert code["starts_at"] == "2026-12-04T14:00:00.000Z", "15:00 in Paris is 14:00 UTC"
    page = signed_in.http.get(f"/console/devices/{device_id}").text
    assert "Fri 4 Dec 2026 15:00 CET" in page
    assert "2026-12-04T14:00:00Z" in page


def test_an_unknown_time_zone_is_refused_with_the_reason(
    signed_in: Console, sqlite_api: Api
) -> None:
    device_id = sqlite_api.devices["august"]
    response = signed_in.post(f"/console/devices/{device_id}/time-zone", time_zone="Mars/Base")
    page = signed_in.http.get(response.headers["location"]).text
    assert "must be an IANA time zone" in page
    assert "location" not in sqlite_api.ok("/devices/get", device_id=device_id)["device"]


# -- actions that finish the job ---------------------------------------------------------------------


def test_a_codes_pin_name_and_dates_are_edited_in_the_console(
    signed_in: Console, sqlite_api: Api
) -> None:
    code = create_code(sqlite_api, sqlite_api.devices["august"], "Guest", days=2)
    path = f"/console/codes/{code['access_code_id']}/edit"
    form = signed_in.http.get(path).text
    assert f'value="{code["code"]}"' in form

    starts = sqlite_api.now() + timedelta(days=3)
    response = signed_in.post(
        path,
        name="Guest Smith",
        code="864213",
        starts_at=starts.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(starts + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        next="/console",
    )
    assert response.headers["location"] == "/console"
    edited = get_code(sqlite_api, code["access_code_id"])
    assert (edited["name"], edited["code"]) == ("Guest Smith", "864213")
    assert edited["starts_at"] == iso(starts.replace(second=0, microsecond=0)).replace("Z", ".000Z")
    sqlite_api.advance(120)
    assert get_code(sqlite_api, code["access_code_id"])["is_scheduled_on_device"] is True


def test_a_refused_edit_changes_nothing_and_keeps_what_was_typed(
    signed_in: Console, sqlite_api: Api
) -> None:
    code = create_code(sqlite_api, sqlite_api.devices["august"], "Guest", days=2)
    response = signed_in.post(
        f"/console/codes/{code['access_code_id']}/edit", name="Renamed", code="12ab"
    )
    assert response.status_code == 400
    assert "Nothing was changed: code: must contain only digits" in response.text
    assert 'value="Renamed"' in response.text
    assert get_code(sqlite_api, code["access_code_id"])["name"] == "Guest"


def test_delete_says_what_happens_on_the_lock_before_it_happens(
    signed_in: Console, sqlite_api: Api
) -> None:
    code = create_code(sqlite_api, sqlite_api.devices["august"], "Leaving", days=1)
    sqlite_api.advance(60)
    path = f"/console/codes/{code['access_code_id']}/delete"

    page = signed_in.http.get(f"{path}?next=/console/devices").text
    assert f"pinwarden removes PIN {code['code']} of “Leaving” from August Front Door 1" in page
    assert "may still open the door" in page
    assert 'name="next" value="/console/devices"' in page
    assert get_code(sqlite_api, code["access_code_id"])["status"] != "removing"

    signed_in.post(path, next="/console/devices")
    assert get_code(sqlite_api, code["access_code_id"])["status"] == "removing"


def test_what_to_do_speaks_to_a_person_and_keeps_the_api_call_in_details(
    signed_in: Console, sqlite_api: Api
) -> None:
    failing_arrival(sqlite_api, failures=20)
    page = signed_in.http.get("/console").text
    advice = page[page.index("<strong>What to do:</strong>") :]
    advice = advice[: advice.index("</p>")]
    assert "pull a backup code" in advice and "/access_codes/" not in advice
    details = re.findall(r'<details class="api">(.*?)</details>', page, re.S)
    assert any("POST /access_codes/pull_backup_access_code" in d for d in details)


def test_every_mitigation_in_the_catalog_has_words_for_the_console() -> None:
    actions = {t.mitigation.action for t in ISSUE_TYPES.values()}
    assert actions <= set(ADVICE), f"no console advice for {sorted(actions - set(ADVICE))}"
    assert not any("/access_codes/" in text or "POST " in text for text in ADVICE.values())


def test_a_backup_pin_is_given_out_only_once_it_is_on_the_lock(
    signed_in: Console, sqlite_api: Api
) -> None:
    arrival = failing_arrival(sqlite_api, failures=20, backup_pool=True)
    sqlite_api.ok("/access_codes/pull_backup_access_code", access_code_id=arrival["access_code_id"])
    backup_id = get_code(sqlite_api, arrival["access_code_id"])["pulled_backup_access_code_id"]
    assert get_code(sqlite_api, backup_id)["status"] == "set"
    page = signed_in.http.get("/console").text
    note = page[
        page.index('<div class="backup') : page.index("</div>", page.index('<div class="backup'))
    ]
    assert "works from" in note and "until" in note
    assert "give this PIN to the guest" in note

    # The backup's new end time is refused by the failing lock, but its PIN already opens the
    # door: it stays set, and the page still says to give it out.
    sqlite_api.advance(60)
    assert get_code(sqlite_api, backup_id)["status"] == "set"
    page = signed_in.http.get("/console").text
    note = page[
        page.index('<div class="backup') : page.index("</div>", page.index('<div class="backup'))
    ]
    assert "give this PIN to the guest" in note


def test_converting_a_duplicate_names_the_next_step_and_offers_its_buttons(
    signed_in: Console, sqlite_api: Api
) -> None:
    arrival, neighbour = duplicate_arrival(sqlite_api)
    confirm = signed_in.http.get(f"/console/unmanaged/{neighbour['access_code_id']}/convert").text
    assert "It still has the same PIN as “Guest Lee”" in confirm

    response = signed_in.post(
        f"/console/unmanaged/{neighbour['access_code_id']}/convert", next="/console"
    )
    sqlite_api.advance(60)
    page = signed_in.http.get(response.headers["location"]).text
    assert "“Old tenant” is now managed by pinwarden." in page
    assert "“Guest Lee” still has the same PIN" in page
    card = page[page.index("Guest Lee</h3>") :]
    card = card[: card.index("</article>")]
    assert "duplicate_code_on_device" in card
    assert f"/console/codes/{arrival['access_code_id']}/edit" in card and "Change PIN" in card
    assert f"/console/codes/{neighbour['access_code_id']}/delete" in card
    assert "Delete “Old tenant”" in card


# -- events ---------------------------------------------------------------------------------------------


def test_events_filter_by_lock_code_and_type_and_name_the_codes(
    signed_in: Console, sqlite_api: Api
) -> None:
    yale = create_code(sqlite_api, sqlite_api.devices["yale"], "Guest Yale", days=2, code="5151")
    create_code(sqlite_api, sqlite_api.devices["august"], "Guest August", days=2, code="6262")
    sqlite_api.advance(60)

    def rows(query: str) -> str:
        page = signed_in.http.get(f"/console/events?{query}").text
        return page[page.index("<tbody>") :] if "<tbody>" in page else ""

    by_lock = rows(f"device={sqlite_api.devices['yale']}")
    assert "Guest Yale" in by_lock and "Guest August" not in by_lock
    by_code = rows(f"code={yale['access_code_id']}")
    assert "Guest Yale" in by_code and "Guest August" not in by_code
    by_type = rows("type=access_code.created")
    assert by_type.count("<code>access_code.created</code>") == 2
    assert "set_on_device" not in by_type and "scheduled_on_device" not in by_type
    assert "5151" not in rows("") and "6262" not in rows(""), "PINs are hidden"
    assert "5151" in rows("pins=shown")


# -- the sandbox ----------------------------------------------------------------------------------------


def test_a_sandbox_lock_shows_how_to_try_its_rules(signed_in: Console, sqlite_api: Api) -> None:
    device_id = sqlite_api.devices["schlage"]
    store = sqlite_api.runtime.deps.store
    with (
        store.read() as conn,
        sandbox_lock(conn, get_device_row(conn, sqlite_api.workspace_id, device_id)) as lock,
    ):
        programming_code = lock.programming_code
    assert programming_code
    page = signed_in.http.get(f"/console/devices/{device_id}").text
    assert f"Programming code {programming_code}" in page
    assert "PINs of 4 digits" in page

    refused = create_code(sqlite_api, device_id, "Clash", days=2, code=programming_code[:4])
    sqlite_api.advance(60)
    errors = get_code(sqlite_api, refused["access_code_id"])["errors"]
    assert any("unique_first_four_digits" in e["message"] for e in errors)


def test_renaming_in_the_edit_form_leaves_the_stays_times_alone(
    signed_in: Console, sqlite_api: Api
) -> None:
    code = sqlite_api.ok(
        "/access_codes/create",
        device_id=sqlite_api.devices["august"],
        name="Guest",
        starts_at="2026-12-03T15:00:30.250Z",
        ends_at="2026-12-05T11:00:45Z",
    )["access_code"]
    path = f"/console/codes/{code['access_code_id']}/edit"
    form = signed_in.http.get(path).text
    shown = dict(
        re.findall(r'name="(starts_at|ends_at)" type="datetime-local" value="([^"]*)"', form)
    )
    assert shown == {"starts_at": "2026-12-03T15:00", "ends_at": "2026-12-05T11:00"}

    signed_in.post(path, name="Guest Renamed", code=code["code"], **shown)
    edited = get_code(sqlite_api, code["access_code_id"])
    assert edited["name"] == "Guest Renamed"
    assert (edited["starts_at"], edited["ends_at"]) == (code["starts_at"], code["ends_at"])
    assert "updating_time_frame" not in {m["mutation_code"] for m in edited["pending_mutations"]}


def test_deleting_the_converted_duplicate_lets_the_guest_in(
    signed_in: Console, sqlite_api: Api
) -> None:
    arrival, neighbour = duplicate_arrival(sqlite_api)
    signed_in.post(f"/console/unmanaged/{neighbour['access_code_id']}/convert", next="/console")
    sqlite_api.advance(60)
    signed_in.post(f"/console/codes/{neighbour['access_code_id']}/delete", next="/console")
    sqlite_api.advance(300)

    guest = get_code(sqlite_api, arrival["access_code_id"])
    assert guest["errors"] == [] and guest["is_scheduled_on_device"] is True
    page = signed_in.http.get("/console").text
    assert "Guest Lee" not in _section(page, "arrivals") + _section(page, "flagged")
