"""What every service function needs, passed explicitly."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from pinwarden.engine.clock import Clock
from pinwarden.service.secrets import SecretBox
from pinwarden.store.store import Store


class TtlCache:
    """A small thread-safe cache whose entries expire; used for API-key lookups, so a key
    revoked from another process stops working within `seconds`."""

    def __init__(self, seconds: float = 5.0, max_entries: int = 10_000) -> None:
        self._seconds = seconds
        self._max = max_entries
        self._entries: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            hit = self._entries.get(key)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def discard(self, key: str) -> None:
        """Forget `key` now (a revoked API key stops working at once in this process)."""
        with self._lock:
            self._entries.pop(key, None)

    def put(self, key: str, value: str) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[key] = (value, time.monotonic() + self._seconds)


class Runner(Protocol):
    """Asks the engine to look at one device as soon as it can."""

    def request_reconcile(self, device_id: str) -> None: ...


class AccountWatcher(Protocol):
    """What keeps real installations connected in a running server (engine/supervisor.py):
    told when an account changes, it connects, finds the locks, and follows them; it also
    carries door commands to locks."""

    def request_sync(self, account_id: str) -> None: ...

    def operate_door(self, device_id: str, locked: bool, attempt_id: str) -> None: ...


class NoWatcher:
    """For tools without a running server: the server does it when it starts."""

    def request_sync(self, account_id: str) -> None:
        return None

    def operate_door(self, device_id: str, locked: bool, attempt_id: str) -> None:
        raise RuntimeError("door commands need a running server")


class NoRunner:
    """For tools that change desired state without an engine (CLI); the next engine run picks
    the change up from the store."""

    def request_reconcile(self, device_id: str) -> None:
        return None


@dataclass
class Deps:
    store: Store
    clock: Clock
    runner: Runner = field(default_factory=NoRunner)
    rng: random.Random = field(default_factory=random.SystemRandom)
    virtual_clock: bool = False
    key_cache: TtlCache = field(default_factory=TtlCache)
    accounts: AccountWatcher = field(default_factory=NoWatcher)
    # Seals and opens connected accounts' credentials (None: no key, no credentials).
    secrets: SecretBox | None = None
