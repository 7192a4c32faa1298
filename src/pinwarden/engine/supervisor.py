"""Keeping real installations connected: one watcher in the server process.

For every account of a Z-Wave JS server or a Zigbee2MQTT bridge it opens the account on the
providers' loop (`ProviderHost.account`: the adapter connects and reconnects by itself), records
when pinwarden gains or loses its connection (`account_disconnected`), finds the locks (at once,
every few minutes, and whenever the installation reports a lock added or removed), and delivers
what the locks report (`service.lock_events`). It never touches a lock's codes: that is the
engine's, which these reports only make due.

On PostgreSQL, several server processes may run; an account is watched by the one that holds
its advisory lock, so each report is recorded once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, text

from pinwarden.engine.host import ProviderHost
from pinwarden.providers.base import (
    AccountUnavailable,
    DeviceUnreachable,
    LockEvent,
    LockEventKind,
    WriteResult,
)
from pinwarden.service import accounts, doors, lock_events
from pinwarden.service.deps import Deps
from pinwarden.service.devices import capabilities
from pinwarden.store.schema import devices

log = logging.getLogger("pinwarden.accounts")

_RESYNC = timedelta(minutes=5)


class AccountSupervisor:
    def __init__(self, deps: Deps, host: ProviderHost, poll_seconds: float = 5.0) -> None:
        self.deps = deps
        self.host = host
        self.poll_seconds = poll_seconds
        self._wanted: set[str] = set()
        self._synced: dict[str, datetime] = {}
        self._connected: dict[str, bool] = {}
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Future[None] | None = None
        self._holder: Connection | None = None  # PostgreSQL: holds the accounts' advisory locks
        self._held: set[str] = set()
        host.sink = self.receive

    # -- from other threads ----------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.run_coroutine_threadsafe(self._watch(), self.host._running_loop())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(Exception):
                self._task.result(timeout=5)
        if self._holder is not None:
            self._holder.close()

    def request_sync(self, account_id: str) -> None:
        """Look at this account now (created, changed, deleted, or a sync was asked for)."""
        loop = self.host._running_loop()
        loop.call_soon_threadsafe(self._ask, account_id)

    def operate_door(self, device_id: str, locked: bool, attempt_id: str) -> None:
        """Lock or unlock a door in the background; the attempt ends when the lock answers."""
        self.host.submit(self._door(device_id, locked, attempt_id))

    async def _door(self, device_id: str, locked: bool, attempt_id: str) -> None:
        outcome: WriteResult | str
        try:
            device = await asyncio.to_thread(self._device, device_id)
            _, lock = await self.host.lock_of(device, capabilities(device))
            control = getattr(lock, "set_locked", None)  # DoorControl is optional
            if control is None:
                outcome = "this lock cannot be locked or unlocked remotely"
            else:
                outcome = await asyncio.wait_for(
                    control(self.deps.clock.now(), locked), self.host.timeout
                )
        except TimeoutError:
            outcome = f"the lock did not answer within {self.host.timeout:g} s"
        except (AccountUnavailable, DeviceUnreachable) as exc:
            outcome = exc.message
        except Exception as exc:
            log.exception("a door command to %s failed", device_id)
            outcome = f"the command failed: {type(exc).__name__}"
        await asyncio.to_thread(doors.finished, self.deps, device_id, attempt_id, locked, outcome)

    def _device(self, device_id: str) -> Any:
        with self.deps.store.read() as conn:
            return conn.execute(select(devices).where(devices.c.device_id == device_id)).one()

    def _ask(self, account_id: str) -> None:
        self._wanted.add(account_id)
        if self._wake is not None:
            self._wake.set()

    # -- on the providers' loop --------------------------------------------------------------

    def receive(self, account_id: str, event: LockEvent) -> None:
        """The event sink the accounts deliver to (on the loop: hand the work to a thread)."""
        if event.kind in (LockEventKind.LOCK_ADDED, LockEventKind.LOCK_REMOVED):
            self._ask(account_id)
            return
        asyncio.get_running_loop().run_in_executor(None, self._record, account_id, event)

    def _record(self, account_id: str, event: LockEvent) -> None:
        try:
            lock_events.receive(self.deps, account_id, event)
        except Exception:
            log.exception("recording a %s report of account %s failed", event.kind, account_id)

    async def _watch(self) -> None:
        self._wake = asyncio.Event()
        while True:
            try:
                rows = await asyncio.to_thread(accounts.real_accounts, self.deps)
                for row in rows:
                    await self._tend(row)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("watching the connected accounts failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()

    async def _tend(self, row: Any) -> None:
        account_id = row.connected_account_id
        if row.removed_at is not None:
            await self.host.close_account(account_id)
            self._connected.pop(account_id, None)
            return
        if not await asyncio.to_thread(self._owns, account_id):
            return
        try:
            account = await self.host.account(row)
        except Exception as exc:  # bad settings or credentials: the account says so
            await self._state(account_id, False, f"pinwarden cannot open this account: {exc}")
            return
        connected = account.connected
        await self._state(account_id, connected)
        due = self._synced.get(account_id)
        now = self.deps.clock.now()
        if connected and (account_id in self._wanted or due is None or now - due >= _RESYNC):
            self._wanted.discard(account_id)
            try:
                found = await account.discover()
            except AccountUnavailable as exc:
                await self._state(account_id, False, exc.message)
                return
            result = await asyncio.to_thread(accounts.apply_discovery, self.deps, account_id, found)
            self._synced[account_id] = now
            if result.added or result.removed or result.renamed:
                log.info(
                    "account %s: %d locks added, %d renamed, %d removed",
                    account_id,
                    len(result.added),
                    len(result.renamed),
                    len(result.removed),
                )

    async def _state(self, account_id: str, connected: bool, message: str = "") -> None:
        if self._connected.get(account_id) == connected:
            return
        self._connected[account_id] = connected
        await asyncio.to_thread(accounts.set_connected, self.deps, account_id, connected, message)

    def _owns(self, account_id: str) -> bool:
        """Whether this process watches the account: always on SQLite (one server); on
        PostgreSQL, the process holding the account's advisory lock (taken once, kept)."""
        if self.deps.store.is_sqlite or account_id in self._held:
            return True
        if self._holder is None:
            self._holder = self.deps.store.engine.connect()
        got = self._holder.execute(
            text("SELECT pg_try_advisory_lock(hashtextextended(:key, 0))"),
            {"key": f"pinwarden.account:{account_id}"},
        ).scalar_one()
        self._holder.commit()
        if got:
            self._held.add(account_id)
        return bool(got)


__all__ = ["AccountSupervisor"]
