"""Actions on one access code: pull a backup, retry, edit, and the confirmed ones (delete,
forget, delete or convert an unmanaged code)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pinwarden.console import confirm, forms
from pinwarden.console import session as cookies
from pinwarden.console.templating import local_input
from pinwarden.console.views import zone_of
from pinwarden.console.web import Console, Handler, back, path_id
from pinwarden.service import access_code_changes, access_codes, backups, devices, operator
from pinwarden.service import unmanaged as unmanaged_codes
from pinwarden.service.errors import ServiceError
from pinwarden.service.sessions import Session

Service = Callable[..., Any]
Builder = Callable[..., confirm.Confirmation]


def act(service: Service, done: str, *, managed: bool = True) -> Handler:
    """A POST that calls `service` for one code and redirects back with what happened."""

    async def handler(console: Console, request: Request, session: Session) -> Response:
        fields = await console.form(request)
        if fields is None:
            return await console.forbidden(request)
        to = back(fields.get("next"))
        ws = session.workspace_id
        try:
            p = {"access_code_id": path_id(request, "access_code_id")}
            code = await console.call(_get(managed), ws, p)
            await console.call(service, ws, p)
        except ServiceError as err:
            return console.redirect(request, to, cookies.Flash("error", err.message))
        text = done.format(code.get("name") or "the access code")
        return console.redirect(request, to, cookies.Flash("success", text))

    return handler


def _get(managed: bool) -> Callable[..., dict[str, Any]]:
    def get(deps: Any, ws: str, p: dict[str, Any]) -> dict[str, Any]:
        return access_codes.get(deps, ws, p, managed=managed)

    return get


def confirmation(build: Builder) -> Handler:
    """The GET that shows what an action will do, with the button that does it."""

    async def handler(console: Console, request: Request, session: Session) -> Response:
        try:
            access_code_id = path_id(request, "access_code_id")
            page = await console.call(build, session.workspace_id, access_code_id)
        except ServiceError as err:
            return console.not_found(request, err.message)
        to = back(request.query_params.get("next"))
        return console.render(request, "confirm.html", confirmation=page, next=to)

    return handler


async def convert(console: Console, request: Request, session: Session) -> Response:
    """Take over an unmanaged code, and say what is left to do for codes that share its PIN."""
    fields = await console.form(request)
    if fields is None:
        return await console.forbidden(request)
    to, ws = back(fields.get("next")), session.workspace_id
    try:
        p = {"access_code_id": path_id(request, "access_code_id")}
        code = await console.call(_get(False), ws, p)
        waiting = await console.call(confirm.sharing_pin, ws, code)
        await console.call(unmanaged_codes.convert_to_managed, ws, p)
    except ServiceError as err:
        return console.redirect(request, to, cookies.Flash("error", err.message))
    name = code.get("name") or "The code"
    text = f"“{name}” is now managed by pinwarden."
    for other in waiting:
        text += (
            f" “{other}” still has the same PIN: give “{other}” another PIN (Change PIN) "
            f"or delete “{name}”."
        )
    return console.redirect(request, to, cookies.Flash("success", text))


# -- editing ----------------------------------------------------------------------------------------


def _editable(deps: Any, ws: str, access_code_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(code, device) for the edit form; a code being removed cannot be edited."""
    code = access_codes.get(deps, ws, {"access_code_id": access_code_id})
    if code.get("status") == "removing":
        raise ServiceError("invalid_input", "this code is being removed; create a new one")
    device = devices.get_device(deps, ws, {"device_id": code["device_id"]})
    return code, device


def _edit_form(code: dict[str, Any], device: dict[str, Any]) -> dict[str, str]:
    zone = zone_of(device)
    return {
        "name": code.get("name") or "",
        "code": code.get("code") or "",
        "starts_at": local_input(code.get("starts_at"), zone),
        "ends_at": local_input(code.get("ends_at"), zone),
    }


