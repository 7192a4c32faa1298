"""API keys of the signed-in workspace: list them, make one (shown once), revoke one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pinwarden.console import confirm
from pinwarden.console import session as cookies
from pinwarden.console.web import Console, Handler, path_id
from pinwarden.service import auth
from pinwarden.service.auth import ApiKeyInfo, NewApiKey
from pinwarden.service.errors import ServiceError
from pinwarden.service.sessions import Session

_KEYS = "/console/keys"


async def _render(
    console: Console,
    request: Request,
    session: Session,
    status: int = 200,
    created: NewApiKey | None = None,
    **extra: object,
) -> Response:
    keys = await console.call(auth.list_api_keys, session.workspace_id)
    return console.render(
        request,
        "keys.html",
        status,
        keys=keys,
        current=session.api_key_id,
        created=created,
        **extra,
    )


async def keys_page(console: Console, request: Request, session: Session) -> Response:
    return await _render(console, request, session)


async def create_key(console: Console, request: Request, session: Session) -> Response:
    """Make a key and show it on this response only: it is never stored or sent again."""
    fields = await console.form(request)
    if fields is None:
        return await console.forbidden(request)
    name = fields.get("name", "").strip() or "console"
    try:
        created = await console.call(auth.create_api_key, session.workspace_id, name)
    except ServiceError as err:
        flash = cookies.Flash("error", f"No key was made: {err.message}")
        return await _render(console, request, session, 400, flash=flash)
    return await _render(console, request, session, created=created)


async def _own_key(console: Console, request: Request, session: Session) -> ApiKeyInfo:
    key_id = path_id(request, "api_key_id")
    keys: list[ApiKeyInfo] = await console.call(auth.list_api_keys, session.workspace_id)
    found = next((k for k in keys if k.api_key_id == key_id), None)
    if found is None:
        raise ServiceError("api_key_not_found", "There is no such API key in this workspace.", 404)
    return found


async def revoke_page(console: Console, request: Request, session: Session) -> Response:
    try:
        key = await _own_key(console, request, session)
    except ServiceError as err:
        return console.not_found(request, err.message)
    page = confirm.revoke_key(key, current=key.api_key_id == session.api_key_id)
    return console.render(request, "confirm.html", confirmation=page, next=_KEYS)


async def revoke(console: Console, request: Request, session: Session) -> Response:
    if await console.form(request) is None:
        return await console.forbidden(request)
    try:
        key = await _own_key(console, request, session)
        await console.call(auth.revoke_api_key, key.api_key_id, session.workspace_id)
    except ServiceError as err:
        return console.redirect(request, _KEYS, cookies.Flash("error", err.message))
    if key.api_key_id == session.api_key_id:
        text = f"Revoked “{key.name}”, the key you signed in with: sign in with another key."
        response = console.redirect(request, "/console", cookies.Flash("success", text))
        cookies.sign_out(request, response)
        return response
    text = f"Revoked “{key.name}” ({key.prefix}): it no longer works."
    return console.redirect(request, _KEYS, cookies.Flash("success", text))


ROUTES: list[tuple[str, Handler, str]] = [
    ("/keys", keys_page, "GET"),
    ("/keys", create_key, "POST"),
    ("/keys/{api_key_id}/revoke", revoke_page, "GET"),
    ("/keys/{api_key_id}/revoke", revoke, "POST"),
]
