"""The webhook dispatcher: sends due deliveries from its own thread and event loop.

It never holds back the API or the engine (neither waits on it), and an endpoint never holds
back another: each has at most `policy.per_endpoint` attempts in flight (its other claimed
deliveries wait their turn), out of `policy.concurrency` in all, and every attempt ends within
`policy.timeout`.

Time: what is due, and when an attempt happened, comes from the injected clock, so on the
virtual clock `ManualRunner.advance_to` steps through deliveries with everything else
(`next_due` and `run_due` are its `DueWork`). Signatures carry the wall clock's time, which is
what a receiver checks them against.

- `pinwarden serve` (embedded runtime): `start()` polls, and is nudged after every commit in
  the process but its own (`Store.watch_commits`), so an event goes out a few milliseconds
  after the transaction that wrote it. While commits keep coming, steps are at least
  `STEP_SECONDS` apart, each fanning out all that came in meanwhile: a step per create (one
  trip to the store of several statements) cost more than the create itself.
- the distributed runtime: procrastinate jobs call `claim_due` and `deliver` (events/jobs.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx

from pinwarden.engine.clock import Clock, SystemClock
from pinwarden.events import attempts, claims, outbox
from pinwarden.events.attempts import Attempt
from pinwarden.events.claims import Claimed
from pinwarden.events.policy import DeliveryPolicy
from pinwarden.events.sender import attempt, http_client
from pinwarden.store.store import Store

log = logging.getLogger("pinwarden.webhooks")

T = TypeVar("T")
# How often an idle dispatcher looks for due retries (commits in this process nudge it sooner).
POLL_SECONDS = 0.25
# While attempts are in flight, how long to gather answers before asking the store for work.
GATHER_SECONDS = 0.005
# The shortest time from one step to the next while commits keep coming.
STEP_SECONDS = 0.01
# With no webhook enabled, how often the outbox is cleared.
CLEAR_SECONDS = 1.0

# Set on a thread while it does the dispatcher's own store work (`_as_dispatcher`).
_own = threading.local()


def _as_dispatcher(work: Callable[..., T], *args: Any) -> T:
    """Run the dispatcher's own store work: its commits (fanning out, claiming, recording
    attempts) do not nudge the dispatcher, which looks again when they are done anyway."""
    _own.active = True
    try:
        return work(*args)
    finally:
        _own.active = False


class Dispatcher:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        policy: DeliveryPolicy | None = None,
        wall: Clock | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy or DeliveryPolicy()
        self.wall = wall or SystemClock()
        # The loop and its thread are made on first use: most commands that
        # build a runtime never send a webhook.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Per endpoint: its own connections (a pool of `per_endpoint`), and a gate that lets
        # `per_endpoint` attempts through at once; `_slots`: `concurrency` in all.
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._sending: set[asyncio.Task[Attempt]] = set()
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._slots = asyncio.Semaphore(self.policy.concurrency)
        self._done: list[Attempt] = []
        self._wake = asyncio.Event()  # bound to the loop when first awaited there
        self._poller: asyncio.Task[None] | None = None  # the embedded runtime's `_poll`
        # When the outbox was last cleared with no webhook enabled (time.monotonic).
        self._cleared_at = float("-inf")
        # When the last step that found events in the outbox began (on the loop's clock).
        self._fanned_at = float("-inf")
        # Whether a commit's nudge is on its way to the loop (`_nudge`).
        self._nudged = False
        self._nudge_lock = threading.Lock()

    # -- DueWork: the virtual clock steps through deliveries -----------------------------------

    def next_due(self) -> datetime | None:
        return claims.next_due(self.store, self.wall.now())

    def run_due(self, now: datetime) -> None:
        """Send everything due by `now`, and wait for it (and for what is in flight)."""
        self._call(self._drain(now))

    # -- the embedded runtime ------------------------------------------------------------------

    def start(self) -> None:
        """Poll in the background. The only dispatcher of this database: claims left in the
        store belong to a process that died, and are released at once."""
        claims.release_claims(self.store)
        loop = self._running_loop()
        self.store.watch_commits(self._nudge)
        self._poller = asyncio.run_coroutine_threadsafe(self._start_polling(), loop).result()

    def close(self) -> None:
        if self._poller is not None:
            self.store.unwatch_commits(self._nudge)
        if self._loop is None or self._thread is None:
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = self._thread = self._poller = None

    # -- the distributed runtime ----------------------------------------------------------------

    def claim_due(self) -> list[Claimed]:
        """Fan out new events and claim what is due now (for jobs to send)."""
        outbox.fan_out(self.store)
        return claims.claim(
            self.store, self.clock.now(), self.wall.now(), self.policy, self.policy.concurrency
        )

    def deliver(self, delivery_ids: Sequence[str]) -> None:
        """Send claimed deliveries, concurrently, and record how each went; then go on with
        what else is due for the same endpoints, so a backlog is not held to one batch per
        sweep."""
        claimed = claims.load_claimed(self.store, delivery_ids, self.wall.now())
        endpoints = sorted({c.webhook_id for c in claimed})
        while claimed:
            self._call(self._send_all(claimed))
            claimed = claims.claim(
                self.store,
                self.clock.now(),
                self.wall.now(),
                self.policy,
                self.policy.concurrency,
                webhook_ids=endpoints,
            )

    # -- on the loop ----------------------------------------------------------------------------

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="pinwarden-webhooks", daemon=True
                )
                self._thread.start()
            return self._loop

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._running_loop()).result()

    def _nudge(self) -> None:
        """A transaction of this process has committed (not one of the dispatcher's own):
        look at the store. While a look is on its way, another commit needs none of its own:
        the look starts after it (`_poll` clears `_nudged` just before each step), so a burst
        of creates wakes the dispatcher's thread once a step, not once a commit."""
        if self._loop is None or getattr(_own, "active", False):
            return
        with self._nudge_lock:
            if self._nudged:
                return
            self._nudged = True
        self._loop.call_soon_threadsafe(self._wake.set)

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self._step(self.clock.now(), lazy=True)
            except Exception:
                log.exception("webhook dispatch failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
                # Woken: events committed within STEP_SECONDS of the last ones fanned out go
                # out together. Busy: let more answers come in before asking the store.
                gather = GATHER_SECONDS if self._sending else 0.0
                await asyncio.sleep(max(gather, self._fanned_at + STEP_SECONDS - loop.time()))
            with self._nudge_lock:
                self._nudged = False
                self._wake.clear()

    async def _step(self, now: datetime, lazy: bool = False) -> int:
        """Record what finished, fan out new events, start what is due; returns how many.
        `lazy` (the embedded runtime's polling): with no webhook enabled, the outbox is
        cleared only now and then."""
        began = asyncio.get_running_loop().time()
        done, self._done = self._done, []
        room = self.policy.claimed - len(self._sending)
        events, claimed = await asyncio.to_thread(
            _as_dispatcher, self._store_step, done, now, room, lazy
        )
        if events:
            self._fanned_at = began
        for one in claimed:
            task = asyncio.create_task(self._send(one))
            self._sending.add(task)
            task.add_done_callback(self._finished)
        return len(claimed)

    def _store_step(
        self, done: list[Attempt], now: datetime, room: int, lazy: bool
    ) -> tuple[bool, list[Claimed]]:
        """A step's work in the store, in one trip off the loop: record the attempts that
        finished, fan out new events (until a batch comes back short: the outbox is empty
        then), claim what is due. Returns whether the outbox had events (fanned out, or left
        for later), and the deliveries claimed."""
        if done:
            attempts.record(self.store, done, self.policy)
        if not outbox.has_receivers(self.store):
            # Nothing to deliver to (a disabled webhook's deliveries stop with it), and a
            # webhook made later gets no event from before it: the outbox is only cleared,
            # now and then, so a burst of creates costs one read per step.
            clock = time.monotonic()
            if lazy and clock < self._cleared_at + CLEAR_SECONDS:
                return True, []
            self._cleared_at = clock
        fanned = 0
        while taken := outbox.fan_out(self.store):
            fanned += taken
            if taken < outbox.FAN_OUT_BATCH:
                break
        return fanned > 0, claims.claim(self.store, now, self.wall.now(), self.policy, room)

    async def _send(self, claimed: Claimed) -> Attempt:
        """One attempt, once its endpoint has room (claimed deliveries wait their turn)."""
        endpoint = claimed.webhook_id
        if endpoint not in self._clients:
            self._clients[endpoint] = http_client(self.policy.per_endpoint)
            self._gates[endpoint] = asyncio.Semaphore(self.policy.per_endpoint)
        async with self._gates[endpoint], self._slots:
            client = self._clients[endpoint]
            now, wall = self.clock.now(), self.wall.now()
            return await attempt(client, claimed, now, wall, self.policy.timeout)

    def _finished(self, task: asyncio.Task[Attempt]) -> None:
        self._sending.discard(task)
        if task.cancelled():
            return
        if task.exception() is not None:  # a bug: its claim runs out and it is sent again
            log.error("a webhook attempt failed unexpectedly", exc_info=task.exception())
        else:
            self._done.append(task.result())
        self._wake.set()

    async def _record(self) -> None:
        if not self._done:
            return
        done, self._done = self._done, []
        await asyncio.to_thread(_as_dispatcher, attempts.record, self.store, done, self.policy)

    async def _drain(self, now: datetime) -> None:
        while True:
            started = await self._step(now)
            if self._sending:
                await asyncio.wait(set(self._sending))
            elif not started:
                break
        await self._record()

    async def _send_all(self, claimed: list[Claimed]) -> None:
        results = await asyncio.gather(*(self._send(one) for one in claimed))
        await asyncio.to_thread(attempts.record, self.store, results, self.policy)

    async def _start_polling(self) -> asyncio.Task[None]:
        return asyncio.create_task(self._poll())

    async def _shutdown(self) -> None:
        if self._poller is not None:  # stopped here, on its loop, before the loop stops
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        for task in list(self._sending):
            task.cancel()
        await self._record()
        for client in self._clients.values():
            await client.aclose()
