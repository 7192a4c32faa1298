"""The console: server-rendered pages under /console, plain HTML forms, no JavaScript needed.

Every handler finds the operator's workspace from the server-side session and passes it to
the services, so a page only ever shows that workspace. Actions are POSTs with a CSRF token
that redirect back with a flash message (post/redirect/get); a ServiceError becomes that
message. Destructive actions are confirmed on a page of their own first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from pinwarden.console import code_routes, device_routes, events_view, key_routes, pages
from pinwarden.console import session as cookies
from pinwarden.console import webhooks as webhook_pages
from pinwarden.console.calendar import STATES
from pinwarden.console.templating import STATIC
from pinwarden.console.web import Console, Handler
from pinwarden.service import sessions
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError
from pinwarden.service.sessions import Session

# -- sign in and out ------------------------------------------------------------------------------


async def home(console: Console, request: Request) -> Response:
    found = await console.session(request)
    if found is None:
        return sign_in_page(console, request)
    report = await console.call(pages.at_risk, found.workspace_id)
    return console.render(request, "at_risk.html", report=report)


def sign_in_page(
    console: Console, request: Request, error: str | None = None, status: int = 200
) -> Response:
    stale = cookies.session_token(request) is not None
    if error is None and stale:
        error = "Your session has ended (signed out, expired or its key revoked). Sign in again."
    flash = cookies.Flash("error", error) if error else None
    response = console.render(request, "sign_in.html", status, flash=flash, signed_in=False)
    if stale:
        cookies.sign_out(request, response)
    return response


async def sign_in(console: Console, request: Request) -> Response:
    fields = await console.form(request)
    if fields is None:
        return await console.forbidden(request)
    try:
        token, _ = await console.call(sessions.start, fields.get("api_key", "").strip())
    except ServiceError as err:
        return sign_in_page(console, request, err.message, err.status)
    response = console.redirect(request, "/console")
    cookies.sign_in(request, response, token)
    return response


async def sign_out(console: Console, request: Request) -> Response:
    if await console.form(request) is None:
        return await console.forbidden(request)
    token = cookies.session_token(request)
    if token is not None:
        await console.call(sessions.end, token)
    response = console.redirect(request, "/console", cookies.Flash("success", "Signed out."))
    cookies.sign_out(request, response)
    return response


# -- pages ----------------------------------------------------------------------------------------


async def calendar_page(console: Console, request: Request, session: Session) -> Response:
    calendar = await console.call(pages.workspace_calendar, session.workspace_id)
    return console.render(request, "calendar.html", calendar=calendar, states=STATES)


async def devices_page(console: Console, request: Request, session: Session) -> Response:
    summaries = await console.call(pages.device_summaries, session.workspace_id)
    return console.render(request, "devices.html", devices=summaries)


async def events_page(console: Console, request: Request, session: Session) -> Response:
    query = dict(request.query_params)
    page = await console.call(events_view.events_page, session.workspace_id, query)
    return console.render(request, "events.html", page=page, shown=events_view.EVENTS_SHOWN)


# -- the route table --------------------------------------------------------------------------------

# Pages and forms for signed-in operators: (path under /console, handler, method).
SIGNED_IN: list[tuple[str, Handler, str]] = [
    ("/calendar", calendar_page, "GET"),
    ("/devices", devices_page, "GET"),
    ("/events", events_page, "GET"),
    *device_routes.ROUTES,
    *code_routes.ROUTES,
    *key_routes.ROUTES,
    *webhook_pages.ROUTES,
]


def installer(deps: Deps) -> Callable[[FastAPI], None]:
    """`create_app(..., extra=[installer(deps)])` adds the console to the app."""

    def install(app: FastAPI) -> None:
        console = Console(deps)
        # Plain Starlette routes: the handlers read the request themselves, so FastAPI's
        # signature analysis (and its start-up cost for every CLI command) is not needed.
        for path, handler, method in (
            ("", home, "GET"),
            ("/sign-in", sign_in, "POST"),
            ("/sign-out", sign_out, "POST"),
        ):
            app.add_route(
                f"/console{path}",
                _bound(console, handler),
                methods=[method],
                include_in_schema=False,
            )
        for path, signed_in_handler, method in SIGNED_IN:
            endpoint = console.signed_in(signed_in_handler)
            app.add_route(f"/console{path}", endpoint, methods=[method], include_in_schema=False)
        app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    return install


def _bound(
    console: Console, handler: Callable[[Console, Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handler(console, request)

    return endpoint
