"""The console's webhooks page: each endpoint and whether it is sending (and if not, why), the
latest deliveries with every attempt, and buttons to resend a delivery or enable an endpoint
that pinwarden disabled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pinwarden.console import session
from pinwarden.service import webhooks
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError

if TYPE_CHECKING:
    from pinwarden.console.routes import Console

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


class WebhookPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def page(self, request: Request) -> Response:
        ws = await self.console.workspace(request)
        if ws is None:
            return self.console.redirect(request, "/console")
        overview = await run_in_threadpool(_overview, self.console.deps, ws)
        return self.console.render(request, "webhooks.html", **overview)

    def action(self, service: Any, key: str, done: str) -> Any:
        """A POST that calls `service(deps, workspace, <path id>)`, then shows the page again."""

        async def handler(request: Request) -> Response:
            ws = await self.console.workspace(request)
            if ws is None:
                return self.console.redirect(request, "/console")
            if await self.console.form(request) is None:
                return await self.console.forbidden(request)
            try:
                await run_in_threadpool(service, self.console.deps, ws, request.path_params[key])
            except ServiceError as err:
                return self.console.redirect(request, PAGE, session.Flash("error", err.message))
            return self.console.redirect(request, PAGE, session.Flash("success", done))

        return handler


def install(app: FastAPI, console: Console) -> None:
    pages = WebhookPages(console)
    resend = pages.action(_resend, "delivery_id", "Resending it now, under the same webhook-id.")
    enable = pages.action(_enable, "webhook_id", "Enabled: pinwarden sends to it again.")
    app.add_route(PAGE, pages.page, methods=["GET"], include_in_schema=False)
    app.add_route(f"{PAGE}/deliveries/{{delivery_id}}/resend", resend, methods=["POST"])
    app.add_route(f"{PAGE}/{{webhook_id}}/enable", enable, methods=["POST"])
