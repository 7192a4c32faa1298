"""The console: server-rendered pages under /console, plain HTML forms, no JavaScript needed.

Every handler finds the operator's workspace from the session cookie and passes it to the
services, so a page only ever shows that workspace. Actions are POSTs with a CSRF token that
redirect back with a flash message (post/redirect/get); a ServiceError becomes that message.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from pinwarden.console import pages, session
from pinwarden.console import webhooks as webhooks_page
from pinwarden.console.templating import STATIC, environment
from pinwarden.service import access_code_changes, access_codes, backups, operator, unmanaged
from pinwarden.service.auth import authenticate
from pinwarden.service.deps import Deps
from pinwarden.service.errors import ServiceError

MAX_FORM_BYTES = 64 * 1024
_PIN = re.compile(r"^\d{4,12}$")
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

Service = Callable[[Deps, str, dict[str, Any]], Any]


class Console:
    """The console's handlers, bound to the app's dependencies."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.env = environment()

    # -- plumbing ----------------------------------------------------------------------------

    async def workspace(self, request: Request) -> str | None:
        """The signed-in operator's workspace, checked against the key store on every request."""
        key = session.api_key(request)
        if key is None:
            return None
        try:
            return await run_in_threadpool(authenticate, self.deps, f"Bearer {key}")
        except ServiceError:
            return None

    def render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> Response:
        token, fresh = session.csrf_token(request)
        flash = context.pop("flash", None) or session.read_flash(request)
        html = self.env.get_template(template).render(
            request_path=request.url.path,
            csrf_field=session.CSRF_FIELD,
            csrf_token=token,
            flash=flash,
            now=self.deps.clock.now(),
            virtual_clock=self.deps.virtual_clock,
            signed_in=context.pop("signed_in", True),
            **context,
        )
        response = HTMLResponse(html, status, headers=_HEADERS)
        if fresh:
            session.set_csrf(request, response, token)
        if request.cookies.get(session.FLASH_COOKIE):
            session.clear_flash(request, response)
        return response

    def redirect(self, request: Request, to: str, flash: session.Flash | None = None) -> Response:
        response = RedirectResponse(to, status_code=303, headers=_HEADERS)
        if flash is not None:
            session.flash(request, response, flash.kind, flash.text)
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
        if not session.csrf_ok(request, fields.get(session.CSRF_FIELD)):
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
            signed_in=await self.workspace(request) is not None,
        )

    def not_found(self, request: Request, message: str) -> Response:
        return self.render(request, "message.html", 404, title="Not found", message=message)

    # -- sign in and out ----------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        ws = await self.workspace(request)
        if ws is None:
            return self.sign_in_page(request)
        report = await run_in_threadpool(pages.at_risk, self.deps, ws)
        return self.render(request, "at_risk.html", report=report)

    def sign_in_page(
        self, request: Request, error: str | None = None, status: int = 200
    ) -> Response:
        if error is None and session.api_key(request) is not None:
            error = "Your API key is no longer valid. Sign in with a current key."
        flash = session.Flash("error", error) if error else None
        response = self.render(request, "sign_in.html", status, flash=flash, signed_in=False)
        if session.api_key(request) is not None:
            session.sign_out(request, response)
        return response

    async def sign_in(self, request: Request) -> Response:
        fields = await self.form(request)
        if fields is None:
            return await self.forbidden(request)
        key = fields.get("api_key", "").strip()
        try:
            await run_in_threadpool(authenticate, self.deps, f"Bearer {key}")
        except ServiceError:
            return self.sign_in_page(request, "That API key is not valid.", 401)
        response = self.redirect(request, "/console")
        session.sign_in(request, response, key)
        return response

    async def sign_out(self, request: Request) -> Response:
        if await self.form(request) is None:
            return await self.forbidden(request)
        response = self.redirect(request, "/console", session.Flash("success", "Signed out."))
        session.sign_out(request, response)
        return response

    # -- pages ----------------------------------------------------------------------------------

    async def devices_page(self, request: Request) -> Response:
        ws = await self.workspace(request)
        if ws is None:
            return self.redirect(request, "/console")
        summaries = await run_in_threadpool(pages.device_summaries, self.deps, ws)
        return self.render(request, "devices.html", devices=summaries)

    async def device_page(self, request: Request) -> Response:
        ws = await self.workspace(request)
        if ws is None:
            return self.redirect(request, "/console")
        try:
            device_id = _id(request.path_params["device_id"])
            detail = await run_in_threadpool(pages.device_detail, self.deps, ws, device_id)
        except ServiceError:
            return self.not_found(request, "There is no such device in this workspace.")
        return self.render(request, "device.html", detail=detail, form={})

    async def events_page(self, request: Request) -> Response:
        ws = await self.workspace(request)
        if ws is None:
            return self.redirect(request, "/console")
        recent = await run_in_threadpool(pages.recent_events, self.deps, ws)
        names = await run_in_threadpool(pages.device_names, self.deps, ws)
        return self.render(
            request, "events.html", events=recent, names=names, shown=pages.EVENTS_SHOWN
        )

    # -- actions --------------------------------------------------------------------------------

    def action(
        self, service: Service, done: str, *, managed: bool = True
    ) -> Callable[[Request], Any]:
        """A POST that calls `service` for one code and redirects back with what happened."""

        async def handler(request: Request) -> Response:
            ws = await self.workspace(request)
            if ws is None:
                return self.redirect(request, "/console")
            fields = await self.form(request)
            if fields is None:
                return await self.forbidden(request)
            back = _back(fields.get("next"))
            try:
                p = {"access_code_id": _id(request.path_params["access_code_id"])}
                code = await run_in_threadpool(access_codes.get, self.deps, ws, p, managed=managed)
                await run_in_threadpool(service, self.deps, ws, p)
            except ServiceError as err:
                return self.redirect(request, back, session.Flash("error", err.message))
            label = code.get("name") or "the access code"
            return self.redirect(request, back, session.Flash("success", done.format(label)))

        return handler

    async def create_code(self, request: Request) -> Response:
        device_id = request.path_params["device_id"]
        ws = await self.workspace(request)
        if ws is None:
            return self.redirect(request, "/console")
        fields = await self.form(request)
        if fields is None:
            return await self.forbidden(request)
        try:
            p = _create_params(_id(device_id), fields)
            created = await run_in_threadpool(access_codes.create, self.deps, ws, p)
        except ServiceError as err:
            return await self._create_failed(request, ws, device_id, fields, err)
        name = created["access_code"].get("name") or "The access code"
        text = f"Created “{name}”; pinwarden is programming it onto the lock."
        back = f"/console/devices/{p['device_id']}"
        return self.redirect(request, back, session.Flash("success", text))

    async def _create_failed(
        self, request: Request, ws: str, device_id: str, fields: dict[str, str], err: ServiceError
    ) -> Response:
        """Show the device page again with the form as typed, so nothing has to be re-entered."""
        try:
            detail = await run_in_threadpool(pages.device_detail, self.deps, ws, device_id)
        except ServiceError:
            return self.not_found(request, "There is no such device in this workspace.")
        form = {k: fields.get(k, "") for k in ("name", "code", "starts_at", "ends_at")}
        flash = session.Flash("error", f"The code was not created: {err.message}")
        return self.render(request, "device.html", 400, detail=detail, form=form, flash=flash)


