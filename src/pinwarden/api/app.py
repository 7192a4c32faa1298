"""The application factory: explicit arguments, no globals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute

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


async def _read_body(request: Request) -> bytes:
    """The body, refused as soon as it is known to be over MAX_BODY_BYTES (never read whole)."""
    too_large = _bad_body(f"the request body is larger than {MAX_BODY_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def read_raw(request: Request, route: Route) -> tuple[dict[str, Any], bool]:
    """Parameters from the query string (GET/DELETE) or the JSON body; a GET may carry a body."""
    body = await _read_body(request)
    if body.strip():
        content_type = request.headers.get("content-type", "")
        if "json" not in content_type:
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
    return query_to_raw(request.query_params.multi_items(), route.params), True


def make_endpoint(route: Route, deps: Deps, *, inline: bool) -> Callable[[Request], Any]:
    """`inline`: run the handler on the event loop. On SQLite a handler is a few hundred
    microseconds of local I/O under the GIL, so a thread hop costs more than it frees; on
    PostgreSQL handlers wait on the network and go to the thread pool."""

    async def endpoint(request: Request) -> Response:
        try:
            workspace_id = authenticate(deps, request.headers.get("authorization"))
            raw, from_query = await read_raw(request, route)
            params = parse(route.params, raw, from_query)
            if inline:
                body = route.handler(deps, workspace_id, params)
            else:
                body = await run_in_threadpool(route.handler, deps, workspace_id, params)
        except ServiceError as err:
            return error_response(err)
        except Exception:
            # Answered here rather than by the app's handler, which re-raises to the server:
            # that would drop the client's keep-alive connection and fail its next request.
            log.exception("unhandled error on %s", request.url.path)
            return error_response(_internal_error())
        body["ok"] = True
        return json_response(body)

    endpoint.__name__ = route.path.strip("/").replace("/", "_")
    return endpoint


def create_app(
    deps: Deps, routes: list[Route], extra: list[Callable[[FastAPI], None]] = ()
) -> FastAPI:  # type: ignore[assignment]
    app = FastAPI(title="pinwarden", docs_url=None, redoc_url=None, openapi_url=None)
    inline = deps.store.is_sqlite
    for route in routes:
        # Plain Starlette routes: parameters are read by api/params.py, so FastAPI's per-request
        # dependency solving would be pure overhead.
        app.router.routes.append(
            StarletteRoute(
                route.path,
                make_endpoint(route, deps, inline=inline and not route.slow),
                methods=list(route.methods),
            )
        )

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
