"""The console's request plumbing: who is signed in, rendering, redirects, forms and CSRF.

Route modules (routes.py, code_routes.py, device_routes.py, key_routes.py) hold handlers of
the shape `handler(console, request, session)`; `Console.signed_in` gives them the signed-in
session or sends the visitor to the sign-in form.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pinwarden.console import session as cookies
from pinwarden.console.templating import environment
from pinwarden.service import sessions
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError
from pinwarden.service.sessions import Session

MAX_FORM_BYTES = 64 * 1024
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

Handler = Callable[["Console", Request, Session], Awaitable[Response]]


class Console:
    """The console's dependencies and the helpers every handler uses."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.env = environment()

    async def session(self, request: Request) -> Session | None:
        """The signed-in session, checked against the store on every request."""
        token = cookies.session_token(request)
        if token is None:
            return None
        return await run_in_threadpool(sessions.resolve, self.deps, token)

    def signed_in(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """An endpoint that runs `handler` for a signed-in operator, and otherwise sends the
        visitor to the sign-in form."""

        async def endpoint(request: Request) -> Response:
            found = await self.session(request)
            if found is None:
                return self.redirect(request, "/console")
            return await handler(self, request, found)

        return endpoint

    async def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """A service call, off the event loop (services do blocking database I/O)."""
        return await run_in_threadpool(function, self.deps, *args)

    def render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> Response:
        token, fresh = cookies.csrf_token(request)
        flash = context.pop("flash", None) or cookies.read_flash(request)
        html = self.env.get_template(template).render(
            request_path=request.url.path,
            csrf_field=cookies.CSRF_FIELD,
            csrf_token=token,
            flash=flash,
            now=self.deps.clock.now(),
            virtual_clock=self.deps.virtual_clock,
            signed_in=context.pop("signed_in", True),
            **context,
        )
        response = HTMLResponse(html, status, headers=HEADERS)
        if fresh:
            cookies.set_csrf(request, response, token)
        if request.cookies.get(cookies.FLASH_COOKIE):
            cookies.clear_flash(request, response)
        return response

    def redirect(self, request: Request, to: str, flash: cookies.Flash | None = None) -> Response:
        response = RedirectResponse(to, status_code=303, headers=HEADERS)
        if flash is not None:
            cookies.flash(request, response, flash.kind, flash.text)
        return response

    async def form(self, request: Request) -> dict[str, str] | None:
        """The posted form, or None when it is too large or its CSRF token is wrong."""
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return None
        fields = {
            k: v[0]
            for k, v in parse_qs(body.decode(errors="replace"), keep_blank_values=True).items()
        }
        if not cookies.csrf_ok(request, fields.get(cookies.CSRF_FIELD)):
            return None
        return fields

    async def forbidden(self, request: Request) -> Response:
        return self.render(
            request,
            "message.html",
            403,
            title="Form expired",
            message="This form could not be accepted (its security token is missing or stale). "
            "Go back, reload the page and try again.",
            signed_in=await self.session(request) is not None,
        )

    def not_found(self, request: Request, message: str) -> Response:
        return self.render(request, "message.html", 404, title="Not found", message=message)


def path_id(request: Request, name: str) -> str:
    """A path id in the form the store keeps; anything else is simply not found."""
    try:
        return str(uuid.UUID(request.path_params[name]))
    except ValueError:
        raise ServiceError("not_found", "Not found: that id is not a valid UUID.", 404) from None


def back(target: str | None, default: str = "/console") -> str:
    """Where to return after an action: a console page of this site, never elsewhere."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return default
