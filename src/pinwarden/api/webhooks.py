"""Seam's `/webhooks/*` routes, and pinwarden's delivery log (`/webhooks/deliveries/*`)."""

from __future__ import annotations

from pinwarden.api.app import Route
from pinwarden.api.params import P
from pinwarden.service import webhooks

GET = ("GET", "POST")
WEBHOOK_ID = P("webhook_id", "uuid", required=True)
DELIVERY_ID = P("delivery_id", required=True, max_length=40)
STATUSES = ("pending", "succeeded", "failed")

ROUTES = [
    Route(
        "/webhooks/create",
        ("POST",),
        (
            P("url", required=True, min_length=1, max_length=2048),
            P("event_types", "str[]", max_length=80),
        ),
        webhooks.create,
    ),
    Route("/webhooks/list", GET, (), webhooks.list_webhooks),
    Route("/webhooks/get", GET, (WEBHOOK_ID,), webhooks.get),
    Route(
        "/webhooks/update",
        ("POST", "PUT"),
        (
            WEBHOOK_ID,
            P("event_types", "str[]", max_length=80),
            P("url", min_length=1, max_length=2048),
            P("enabled", "bool"),
        ),
        webhooks.update_webhook,
    ),
    Route("/webhooks/delete", ("DELETE", "POST"), (WEBHOOK_ID,), webhooks.delete_webhook),
    Route(
        "/webhooks/deliveries/list",
        GET,
        (
            P("webhook_id", "uuid"),
            P("event_id", "uuid"),
            P("status", choices=STATUSES),
            P("limit", "int", minimum=1, maximum=1000),
        ),
        webhooks.list_deliveries,
    ),
    Route("/webhooks/deliveries/get", GET, (DELIVERY_ID,), webhooks.get_delivery),
    Route("/webhooks/deliveries/resend", ("POST",), (DELIVERY_ID,), webhooks.resend),
]
