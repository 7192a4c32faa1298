"""The application factory: explicit arguments, no globals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from uuid import uuid4

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute
from starlette.types import Receive, Scope, Send

from pinwarden.api.params import P, parse, query_to_raw
from pinwarden.service.auth import authenticate
from pinwarden.service.deps import Deps
from pinwarden.service.errors import InvalidInput, ServiceError

log = logging.getLogger("pinwarden.api")

MAX_BODY_BYTES = 1024 * 1024
Handler = Callable[[Deps, str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    """One Seam route: `handler(deps, workspace_id, params) -> body` (without `ok`)."""

    path: str
    methods: tuple[str, ...]
    params: tuple[P, ...]
    handler: Handler
    slow: bool = False  # may run for seconds (the virtual clock): always off the event loop


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"seam-request-id": str(uuid4())},
    )


def error_response(err: ServiceError) -> Response:
    return json_response(err.body(), err.status)


def _internal_error() -> ServiceError:
    return ServiceError("internal_server_error", "an unexpected error occurred; it was logged", 500)


def _bad_body(message: str) -> InvalidInput:
    return InvalidInput({}, form_errors=[message])


class SeamEndpoint:
    """One Seam route as a plain ASGI app: authenticate, read the parameters (query string or
    JSON body), call the handler, answer in Seam's envelope.

    It is the whole request path: `App` hands it its requests before FastAPI's middleware and
    routing, which cost more than a `get` itself. `inline`: run the handler on the event loop.
    On SQLite a handler is a few hundred microseconds of local I/O under the GIL, so a thread
    hop costs more than it frees; on PostgreSQL handlers wait on the network and go to the
    thread pool."""

    def __init__(self, route: Route, deps: Deps, *, inline: bool) -> None:
        self.route = route
        self.deps = deps
        self.inline = inline
        # Starlette also answers HEAD wherever GET is allowed.
        self.methods = frozenset(route.methods) | ({"HEAD"} if "GET" in route.methods else set())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await self._answer(scope, receive)
            body["ok"] = True
            await _send_json(send, 200, orjson.dumps(body))
        except ServiceError as err:
            await _send_json(send, err.status, orjson.dumps(err.body()))
        except Exception:
            # Answered here rather than by the server, which would drop the client's keep-alive
            # connection and fail its next request.
            log.exception("unhandled error on %s", scope["path"])
            err = _internal_error()
            await _send_json(send, err.status, orjson.dumps(err.body()))

    async def _answer(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        if scope["method"] not in self.methods:
            allowed = ", ".join(sorted(self.methods))
            raise ServiceError("method_not_allowed", f"only {allowed} accepted", 405)
        headers = dict(scope["headers"])
        workspace_id = authenticate(self.deps, _header(headers, b"authorization"))
        raw, from_query = await _read_raw(scope, receive, headers, self.route)
        params = parse(self.route.params, raw, from_query)
        if self.inline:
            return self.route.handler(self.deps, workspace_id, params)
        return await run_in_threadpool(self.route.handler, self.deps, workspace_id, params)


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


async def _send_json(send: Send, status: int, body: bytes) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"seam-request-id", str(uuid4()).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive, headers: dict[bytes, bytes]) -> bytes:
    """The body, refused as soon as it is known to be over MAX_BODY_BYTES (never read whole)."""
    too_large = _bad_body(f"the request body is larger than {MAX_BODY_BYTES} bytes")
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _read_raw(
    scope: Scope, receive: Receive, headers: dict[bytes, bytes], route: Route
) -> tuple[dict[str, Any], bool]:
    """Parameters from the query string (GET/DELETE) or the JSON body; a GET may carry a body."""
    body = await _read_body(receive, headers)
    if body.strip():
        if b"json" not in headers.get(b"content-type", b""):
            raise ServiceError(
                "invalid_content_type", "send the body as JSON with Content-Type: application/json"
            )
        try:
            raw = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise _bad_body(f"the body is not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise _bad_body("the JSON body must be an object")
        return raw, False
    query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    return query_to_raw(query, route.params), True


class App(FastAPI):
    """FastAPI, for the console and everything else, behind a table of Seam's routes that are
    answered directly (`SeamEndpoint`)."""

    def __init__(self, seam: dict[str, SeamEndpoint], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seam = seam

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.seam.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None:
            await super().__call__(scope, receive, send)
        else:
            await endpoint(scope, receive, send)


def create_app(
    deps: Deps, routes: list[Route], extra: list[Callable[[FastAPI], None]] = ()
) -> FastAPI:  # type: ignore[assignment]
    inline = deps.store.is_sqlite
    seam = {r.path: SeamEndpoint(r, deps, inline=inline and not r.slow) for r in routes}
    app = App(seam, title="pinwarden", docs_url=None, redoc_url=None, openapi_url=None)
    for path, endpoint in seam.items():
        # Also in FastAPI's router, which redirects `/access_codes/get/` to the route.
        app.router.routes.append(StarletteRoute(path, endpoint))

    @app.get("/health")
    async def health() -> Response:
        return json_response({"ok": True})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:
            allowed = exc.headers.get("Allow", "") if exc.headers else ""
            return error_response(
                ServiceError("method_not_allowed", f"only {allowed} accepted", 405)
            )
        if exc.status_code == 404:
            return error_response(ServiceError("not_found", f"no route {request.url.path}", 404))
        return error_response(ServiceError("http_error", str(exc.detail), exc.status_code))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(ServiceError("invalid_input", "the request is not valid"))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return error_response(_internal_error())

    for install in extra:
        install(app)
    return app
