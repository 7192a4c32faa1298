"""The sandbox as a provider: an account whose locks are simulators kept in the database.

Reads look at the stored state; each batch of writes is one transaction that holds the locks'
rows, checks that every slot still holds what its command expects, and saves the locks that
changed. A keypad change that lands between the engine's read and its write is therefore seen
(`WriteResult.stale`) instead of overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pinwarden.domain.model import Capabilities, Observation
from pinwarden.providers.base import (
    AccountConfig,
    ClearSlot,
    Command,
    DiscoveredLock,
    EventSink,
    Lock,
    WriteResult,
    slot_matches,
)
from pinwarden.providers.sandbox import physical
from pinwarden.providers.sandbox.lock import SandboxLock
from pinwarden.store.store import Store


@dataclass(frozen=True)
class SandboxLockRef:
    """One sandbox lock; its `ref` is its device id."""

    account: SandboxAccount
    ref: str

    async def read(self, at: datetime) -> Observation:
        (result,) = await self.account.read_many([(self, at)])
        if isinstance(result, Exception):
            raise result
        return result

    async def write(self, at: datetime, command: Command) -> WriteResult:
        (result,) = await self.account.write_many([(self, at, command)])
        if isinstance(result, Exception):
            raise result
        return result

    async def set_locked(self, at: datetime, locked: bool) -> WriteResult:
        with self.account.store.begin() as conn, physical.holding(conn, [self.ref]) as found:
            return found[self.ref].set_locked(at, locked)


def _carry_out(lock: SandboxLock, at: datetime, command: Command) -> WriteResult:
    if lock.is_online:
        seen = lock.read_slot(at, command.slot)
        if not slot_matches(seen, command.expect):
            return WriteResult.stale(seen)
    if isinstance(command, ClearSlot):
        return lock.remove_code(at, command.slot)
    return lock.set_code(
        at, command.slot, command.code, command.name, command.starts_at, command.ends_at
    )


class SandboxAccount:
    """The sandbox locks of one connected account (all share the database)."""

    def __init__(self, config: AccountConfig, store: Store) -> None:
        self.config = config
        self.store = store

    @property
    def connected(self) -> bool:
        return True

    async def open(self, sink: EventSink | None) -> None:
        """Nothing to connect to: the simulate routes deliver the locks' events themselves."""

    async def close(self) -> None:
        return None

    async def discover(self) -> Sequence[DiscoveredLock]:
        """Sandbox locks are made by the demo and the tests, not found."""
        return ()

    def lock(self, lock_ref: str, capabilities: Capabilities) -> Lock:
        return SandboxLockRef(self, lock_ref)

    async def read_many(
        self, locks: Sequence[tuple[Lock, datetime]]
    ) -> list[Observation | Exception]:
        with self.store.read() as conn:
            found = physical.peek(conn, [lock.ref for lock, _ in locks])
        results: list[Observation | Exception] = []
        for lock, at in locks:
            simulator = found.get(lock.ref)
            try:
                if simulator is None:
                    raise LookupError(f"no sandbox lock {lock.ref}")
                results.append(simulator.read_codes(at))
            except Exception as exc:  # noqa: BLE001 - handed back per lock
                results.append(exc)
        return results

    async def write_many(
        self, commands: Sequence[tuple[Lock, datetime, Command]]
    ) -> list[WriteResult | Exception]:
        results: list[WriteResult | Exception] = []
        with (
            self.store.begin() as conn,
            physical.holding(conn, sorted({lock.ref for lock, _, _ in commands})) as found,
        ):
            for lock, at, command in commands:
                simulator = found.get(lock.ref)
                if simulator is None:
                    results.append(LookupError(f"no sandbox lock {lock.ref}"))
                    continue
                results.append(_carry_out(simulator, at, command))
        return results


__all__ = ["SandboxAccount", "SandboxLockRef"]
