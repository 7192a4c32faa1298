"""The webhook dispatcher: sends due deliveries from its own thread and event loop.

It never holds back the API or the engine (neither waits on it), and an endpoint never holds
back another: each has at most `policy.per_endpoint` attempts in flight (its other claimed
deliveries wait their turn), out of `policy.concurrency` in all, and every attempt ends within
`policy.timeout`.

Time: what is due, and when an attempt happened, comes from the injected clock, so on the
virtual clock `ManualRunner.advance_to` steps through deliveries with everything else
(`next_due` and `run_due` are its `DueWork`). Signatures carry the wall clock's time, which is
what a receiver checks them against.

- `pinwarden serve` (embedded runtime): `start()` polls, and is nudged by every commit in the
  process, so an event goes out a few milliseconds after the transaction that wrote it.
- the distributed runtime: procrastinate jobs call `claim_due` and `deliver` (events/jobs.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import Any, TypeVar

import httpx
from sqlalchemy import event

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
# How long after a commit begins that it has surely landed (a second look for its events).
COMMITTED_SECONDS = 0.01


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
        self._poller: Future[None] | None = None

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
        event.listen(self.store.engine, "commit", self._nudge)
        self._poller = asyncio.run_coroutine_threadsafe(self._poll(), loop)

    def close(self) -> None:
        if self._poller is not None:
            event.remove(self.store.engine, "commit", self._nudge)
            self._poller.cancel()
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

    def _nudge(self, _conn: Any) -> None:
        """A transaction is committing. SQLAlchemy says so just before the commit, so the
        store is looked at now and once more a moment later, when it has surely landed."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake_now_and_soon)

    def _wake_now_and_soon(self) -> None:
        self._wake.set()
        assert self._loop is not None
        self._loop.call_later(COMMITTED_SECONDS, self._wake.set)

    async def _poll(self) -> None:
        while True:
            try:
                await self._step(self.clock.now())
            except Exception:
                log.exception("webhook dispatch failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
                if self._sending:  # busy: let more answers come in before asking the store
                    await asyncio.sleep(GATHER_SECONDS)
            self._wake.clear()

    async def _step(self, now: datetime) -> int:
        """Record what finished, fan out new events, start what is due; returns how many."""
        await self._record()
        while await asyncio.to_thread(outbox.fan_out, self.store):
            pass
        room = self.policy.claimed - len(self._sending)
        claimed = await asyncio.to_thread(
            claims.claim, self.store, now, self.wall.now(), self.policy, room
        )
        for one in claimed:
            task = asyncio.create_task(self._send(one))
            self._sending.add(task)
            task.add_done_callback(self._finished)
        return len(claimed)

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
        done, self._done = self._done, []
        await asyncio.to_thread(attempts.record, self.store, done, self.policy)

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

    async def _shutdown(self) -> None:
        for task in list(self._sending):
            task.cancel()
        await self._record()
        for client in self._clients.values():
            await client.aclose()
