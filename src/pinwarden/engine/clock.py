"""Time, injected. The only place in pinwarden that reads the wall clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that moves only when told to; a week of bookings runs in seconds.

    Never goes backwards: `set` to an earlier time is refused.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the virtual clock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> datetime:
        with self._lock:
            if moment < self._now:
                raise ValueError(
                    f"the virtual clock cannot go back from {self._now.isoformat()} "
                    f"to {moment.isoformat()}"
                )
            self._now = moment.astimezone(UTC)
            return self._now

    def advance(self, seconds: float) -> datetime:
        return self.set(self.now() + timedelta(seconds=seconds))
