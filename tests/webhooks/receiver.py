"""A receiving application: a real HTTP server on loopback that verifies every delivery with
Seam's SDK (`seam.SeamWebhook(secret).verify(payload, headers)`), as a Seam customer's app does.

It can be told to fail (`status`), to hold requests until released (`hold`), or to redirect.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from seam import SeamWebhook


@dataclass(frozen=True)
class Delivery:
    webhook_id: str  # the `webhook-id` header
    event: dict[str, Any]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.status = 200  # what to answer a verified delivery
        self.redirect_to: str | None = None
        self.hold: threading.Event | None = None  # set: answer; unset: keep the request waiting
        self.received: list[Delivery] = []  # verified and answered 2xx
        self.refused: list[Delivery] = []  # verified and answered with an error status
        self.rejected: list[str] = []  # failed verification: must stay empty
        self.waiting = 0  # requests held right now
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/webhooks"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: nothing was delivered
                    self.close_connection = True
                    return
                status = receiver.take(body, dict(self.headers.items()))
                self.send_response(status)
                if status in (301, 302, 307, 308) and receiver.redirect_to:
                    self.send_header("location", receiver.redirect_to)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def take(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            SeamWebhook(self.secret).verify(body.decode(), headers)
        except Exception as exc:  # noqa: BLE001 (any refusal is a failed verification)
            with self._lock:
                self.rejected.append(
                    f"{type(exc).__name__}: {exc} ({headers.get('webhook-id')}: {body[:80]!r})"
                )
            return 400
        self._wait_if_held()
        delivery = Delivery(headers["webhook-id"], orjson.loads(body), body)
        status = self.status
        with self._lock:
            (self.received if 200 <= status < 300 else self.refused).append(delivery)
        return status

    def _wait_if_held(self) -> None:
        hold = self.hold
        if hold is None:
            return
        with self._lock:
            self.waiting += 1
        hold.wait(60)
        with self._lock:
            self.waiting -= 1

    def event_ids(self) -> list[str]:
        with self._lock:
            return [d.event["event_id"] for d in self.received]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out: {len(self.received)} received, {len(self.refused)} refused"
                )
            time.sleep(0.02)

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            if self.hold is not None:
                self.hold.set()
            self._server.shutdown()
            self._server.server_close()