async def edit_page(console: Console, request: Request, session: Session) -> Response:
    try:
        access_code_id = path_id(request, "access_code_id")
        code, device = await console.call(_editable, session.workspace_id, access_code_id)
    except ServiceError as err:
        return console.not_found(request, err.message)
    to = back(request.query_params.get("next"), f"/console/devices/{code['device_id']}")
    form = _edit_form(code, device)
    return console.render(request, "code_edit.html", code=code, device=device, form=form, next=to)


async def edit(console: Console, request: Request, session: Session) -> Response:
    fields = await console.form(request)
    if fields is None:
        return await console.forbidden(request)
    ws = session.workspace_id
    try:
        access_code_id = path_id(request, "access_code_id")
        code, device = await console.call(_editable, ws, access_code_id)
    except ServiceError as err:
        return console.not_found(request, err.message)
    to = back(fields.get("next"), f"/console/devices/{code['device_id']}")
    try:
        p = forms.code_params(
            _exact_if_unchanged(fields, code, device), zone_of(device), editing=True
        )
        if _generated(device):
            p.pop("code", None)  # the lock system makes up its PINs; the field is read-only
        await console.call(
            access_code_changes.update_code, ws, {"access_code_id": access_code_id, **p}
        )
    except ServiceError as err:
        flash = cookies.Flash("error", f"Nothing was changed: {err.message}")
        form = forms.kept(fields)
        return console.render(
            request,
            "code_edit.html",
            400,
            code=code,
            device=device,
            form=form,
            next=to,
            flash=flash,
        )
    name = p.get("name") or "the code"
    text = f"Saved “{name}”; pinwarden is changing it on the lock."
    return console.redirect(request, to, cookies.Flash("success", text))


def _exact_if_unchanged(
    fields: dict[str, str], code: dict[str, Any], device: dict[str, Any]
) -> dict[str, str]:
    """The form with each time left as shown replaced by the code's exact time: the form shows
    minutes, and saving a new name must not move a stay by its seconds."""
    shown = _edit_form(code, device)
    exact = dict(fields)
    for key in ("starts_at", "ends_at"):
        if code.get(key) and fields.get(key, "").strip() == shown[key]:
            exact[key] = code[key]
    return exact


def _generated(device: dict[str, Any]) -> bool:
    rules = device["properties"].get("code_constraints", [])
    return any(r.get("constraint_type") == "cannot_specify_pin_code" for r in rules)


_RETRYING = "Retrying “{}” now."
_PULLED = "Pulled a backup code for “{}”; give the guest its PIN once it shows as on the lock."
_DELETED = "Deleting “{}”: pinwarden removes it from the lock and confirms the removal."
_FORGOT = "Forgot “{}”: pinwarden no longer tracks it."

ROUTES: list[tuple[str, Handler, str]] = [
    ("/codes/{access_code_id}/pull-backup", act(backups.pull, _PULLED), "POST"),
    ("/codes/{access_code_id}/retry", act(operator.retry, _RETRYING), "POST"),
    ("/codes/{access_code_id}/edit", edit_page, "GET"),
    ("/codes/{access_code_id}/edit", edit, "POST"),
    ("/codes/{access_code_id}/delete", confirmation(confirm.delete_code), "GET"),
    ("/codes/{access_code_id}/delete", act(access_code_changes.delete_code, _DELETED), "POST"),
    ("/codes/{access_code_id}/forget", confirmation(confirm.forget), "GET"),
    ("/codes/{access_code_id}/forget", act(operator.force_forget, _FORGOT), "POST"),
    ("/unmanaged/{access_code_id}/convert", confirmation(confirm.convert), "GET"),
    ("/unmanaged/{access_code_id}/convert", convert, "POST"),
    ("/unmanaged/{access_code_id}/delete", confirmation(confirm.delete_unmanaged), "GET"),
    (
        "/unmanaged/{access_code_id}/delete",
        act(unmanaged_codes.delete_unmanaged, _DELETED, managed=False),
        "POST",
    ),
]
