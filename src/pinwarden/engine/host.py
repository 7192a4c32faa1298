"""The engine's way to the locks: every provider, through the interfaces of providers/base.py.

Providers are asynchronous (a Z-Wave radio, an MQTT broker); the engine is not. The host runs
the providers on one event loop in a thread of its own and hands the engine a batch at a time:
the reads of a batch of locks, or one command for each of them, all under way at once, and
waits for the lot. Accounts are opened on first use and kept open (a real adapter keeps its
connection and reconnects by itself); `close` closes them.

An account's kind (a device's `provider` column) picks its adapter from the registry; the
host knows nothing else about it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, select

from pinwarden.domain.model import Capabilities, Observation
from pinwarden.engine.clock import Clock
from pinwarden.providers.base import (
    Account,
    AccountConfig,
    Command,
    DeviceUnreachable,
    EventSink,
    Lock,
    WriteResult,
)
from pinwarden.providers.registry import AccountContext, open_account
from pinwarden.service.secrets import SecretBox
from pinwarden.store.schema import connected_accounts
from pinwarden.store.store import Store

log = logging.getLogger("pinwarden.engine")

T = TypeVar("T")
# What the engine asks of one lock: its device row and capabilities, and the moment.
LockAt = tuple[Row[Any], Capabilities, datetime]
# The same with a command.
CommandAt = tuple[Row[Any], Capabilities, datetime, Command]


@dataclass
class _Opened:
    account: Account
    kind: str
    fingerprint: tuple[Any, ...]  # what it was opened with: settings, sealed credentials


class ProviderHost:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        sink: EventSink | None = None,
        timeout: float = 120.0,
        secrets: SecretBox | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.sink = sink  # None: this process only sends commands (engine workers)
        self.secrets = secrets  # opens accounts' sealed credentials
        self.timeout = timeout  # one lock's read or command; past it the lock is unreachable
        self._accounts: dict[str, _Opened] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    # -- the loop --------------------------------------------------------------------------

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._guard:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=loop.run_forever, name="pinwarden-providers", daemon=True
                )
                self._thread.start()
                self._loop = loop
            return self._loop

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the providers' loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self._running_loop()).result()

    def close(self) -> None:
        loop = self._loop
        if loop is None:
            return
        opened = list(self._accounts.values())
        self._accounts.clear()

        async def close_all() -> None:
            for entry in opened:
                try:
                    await entry.account.close()
                except Exception:
                    log.exception("closing a %s account failed", entry.kind)

        asyncio.run_coroutine_threadsafe(close_all(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = self._thread = None

    # -- accounts and locks ----------------------------------------------------------------

    async def account(self, row: Row[Any]) -> Account:
        """The open account of a `connected_accounts` row, opened now if it is not (or again,
        if its settings or credentials changed since)."""
        config = AccountConfig(row.connected_account_id, row.provider, dict(row.settings), {})
        fingerprint = (row.provider, repr(sorted(config.settings.items())), row.secrets)
        entry = self._accounts.get(row.connected_account_id)
        if entry is not None and entry.fingerprint == fingerprint:
            return entry.account
        if entry is not None:
            await self.close_account(row.connected_account_id)
        if self.secrets is not None and row.secrets:
            config = AccountConfig(
                config.account_id,
                config.account_type,
                config.settings,
                self.secrets.open(row.secrets),
            )
        account = open_account(config, AccountContext(self.clock, self.store))
        self._accounts[row.connected_account_id] = _Opened(account, row.provider, fingerprint)
        await account.open(self.sink)
        return account

    async def close_account(self, account_id: str) -> None:
        entry = self._accounts.pop(account_id, None)
        if entry is not None:
            try:
                await entry.account.close()
            except Exception:
                log.exception("closing a %s account failed", entry.kind)

    def opened(self, account_id: str) -> Account | None:
        entry = self._accounts.get(account_id)
        return None if entry is None else entry.account

    async def _account(self, device: Row[Any]) -> Account:
        if device.connected_account_id is None:  # a lock of no account (older sandbox rows)
            key = f"{device.provider}:{device.device_id}"
            entry = self._accounts.get(key)
            if entry is None:
                config = AccountConfig("", device.provider, {})
                account = open_account(config, AccountContext(self.clock, self.store))
                entry = self._accounts[key] = _Opened(account, device.provider, ())
                await account.open(self.sink)
            return entry.account
        entry = self._accounts.get(device.connected_account_id)
        if entry is not None:
            return entry.account
        with self.store.read() as conn:
            row = conn.execute(
                select(connected_accounts).where(
                    connected_accounts.c.connected_account_id == device.connected_account_id
                )
            ).one()
        return await self.account(row)

    async def lock_of(self, device: Row[Any], caps: Capabilities) -> tuple[Account, Lock]:
        """The lock behind a device row, its account opened if need be (on the loop)."""
        return await self._lock(device, caps)

    async def _lock(self, device: Row[Any], caps: Capabilities) -> tuple[Account, Lock]:
        account = await self._account(device)
        return account, account.lock(device.lock_ref or device.device_id, caps)

    def submit(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run `coro` on the providers' loop without waiting for it."""
        asyncio.run_coroutine_threadsafe(coro, self._running_loop())

    # -- batches ---------------------------------------------------------------------------

    def read_all(self, asks: Mapping[str, LockAt]) -> dict[str, Observation | Exception]:
        """Read every lock of `asks` (by device id); a lock's failure is its own result."""
        return self.call(self._batch(asks, _read_one, "read_many"))

    def write_all(self, asks: Mapping[str, CommandAt]) -> dict[str, WriteResult | Exception]:
        """Send each lock of `asks` its command, all under way at once."""
        return self.call(self._batch(asks, _write_one, "write_many"))

    async def _batch(
        self,
        asks: Mapping[str, tuple[Any, ...]],
        one: Callable[..., Awaitable[Any]],
        many: str,
    ) -> dict[str, Any]:
        results: dict[str, Any] = {}
        groups: dict[int, tuple[Account, list[tuple[str, Lock, tuple[Any, ...]]]]] = {}
        for device_id, (device, caps, *rest) in asks.items():
            try:
                account, lock = await self._lock(device, caps)
            except Exception as exc:  # noqa: BLE001 - an account that cannot open fails its locks
                results[device_id] = exc
                continue
            groups.setdefault(id(account), (account, []))[1].append((device_id, lock, tuple(rest)))
        for account, members in groups.values():
            batched = getattr(account, many, None)
            if batched is not None:
                answers = await self._bounded(batched([(lock, *rest) for _, lock, rest in members]))
                if isinstance(answers, Exception):
                    answers = [answers] * len(members)
            else:
                answers = await asyncio.gather(
                    *(self._bounded(one(lock, *rest)) for _, lock, rest in members)
                )
            for (device_id, _, _), answer in zip(members, answers, strict=True):
                results[device_id] = answer
        return results

    async def _bounded(self, call: Awaitable[T]) -> T | Exception:
        try:
            return await asyncio.wait_for(call, self.timeout)
        except TimeoutError:
            return DeviceUnreachable(
                "device_offline", f"the lock did not answer within {self.timeout:g} s"
            )
        except Exception as exc:  # noqa: BLE001 - handed back to the engine per lock
            return exc


async def _read_one(lock: Lock, at: datetime) -> Observation:
    return await lock.read(at)


async def _write_one(lock: Lock, at: datetime, command: Command) -> WriteResult:
    return await lock.write(at, command)


__all__ = ["ProviderHost"]
