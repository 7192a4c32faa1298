"""One websocket to a Z-Wave JS server, kept open: reconnects with backoff until closed.

zwave-js-server-python's `Client` serves one connection; this wraps it the way Home Assistant's
zwave_js integration does (connect, `listen` until the driver is ready, then until the socket
closes) and starts over with exponential backoff when the server goes away. Commands go through
`call`, which turns a lost connection into `AccountUnavailable` so the engine never fails a code
because pinwarden lost its link to the server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import aiohttp
from zwave_js_server.client import Client
from zwave_js_server.exceptions import NotConnected, TransportError
from zwave_js_server.model.driver import Driver

from pinwarden.providers.base import AccountUnavailable

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds to wait before the next connection attempt: `first`, doubling, at most `most`."""

    first: float = 1.0
    most: float = 60.0

    def after(self, delay: float) -> float:
        return min(delay * 2, self.most)


def quiet_library_debug_log() -> None:
    """zwave-js-server-python logs every message it sends and receives at DEBUG, PINs
    included: its own logger is held at INFO, whatever level the application logs at."""
    library = logging.getLogger("zwave_js_server")
    if library.level < logging.INFO:  # NOTSET (0) included: it would inherit DEBUG
        library.setLevel(logging.INFO)


def describe_url(url: str) -> str:
    """The server's address for messages: scheme, host and port, never credentials."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


class Connection:
    """A kept-open connection. `on_ready(driver, reconnected)` runs each time the driver's
    state has been received (listeners go on that driver). While there is none, `connected` is
    False and commands raise AccountUnavailable."""

    def __init__(
        self,
        url: str,
        on_ready: Callable[[Driver, bool], None],
        backoff: Backoff = Backoff(),
        command_timeout: float = 30.0,
        ready_timeout: float = 120.0,
    ) -> None:
        self.url = url
        self.where = describe_url(url)
        self._on_ready = on_ready
        self._backoff = backoff
        self.command_timeout = command_timeout
        # How long a server may take to send its state (a big network, a busy host).
        self._ready_timeout = ready_timeout
        self._session: aiohttp.ClientSession | None = None
        self._client: Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._tried = asyncio.Event()
        self._closing = False

    @property
    def connected(self) -> bool:
        client = self._client
        return client is not None and client.connected and client.driver is not None

    @property
    def driver(self) -> Driver:
        """The live driver state; raises AccountUnavailable while there is none."""
        client = self._client
        if client is None or client.driver is None or not client.connected:
            raise AccountUnavailable(f"not connected to the Z-Wave JS server at {self.where}")
        return client.driver

    @property
    def client(self) -> Client:
        self.driver  # noqa: B018 - raises when not connected
        assert self._client is not None
        return self._client

    async def open(self) -> None:
        """Start connecting; returns once the first attempt has succeeded or failed (the
        attempts go on in the background either way)."""
        if self._task is not None:
            return
        quiet_library_debug_log()
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name=f"zwave-js {self.where}")
        await self._tried.wait()

    async def close(self) -> None:
        self._closing = True
        client, task = self._client, self._task
        if client is not None:
            await client.disconnect()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        self._task = self._session = self._client = None

    async def call(self, awaitable: Awaitable[T], doing: str) -> T:
        """Await one command. A connection lost meanwhile raises AccountUnavailable; no
        answer within `command_timeout` raises TimeoutError (the lock's silence, for the
        caller to judge); a refused command raises the library's FailedCommand."""
        try:
            async with asyncio.timeout(self.command_timeout):
                return await awaitable
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # we are being cancelled ourselves
            # The client cancels every pending command when its socket closes.
            raise AccountUnavailable(
                f"the connection to the Z-Wave JS server at {self.where} was lost while {doing}"
            ) from None
        except (NotConnected, TransportError):
            raise AccountUnavailable(
                f"the connection to the Z-Wave JS server at {self.where} was lost while {doing}"
            ) from None

    # -- the connection loop -----------------------------------------------------------------

    async def _run(self) -> None:
        delay = self._backoff.first
        reconnected = failing = False
        while not self._closing:
            try:
                if await self._serve(reconnected):
                    delay, reconnected, failing = self._backoff.first, True, False
            except Exception as exc:  # whatever ended it, the loop goes on until closed
                # Said once per outage, then quietly until the server is back.
                level = logging.DEBUG if failing else logging.WARNING
                log.log(level, "cannot reach the Z-Wave JS server at %s: %s", self.where, _why(exc))
                failing = True
            finally:
                self._tried.set()
            if self._closing:
                return
            await asyncio.sleep(delay)
            delay = self._backoff.after(delay)

    async def _serve(self, reconnected: bool) -> bool:
        """One connection, until it closes. True if the driver's state was received."""
        assert self._session is not None
        client = Client(self.url, self._session)
        await client.connect()
        ready = asyncio.Event()
        listening = asyncio.create_task(client.listen(ready))
        became_ready = asyncio.create_task(ready.wait())
        await asyncio.wait(
            {listening, became_ready},
            timeout=self._ready_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not ready.is_set():
            became_ready.cancel()
            if not listening.done():
                await client.disconnect()
                raise TimeoutError(f"no driver state within {self._ready_timeout:g} s")
            await listening  # raises what ended it
            return False
        assert client.driver is not None
        self._client = client
        log.info("connected to the Z-Wave JS server at %s", self.where)
        try:
            self._on_ready(client.driver, reconnected)
        except Exception:  # the account's listeners; the connection itself is fine
            log.exception("setting up after connecting to %s failed", self.where)
        self._tried.set()
        try:
            await listening
        except Exception as exc:  # the socket failed rather than closed: the same to us
            log.debug("the connection to %s ended: %s", self.where, _why(exc))
        finally:
            self._client = None
            if not self._closing:
                log.warning("lost the Z-Wave JS server at %s; reconnecting", self.where)
        return True


def _why(exc: BaseException) -> str:
    """An exception in a few words for the log (the library's texts hold no secrets; a URL's
    credentials, if any, are not part of them)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
