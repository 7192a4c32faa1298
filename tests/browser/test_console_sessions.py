"""Console sessions live on the server, and API keys can be listed and revoked from the console.

A cookie is only a pointer to a session: signing out ends it, a replayed cookie finds nothing,
and revoking the key a session was made with ends that session at once.
"""

from __future__ import annotations

import re

import httpx

from pinwarden.service import auth
from tests.browser.console_client import Console, OtherWorkspace, set_cookie_headers
from tests.support import Api

SESSION = "pinwarden_console_session"


def _replay(api: Api, cookie: str) -> httpx.Response:
    """The devices page asked for by a browser that only has the copied session cookie."""
    with httpx.Client(base_url=api.url, cookies={SESSION: cookie}) as thief:
        return thief.get("/console/devices")


def _session_cookie(console: Console) -> str:
    value = console.http.cookies.get(SESSION, path="/console")
    assert value
    return value


def test_the_cookie_holds_a_session_token_not_the_api_key(
    signed_in: Console, sqlite_api: Api
) -> None:
    cookie = _session_cookie(signed_in)
    assert sqlite_api.api_key not in cookie and cookie not in sqlite_api.api_key
    stored = sqlite_api.runtime.deps.store
    with stored.read() as conn:
        rows = conn.exec_driver_sql("select session_hash from console_sessions").all()
    assert [r.session_hash for r in rows] != [] and cookie not in {r.session_hash for r in rows}


def test_a_cookie_replayed_after_sign_out_no_longer_works(
    signed_in: Console, sqlite_api: Api
) -> None:
    cookie = _session_cookie(signed_in)
    assert _replay(sqlite_api, cookie).status_code == 200, "the copy works while signed in"

    response = signed_in.post("/console/sign-out")
    [cleared] = set_cookie_headers(response, SESSION)
    assert "max-age=0" in cleared.lower()

    replayed = _replay(sqlite_api, cookie)
    assert replayed.status_code == 303
    assert replayed.headers["location"] == "/console"
    with httpx.Client(base_url=sqlite_api.url, cookies={SESSION: cookie}) as thief:
        page = thief.get("/console")
    assert "Your session has ended" in page.text
    assert "Front Door" not in page.text


def test_revoking_the_key_ends_its_console_sessions_and_its_api_access_at_once(
    signed_in: Console, sqlite_api: Api
) -> None:
    deps = sqlite_api.runtime.deps
    [key] = auth.list_api_keys(deps, sqlite_api.workspace_id)
    assert sqlite_api.post("/devices/list").status_code == 200  # now in the key cache

    auth.revoke_api_key(deps, key.api_key_id)

    assert sqlite_api.post("/devices/list").status_code == 401, "at once, in this process"
    assert signed_in.http.get("/console/devices").status_code == 303
    assert signed_in.sign_in(sqlite_api.api_key).status_code == 401


def test_keys_page_lists_keys_without_their_secret(signed_in: Console, sqlite_api: Api) -> None:
    page = signed_in.http.get("/console/keys")
    [key] = auth.list_api_keys(sqlite_api.runtime.deps, sqlite_api.workspace_id)
    assert page.status_code == 200
    assert key.prefix in page.text
    assert "this session" in page.text
    assert sqlite_api.api_key not in page.text


def test_a_key_made_in_the_console_is_shown_once_and_works(
    signed_in: Console, sqlite_api: Api
) -> None:
    made = signed_in.post("/console/keys", name="booking-sync")
    assert made.status_code == 200
    token = re.search(r'<code class="secret">(seam_[^<]+)</code>', made.text)
    assert token, "the new key is on the page"
    with httpx.Client(base_url=sqlite_api.url, timeout=30) as app:
        headers = {"Authorization": f"Bearer {token.group(1)}"}
        assert app.post("/devices/list", headers=headers, json={}).status_code == 200
    again = signed_in.http.get("/console/keys")
    assert "booking-sync" in again.text
    assert token.group(1) not in again.text, "shown once"


def test_revoking_another_key_in_the_console_refuses_it_at_once(
    signed_in: Console, sqlite_api: Api
) -> None:
    other = auth.create_api_key(sqlite_api.runtime.deps, sqlite_api.workspace_id, "old app")
    headers = {"Authorization": f"Bearer {other.token}"}
    assert sqlite_api.http.post("/devices/list", headers=headers, json={}).status_code == 200

    confirm = signed_in.http.get(f"/console/keys/{other.api_key_id}/revoke")
    assert "Apps using the key “old app”" in confirm.text
    assert sqlite_api.http.post("/devices/list", headers=headers, json={}).status_code == 200

    response = signed_in.post(f"/console/keys/{other.api_key_id}/revoke")
    assert response.headers["location"] == "/console/keys"
    assert sqlite_api.http.post("/devices/list", headers=headers, json={}).status_code == 401
    page = signed_in.http.get("/console/keys").text
    assert "Revoked “old app”" in page and "revoked 20" in page
    assert signed_in.http.get("/console/devices").status_code == 200, "still signed in"


def test_revoking_the_key_you_signed_in_with_signs_you_out(
    signed_in: Console, sqlite_api: Api
) -> None:
    [key] = auth.list_api_keys(sqlite_api.runtime.deps, sqlite_api.workspace_id)
    confirm = signed_in.http.get(f"/console/keys/{key.api_key_id}/revoke")
    assert "you will be signed out" in confirm.text
    response = signed_in.post(f"/console/keys/{key.api_key_id}/revoke")
    assert response.headers["location"] == "/console"
    assert signed_in.http.get("/console/devices").status_code == 303
    assert sqlite_api.post("/devices/list").status_code == 401


def test_a_key_of_another_workspace_cannot_be_revoked(
    signed_in: Console, sqlite_api: Api, other: OtherWorkspace
) -> None:
    deps = sqlite_api.runtime.deps
    workspace_id = auth.authenticate(deps, f"Bearer {other.api_key}")
    [foreign] = auth.list_api_keys(deps, workspace_id)
    assert signed_in.http.get(f"/console/keys/{foreign.api_key_id}/revoke").status_code == 404
    response = signed_in.post(f"/console/keys/{foreign.api_key_id}/revoke")
    assert "There is no such API key" in signed_in.http.get(response.headers["location"]).text
    assert auth.list_api_keys(deps, workspace_id)[0].revoked_at is None
