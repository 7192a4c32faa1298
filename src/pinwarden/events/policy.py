"""How webhooks are delivered: Svix's retry schedule, timeouts, limits, and when to give up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Svix's schedule: the first attempt at once, then retries this long after each failure.
SVIX_SCHEDULE = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)


@dataclass(frozen=True)
class DeliveryPolicy:
    """`timeout`: seconds one attempt may take, answer included. `concurrency`: attempts in
    flight in one dispatcher; `per_endpoint`: to any one endpoint, so a slow endpoint holds at
    most that many of them and never the others. A dispatcher claims up to `claimed` deliveries
    at a time (`claimed_per_endpoint` for one endpoint), so the store is asked for work once a
    batch rather than once an attempt. An endpoint whose every attempt has failed for
    `disable_after` is disabled (Svix: 5 days). A dispatcher that dies while sending leaves its
    claims to run out after `lease`, and each delivery is sent again under the same id."""

    timeout: float = 15.0
    concurrency: int = 32
    per_endpoint: int = 4
    claimed: int = 256
    claimed_per_endpoint: int = 32
    schedule: tuple[timedelta, ...] = SVIX_SCHEDULE
    disable_after: timedelta = timedelta(days=5)
    lease: timedelta = timedelta(minutes=2)

    def next_attempt(self, attempts: int, attempted_at: datetime) -> datetime | None:
        """When to try again after `attempts` failed attempts; None: the schedule is spent."""
        if attempts >= len(self.schedule):
            return None
        return attempted_at + self.schedule[attempts]
