"""The console's webhooks page: each endpoint and whether it is sending (and if not, why), the
latest deliveries with every attempt, and buttons to resend a delivery or enable an endpoint
that pinwarden disabled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pinwarden.console import session as cookies
from pinwarden.console.web import Console, Handler, path_id
from pinwarden.service import webhooks
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError
from pinwarden.service.sessions import Session

PAGE = "/console/webhooks"
DELIVERIES_SHOWN = 50


def _overview(deps: Deps, ws: str) -> dict[str, Any]:
    hooks = webhooks.list_webhooks(deps, ws, {})["webhooks"]
    log = webhooks.list_deliveries(deps, ws, {"limit": DELIVERIES_SHOWN})["deliveries"]
    return {"webhooks": hooks, "deliveries": log, "shown": DELIVERIES_SHOWN}


def _enable(deps: Deps, ws: str, webhook_id: str) -> None:
    webhooks.update_webhook(deps, ws, {"webhook_id": webhook_id, "enabled": True})


def _resend(deps: Deps, ws: str, delivery_id: str) -> None:
    webhooks.resend(deps, ws, {"delivery_id": delivery_id})


async def webhooks_page(console: Console, request: Request, session: Session) -> Response:
    overview = await console.call(_overview, session.workspace_id)
    return console.render(request, "webhooks.html", **overview)


def _id(request: Request, key: str) -> str:
    """A webhook's id is a UUID; a delivery's is its webhook-id (`msg_...`). The services look
    either up in the signed-in workspace only."""
    if key == "webhook_id":
        return path_id(request, key)
    found = str(request.path_params[key])
    if not (found.startswith("msg_") and len(found) <= 64 and found[4:].isalnum()):
        raise ServiceError("not_found", "Not found: that is not a delivery id.", 404)
    return found


def _action(service: Callable[[Deps, str, str], None], key: str, done: str) -> Handler:
    """A POST that calls `service(deps, workspace, <path id>)`, then shows the page again."""

    async def handler(console: Console, request: Request, session: Session) -> Response:
        if await console.form(request) is None:
            return await console.forbidden(request)
        try:
            await console.call(service, session.workspace_id, _id(request, key))
        except ServiceError as err:
            return console.redirect(request, PAGE, cookies.Flash("error", err.message))
        return console.redirect(request, PAGE, cookies.Flash("success", done))

    return handler


ROUTES: list[tuple[str, Handler, str]] = [
    ("/webhooks", webhooks_page, "GET"),
    (
        "/webhooks/deliveries/{delivery_id}/resend",
        _action(_resend, "delivery_id", "Resending it now, under the same webhook-id."),
        "POST",
    ),
    (
        "/webhooks/{webhook_id}/enable",
        _action(_enable, "webhook_id", "Enabled: pinwarden sends to it again."),
        "POST",
    ),
]
