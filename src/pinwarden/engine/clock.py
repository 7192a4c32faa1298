"""Time, injected. The only place in pinwarden that reads the wall clock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep_until(self, moment: datetime) -> None:
        """Wait until `moment` (the engine paces commands to one lock with it)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep_until(self, moment: datetime) -> None:
        seconds = (moment - self.now()).total_seconds()
        if seconds > 0:
            time.sleep(seconds)


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

    def sleep_until(self, moment: datetime) -> None:
        """Returns at once: virtual time moves only when told to. What waits on it (a paced
        command) carries its own time instead, and the simulated lock sees that time."""

    def advance(self, seconds: float) -> datetime:
        return self.set(self.now() + timedelta(seconds=seconds))
