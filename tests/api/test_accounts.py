"""Connecting a real installation over HTTP: what is refused, and that credentials never come
back out."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from pinwarden.engine.supervisor import AccountSupervisor
from tests.support import Api


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_bad_account_settings_are_refused_and_store_nothing(api: Api) -> None:
    bad: list[dict[str, Any]] = [
        {"account_type": "nest", "url": "ws://127.0.0.1:3000"},
        {"account_type": "zwave_js", "url": "http://127.0.0.1:3000"},
        {"account_type": "zwave_js", "url": "ws://"},
        {"account_type": "zwave_js", "url": "ws://127.0.0.1:99999"},
        {"account_type": "zigbee2mqtt", "url": "mqtt://user:secret@127.0.0.1:1883"},
        {"account_type": "zigbee2mqtt", "url": "mqtt://127.0.0.1:1883", "base_topic": "z2m/#"},
        {"account_type": "zigbee2mqtt", "url": "mqtt://127.0.0.1", "password_env": "a b"},
        {"account_type": "zigbee2mqtt"},
    ]
    for body in bad:
        response = api.post("/connected_accounts/create", **body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["ok"] is False
    listed = api.ok("/connected_accounts/list")["connected_accounts"]
    assert {a["account_type"] for a in listed} <= {
        "august",
        "yale",
        "kwikset",
        "schlage",
        "salto",
        "smartthings",
        "igloohome",
    }


def test_a_password_is_never_given_back(api: Api) -> None:
    created = api.ok(
        "/connected_accounts/create",
        account_type="zigbee2mqtt",
        url=f"mqtt://127.0.0.1:{_closed_port()}",
        username="pinwarden",
        password="hunter2-very-secret",
    )
    account_id = created["connected_account"]["connected_account_id"]
    answers = [
        created,
        api.ok("/connected_accounts/get", connected_account_id=account_id),
        api.ok("/connected_accounts/list"),
        api.ok("/events/list", since="2000-01-01T00:00:00Z"),
    ]
    assert "hunter2" not in json.dumps(answers)


def test_an_installation_that_cannot_be_reached_marks_its_account_only(sqlite_api: Api) -> None:
    api = sqlite_api

    watcher = api.runtime.deps.accounts
    assert isinstance(watcher, AccountSupervisor)
    watcher.start()
    try:
        created = api.ok(
            "/connected_accounts/create",
            account_type="zwave_js",
            url=f"ws://127.0.0.1:{_closed_port()}",
        )
        account_id = created["connected_account"]["connected_account_id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            account = api.ok("/connected_accounts/get", connected_account_id=account_id)[
                "connected_account"
            ]
            if account["errors"]:
                break
            time.sleep(0.2)
        assert [e["error_code"] for e in account["errors"]] == ["account_disconnected"]
        assert account["errors"][0]["mitigation"]["action"] == "reconnect_account"
    finally:
        watcher.stop()