def _id(value: str) -> str:
    """A path id in the form the store keeps; anything else is simply not found."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ServiceError("not_found", "Not found: that id is not a valid UUID.", 404) from None


def _back(target: str | None) -> str:
    """Where to return after an action: a console page of this site, never elsewhere."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console"


def _when(name: str, value: str) -> datetime:
    """A `datetime-local` field (or full ISO 8601), read as UTC when it has no zone."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ServiceError(
            "invalid_input", f"{name} must be a date and time like 2026-12-03T15:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _create_params(device_id: str, fields: dict[str, str]) -> dict[str, Any]:
    p: dict[str, Any] = {"device_id": device_id}
    name = fields.get("name", "").strip()
    if name:
        p["name"] = name
    pin = fields.get("code", "").strip()
    if pin:
        if not _PIN.match(pin):
            raise ServiceError("invalid_input", "the PIN must be 4 to 12 digits")
        p["code"] = pin
    for key in ("starts_at", "ends_at"):
        if fields.get(key, "").strip():
            p[key] = _when(key, fields[key])
    return p


def installer(deps: Deps) -> Callable[[FastAPI], None]:
    """`create_app(..., extra=[installer(deps)])` adds the console to the app."""

    def install(app: FastAPI) -> None:
        console = Console(deps)
        pages_and_forms = [
            ("", console.home, "GET"),
            ("/sign-in", console.sign_in, "POST"),
            ("/sign-out", console.sign_out, "POST"),
            ("/devices", console.devices_page, "GET"),
            ("/devices/{device_id}", console.device_page, "GET"),
            ("/devices/{device_id}/codes", console.create_code, "POST"),
            ("/events", console.events_page, "GET"),
        ]
        actions = [
            ("/codes/{access_code_id}/pull-backup", backups.pull, _PULLED, True),
            ("/codes/{access_code_id}/retry", operator.retry, _RETRYING, True),
            ("/codes/{access_code_id}/delete", access_code_changes.delete_code, _DELETED, True),
            ("/codes/{access_code_id}/forget", operator.force_forget, _FORGOT, True),
            (
                "/unmanaged/{access_code_id}/convert",
                unmanaged.convert_to_managed,
                _CONVERTED,
                False,
            ),
            ("/unmanaged/{access_code_id}/delete", unmanaged.delete_unmanaged, _DELETED, False),
        ]
        # Plain Starlette routes: the handlers read the request themselves, so FastAPI's
        # signature analysis (and its start-up cost for every CLI command) is not needed.
        for path, endpoint, method in pages_and_forms:
            app.add_route(f"/console{path}", endpoint, methods=[method], include_in_schema=False)
        for path, service, done, managed in actions:
            handler = console.action(service, done, managed=managed)
            app.add_route(f"/console{path}", handler, methods=["POST"], include_in_schema=False)
        webhooks_page.install(app, console)
        app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    return install


_RETRYING = "Retrying “{}” now."
_PULLED = "Pulled a backup code for “{}”; give the guest the backup PIN shown here."
_DELETED = "Deleting “{}”: pinwarden removes it from the lock and confirms the removal."
_FORGOT = "Forgot “{}”: pinwarden no longer tracks it."
_CONVERTED = "“{}” is now managed by pinwarden."
