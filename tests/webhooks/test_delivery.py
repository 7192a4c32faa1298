"""Deliveries as a receiving application sees them: signed so Seam's SDK verifies them, the
event exactly as /events/get returns it, retried on Svix's schedule under the same webhook-id.

These run on the virtual clock: moving it runs the deliveries that fell due, in time order, so
ten hours of a receiver being down take a second.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from pinwarden.events.policy import DeliveryPolicy
from pinwarden.store.store import Store
from tests.support import Api, make_api
from tests.webhooks.receiver import Receiver

SINCE = "2026-01-01T00:00:00Z"


def _hook(api: Api, receiver: Receiver, *event_types: str) -> dict[str, Any]:
    body: dict[str, Any] = {"url": receiver.url}
    if event_types:
        body["event_types"] = list(event_types)
    hook: dict[str, Any] = api.ok("/webhooks/create", **body)["webhook"]
    receiver.secret = hook["secret"]
    return hook


def _event_ids(api: Api, **filters: Any) -> list[str]:
    return [e["event_id"] for e in api.ok("/events/list", since=SINCE, **filters)["events"]]


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _deliveries(api: Api, **filters: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.ok("/webhooks/deliveries/list", limit=1000, **filters)[
        "deliveries"
    ]
    return found


def test_every_delivery_verifies_and_is_the_event_as_events_get_returns_it(
    api: Api, receiver: Receiver
) -> None:
    before = set(_event_ids(api))
    _hook(api, receiver)
    code = api.ok("/access_codes/create", device_id=api.devices["august"], code="4821")
    api.ok("/locks/simulate/keypad_code_entry", device_id=api.devices["august"], code="9999")
    api.advance(600)
    assert receiver.rejected == []
    sent = [e for e in _event_ids(api) if e not in before]
    assert sorted(receiver.event_ids()) == sorted(sent)
    kinds = {d.event["event_type"] for d in receiver.received}
    assert {"access_code.created", "access_code.set_on_device", "lock.access_denied"} <= kinds
    for delivery in receiver.received:
        assert api.ok("/events/get", event_id=delivery.event["event_id"])["event"] == (
            delivery.event
        )
        assert delivery.webhook_id.startswith("msg_")
    assert code["access_code"]["access_code_id"] in {
        d.event.get("access_code_id") for d in receiver.received
    }


def test_a_webhook_receives_only_the_event_types_it_asked_for(
    api: Api, receiver: Receiver, second_receiver: Receiver
) -> None:
    _hook(api, receiver, "access_code.created")
    _hook(api, second_receiver, "lock.*")
    api.ok("/access_codes/create", device_id=api.devices["august"], code="4821")
    api.advance(600)
    api.ok("/locks/simulate/keypad_code_entry", device_id=api.devices["august"], code="4821")
    api.advance(1)
    assert [d.event["event_type"] for d in receiver.received] == ["access_code.created"]
    assert {d.event["event_type"] for d in second_receiver.received} == {"lock.unlocked"}


def test_pinwardens_own_event_types_go_only_to_webhooks_that_name_them(
    api: Api, receiver: Receiver, second_receiver: Receiver
) -> None:
    _hook(api, receiver)
    _hook(api, second_receiver, "device.error.*", "device.warning.*")
    api.ok(
        "/access_codes/create",
        device_id=api.devices["yale"],
        code="4821",
        starts_at="2026-12-10T15:00:00Z",
        ends_at="2026-12-12T11:00:00Z",
        use_backup_access_code_pool=True,
    )
    api.advance(600)
    own = {d.event["event_type"] for d in second_receiver.received}
    assert "device.error.empty_backup_access_code_pool" in own, own
    assert not [d for d in receiver.received if d.event["event_type"].startswith("device.error")]
    empty = next(
        d.event
        for d in second_receiver.received
        if d.event["event_type"] == "device.error.empty_backup_access_code_pool"
    )
    issue = empty["device_errors"][0]
    assert issue["error_code"] == "empty_backup_access_code_pool" and issue["mitigation"]


def test_a_receiver_down_for_ten_hours_receives_everything_afterwards(
    api: Api, receiver: Receiver
) -> None:
    before = set(_event_ids(api))
    _hook(api, receiver)
    receiver.status = 503
    for hour in range(10):
        api.ok("/locks/simulate/keypad_code_entry", device_id=api.devices["august"], code="9999")
        api.ok("/access_codes/create", device_id=api.devices["yale"], code=f"48{hour:02d}")
        api.advance(3600)
    assert receiver.received == [] and receiver.refused
    receiver.status = 200
    api.advance(24 * 3600)
    sent = [e for e in _event_ids(api) if e not in before]
    assert len(sent) >= 30
    assert sorted(receiver.event_ids()) == sorted(sent)  # each once, none lost
    ids: dict[str, set[str]] = defaultdict(set)
    for d in receiver.refused + receiver.received:
        ids[d.event["event_id"]].add(d.webhook_id)
    assert all(len(one) == 1 for one in ids.values()), "a retry must keep its webhook-id"
    first = _deliveries(api, event_id=sent[0])[0]
    times = [_when(a["attempted_at"]) for a in first["attempts"]]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert gaps == [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600]  # Svix's schedule
    assert [a["status"] for a in first["attempts"]] == ["failed"] * 6 + ["succeeded"]
    assert first["attempts"][0]["response_status_code"] == 503
    assert api.ok("/webhooks/list")["webhooks"][0]["status"] == "active"


def test_a_redirect_is_not_followed(
    api: Api, receiver: Receiver, second_receiver: Receiver
) -> None:
    _hook(api, receiver, "lock.access_denied")
    receiver.status, receiver.redirect_to = 307, second_receiver.url
    api.ok("/locks/simulate/keypad_code_entry", device_id=api.devices["august"], code="9999")
    api.advance(1)
    (delivery,) = _deliveries(api)
    assert delivery["status"] == "pending" and delivery["attempt_count"] == 1
    assert "not followed" in delivery["attempts"][0]["error"]
    assert second_receiver.received == [] and second_receiver.rejected == []


@pytest.fixture
def impatient(sqlite_store: Store) -> Iterator[Api]:
    """The API with a dispatcher that gives an endpoint half a second to answer."""
    yield from make_api(sqlite_store, delivery=DeliveryPolicy(timeout=0.5))


def test_an_endpoint_that_does_not_answer_in_time_is_retried_under_the_same_id(
    impatient: Api, receiver: Receiver
) -> None:
    _hook(impatient, receiver, "lock.access_denied")
    receiver.hold = threading.Event()
    impatient.ok(
        "/locks/simulate/keypad_code_entry", device_id=impatient.devices["august"], code="9999"
    )
    impatient.advance(0)
    (delivery,) = _deliveries(impatient)
    assert delivery["attempts"][0]["error"] == "no answer within 0.5 s"
    receiver.hold.set()
    receiver.hold = None
    impatient.advance(5)
    (delivery,) = _deliveries(impatient)
    assert [a["status"] for a in delivery["attempts"]] == ["failed", "succeeded"]
    assert {d.webhook_id for d in receiver.received} == {delivery["delivery_id"]}


def test_a_delivery_is_resent_on_request_under_the_same_id(api: Api, receiver: Receiver) -> None:
    _hook(api, receiver, "lock.access_denied")
    api.ok("/locks/simulate/keypad_code_entry", device_id=api.devices["august"], code="9999")
    api.advance(0)
    (delivery,) = _deliveries(api)
    again = api.ok("/webhooks/deliveries/resend", delivery_id=delivery["delivery_id"])["delivery"]
    assert again["status"] == "pending"
    api.advance(0)
    got = api.ok("/webhooks/deliveries/get", delivery_id=delivery["delivery_id"])["delivery"]
    assert [(a["status"], a["trigger"]) for a in got["attempts"]] == [
        ("succeeded", "scheduled"),
        ("succeeded", "manual"),
    ]
    assert [d.webhook_id for d in receiver.received] == [delivery["delivery_id"]] * 2


def test_an_endpoint_failing_for_five_days_is_disabled_and_says_so(
    api: Api, receiver: Receiver
) -> None:
    hook = _hook(api, receiver, "lock.access_denied")
    receiver.status = 500
    for _ in range(6):
        api.ok("/locks/simulate/keypad_code_entry", device_id=api.devices["august"], code="9999")
        api.advance(86_400)
    disabled = api.ok("/webhooks/get", webhook_id=hook["webhook_id"])["webhook"]
    assert disabled["status"] == "disabled" and disabled["disabled_at"]
    assert "failed for 5 days" in disabled["disabled_reason"]
    assert {d["status"] for d in _deliveries(api)} == {"failed"}
    tried = len(receiver.refused)
    api.ok("/locks/simulate/keypad_code_entry", device_id=api.devices["august"], code="9999")
    api.advance(3600)
    assert len(receiver.refused) == tried  # nothing is sent to a disabled endpoint
    receiver.status = 200
    api.ok("/webhooks/update", webhook_id=hook["webhook_id"], enabled=True)
    assert api.ok("/webhooks/get", webhook_id=hook["webhook_id"])["webhook"]["status"] == "active"
    api.ok("/locks/simulate/keypad_code_entry", device_id=api.devices["august"], code="9999")
    api.advance(1)
    assert len(receiver.received) == 1


def test_deleting_a_webhook_stops_its_deliveries(api: Api, receiver: Receiver) -> None:
    hook = _hook(api, receiver)
    receiver.status = 503
    api.ok("/locks/simulate/keypad_code_entry", device_id=api.devices["august"], code="9999")
    api.advance(1)
    api.ok("/webhooks/delete", webhook_id=hook["webhook_id"])
    receiver.status = 200
    api.advance(86_400)
    assert receiver.received == [] and _deliveries(api) == []
