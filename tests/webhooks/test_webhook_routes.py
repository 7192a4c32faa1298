"""Seam's /webhooks/* routes, from Seam's SDK and over HTTP, per workspace."""

from __future__ import annotations

from typing import Any

from seam import Seam

from tests.api import expect
from tests.seam_openapi import response_errors
from tests.support import Api
from tests.webhooks.receiver import Receiver

HOOK = "https://app.example.com/seam"


def _valid(path: str, method: str, body: dict[str, Any]) -> None:
    assert response_errors(path, method, body) == []


def test_an_app_manages_its_webhooks_with_seams_sdk(sqlite_api: Api) -> None:
    with Seam(api_key=sqlite_api.api_key, endpoint=sqlite_api.url) as seam:
        created = seam.webhooks.create(url=HOOK, event_types=["access_code.created"])
        assert created.secret.startswith("whsec_") and created.url == HOOK
        assert seam.webhooks.get(webhook_id=created.webhook_id).event_types == [
            "access_code.created"
        ]
        seam.webhooks.update(webhook_id=created.webhook_id, event_types=["access_code.*"])
        assert [w.event_types for w in seam.webhooks.list()] == [["access_code.*"]]
        seam.webhooks.delete(webhook_id=created.webhook_id)
        assert seam.webhooks.list() == []


def test_webhook_routes_answer_in_seam_shapes(api: Api) -> None:
    created = api.ok("/webhooks/create", url=HOOK)
    _valid("/webhooks/create", "POST", created)
    webhook = created["webhook"]
    assert webhook["event_types"] == ["*"] and webhook["status"] == "active"
    for method in ("GET", "POST"):
        got = api.http.request(
            method,
            "/webhooks/get",
            **(
                {"params": {"webhook_id": webhook["webhook_id"]}}
                if method == "GET"
                else {"json": {"webhook_id": webhook["webhook_id"]}}
            ),
        ).json()
        _valid("/webhooks/get", method, got)
        assert got["webhook"] == webhook
    _valid("/webhooks/list", "GET", api.http.get("/webhooks/list").json())
    updated = api.http.put(
        "/webhooks/update", json={"webhook_id": webhook["webhook_id"], "event_types": ["*"]}
    )
    _valid("/webhooks/update", "PUT", updated.json())
    deleted = api.http.delete("/webhooks/delete", params={"webhook_id": webhook["webhook_id"]})
    _valid("/webhooks/delete", "DELETE", deleted.json())
    expect.error(
        api.post("/webhooks/get", webhook_id=webhook["webhook_id"]), 404, "webhook_not_found"
    )


def test_bad_webhooks_are_refused_with_a_clear_error(sqlite_api: Api) -> None:
    for url in ("ftp://example.com/x", "not a url", "http://", "https:///path", "http://a:99999/"):
        expect.invalid(sqlite_api.post("/webhooks/create", url=url), "url")
    expect.invalid(sqlite_api.post("/webhooks/create"), "url")
    for types in ([], ["Access Code"], ["access_code.created", 7], "access_code.created"):
        expect.invalid(
            sqlite_api.post("/webhooks/create", url=HOOK, event_types=types), "event_types"
        )
    hook = sqlite_api.ok("/webhooks/create", url=HOOK)["webhook"]
    expect.invalid(
        sqlite_api.post("/webhooks/update", webhook_id=hook["webhook_id"]), "event_types"
    )
    assert sqlite_api.ok("/webhooks/list")["webhooks"] == [hook]


def test_a_workspace_never_sees_or_receives_another_workspaces_webhooks(
    api: Api, other: Api, receiver: Receiver
) -> None:
    mine = api.ok("/webhooks/create", url=receiver.url)["webhook"]
    receiver.secret = mine["secret"]
    assert other.ok("/webhooks/list")["webhooks"] == []
    for path in ("/webhooks/get", "/webhooks/update", "/webhooks/delete"):
        body = {"webhook_id": mine["webhook_id"], "event_types": ["*"]}
        expect.error(other.post(path, **body), 404, "webhook_not_found")
    other.ok("/access_codes/create", device_id=other.devices["august"], code="4821")
    other.advance(60)
    assert other.ok("/webhooks/deliveries/list")["deliveries"] == []
    assert receiver.received == [] and receiver.rejected == []
    api.ok("/access_codes/create", device_id=api.devices["august"], code="4821")
    api.advance(60)
    assert {d.event["workspace_id"] for d in receiver.received} == {api.workspace_id}
    assert api.ok("/webhooks/get", webhook_id=mine["webhook_id"])["webhook"] == mine
