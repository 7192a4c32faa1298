"""A lock's page: its codes, its calendar, its time zone, the code form, and (for a sandbox
lock) how to try its brand's rules."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from starlette.requests import Request
from starlette.responses import Response

from pinwarden.console import forms, pages, sandbox_panel
from pinwarden.console import session as cookies
from pinwarden.console.calendar import STATES
from pinwarden.console.views import zone_of
from pinwarden.console.web import Console, Handler, path_id
from pinwarden.service import access_codes, devices
from pinwarden.service.errors import ServiceError
from pinwarden.service.sessions import Session

_NO_SUCH_DEVICE = "There is no such device in this workspace."


def _page(deps: Any, ws: str, device_id: str) -> dict[str, Any]:
    detail = pages.device_detail(deps, ws, device_id)
    return {
        "detail": detail,
        "sandbox": sandbox_panel.panel(deps, ws, detail.device, detail.policy),
        "zones": sorted(available_timezones()),
        "states": STATES,
    }


async def _render(
    console: Console, request: Request, ws: str, device_id: str, status: int = 200, **extra: Any
) -> Response:
    try:
        context = await console.call(_page, ws, device_id)
    except ServiceError:
        return console.not_found(request, _NO_SUCH_DEVICE)
    return console.render(request, "device.html", status, **{"form": {}, **context, **extra})


async def device_page(console: Console, request: Request, session: Session) -> Response:
    try:
        device_id = path_id(request, "device_id")
    except ServiceError:
        return console.not_found(request, _NO_SUCH_DEVICE)
    return await _render(console, request, session.workspace_id, device_id)


async def create_code(console: Console, request: Request, session: Session) -> Response:
    fields = await console.form(request)
    if fields is None:
        return await console.forbidden(request)
    ws = session.workspace_id
    try:
        device_id = path_id(request, "device_id")
        device = await console.call(devices.get_device, ws, {"device_id": device_id})
    except ServiceError:
        return console.not_found(request, _NO_SUCH_DEVICE)
    try:
        p = forms.code_params(fields, zone_of(device), editing=False)
        created = await console.call(access_codes.create, ws, {"device_id": device_id, **p})
    except ServiceError as err:
        flash = cookies.Flash("error", f"The code was not created: {err.message}")
        return await _render(
            console, request, ws, device_id, 400, form=forms.kept(fields), flash=flash
        )
    name = created["access_code"].get("name") or "The access code"
    text = f"Created “{name}”; pinwarden is programming it onto the lock."
    return console.redirect(
        request, f"/console/devices/{device_id}", cookies.Flash("success", text)
    )


async def set_time_zone(console: Console, request: Request, session: Session) -> Response:
    fields = await console.form(request)
    if fields is None:
        return await console.forbidden(request)
    try:
        device_id = path_id(request, "device_id")
    except ServiceError:
        return console.not_found(request, _NO_SUCH_DEVICE)
    zone = fields.get("time_zone", "").strip() or None
    back = f"/console/devices/{device_id}"
    try:
        p = {"device_id": device_id, "time_zone": zone}
        await console.call(devices.update_device, session.workspace_id, p)
    except ServiceError as err:
        return console.redirect(request, back, cookies.Flash("error", err.message))
    text = f"Times on this lock are now shown in {zone}." if zone else "Times are shown in UTC."
    return console.redirect(request, back, cookies.Flash("success", text))


ROUTES: list[tuple[str, Handler, str]] = [
    ("/devices/{device_id}", device_page, "GET"),
    ("/devices/{device_id}/codes", create_code, "POST"),
    ("/devices/{device_id}/time-zone", set_time_zone, "POST"),
]
