"""The console's cookies: who is signed in, the CSRF token, and a one-shot flash message.

The session cookie (HttpOnly, SameSite=Strict) holds a random session token, never the API
key; the session itself lives on the server (service/sessions.py), so signing out or revoking
the key ends it and a replayed cookie is worthless. CSRF uses a double-submit token: each form
carries the token from the CSRF cookie and a POST is accepted only when both match.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "pinwarden_console_session"
CSRF_COOKIE = "pinwarden_console_csrf"
FLASH_COOKIE = "pinwarden_console_flash"
CSRF_FIELD = "csrf_token"
COOKIE_PATH = "/console"

FlashKind = Literal["success", "error"]


@dataclass(frozen=True)
class Flash:
    kind: FlashKind
    text: str


def _set(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _clear(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def sign_in(request: Request, response: Response, token: str) -> None:
    _set(request, response, SESSION_COOKIE, token)
    # A fresh CSRF token per session: a token planted before sign-in is worthless after it.
    _set(request, response, CSRF_COOKIE, new_csrf_token())


def sign_out(request: Request, response: Response) -> None:
    _clear(request, response, SESSION_COOKIE)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(request: Request) -> tuple[str, bool]:
    """The request's CSRF token and whether it is new (and must be set on the response)."""
    token = request.cookies.get(CSRF_COOKIE)
    if token:
        return token, False
    return new_csrf_token(), True


def set_csrf(request: Request, response: Response, token: str) -> None:
    _set(request, response, CSRF_COOKIE, token)


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """The submitted token matches the cookie, and the request did not come from another site."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        return False
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc == request.headers.get("host", "")
    return True


def flash(request: Request, response: Response, kind: FlashKind, text: str) -> None:
    value = base64.urlsafe_b64encode(orjson.dumps({"kind": kind, "text": text})).decode()
    _set(request, response, FLASH_COOKIE, value)


def read_flash(request: Request) -> Flash | None:
    """The pending flash message; `clear_flash` once it is shown."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = orjson.loads(base64.urlsafe_b64decode(raw.encode()))
        kind: FlashKind = "error" if data["kind"] == "error" else "success"
        return Flash(kind, str(data["text"]))
    except (ValueError, KeyError, TypeError):
        return None


def clear_flash(request: Request, response: Response) -> None:
    _clear(request, response, FLASH_COOKIE)
