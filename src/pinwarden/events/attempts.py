"""Recording webhook attempts: the delivery log, each delivery's next attempt, and each
endpoint's health (an endpoint failing for `disable_after` is disabled, and says why)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from pinwarden.events.policy import DeliveryPolicy
from pinwarden.service import wire
from pinwarden.store.schema import webhook_attempts, webhook_deliveries
from pinwarden.store.schema import webhooks as webhooks_table
from pinwarden.store.store import Store

D = webhook_deliveries


@dataclass(frozen=True)
class Attempt:
    """The outcome of one attempt (`status_code` None: no answer)."""

    delivery_id: str
    webhook_id: str
    attempted_at: datetime
    succeeded: bool
    status_code: int | None
    response_body: str | None
    error: str | None
    duration_ms: int
    trigger: str


def record(store: Store, attempts: Sequence[Attempt], policy: DeliveryPolicy) -> None:
    """Log the attempts; finish each delivery or schedule its next attempt; keep each
    endpoint's run of failures, and disable an endpoint that has failed for too long."""
    if not attempts:
        return
    with store.begin() as conn:
        made = dict(
            conn.execute(
                select(D.c.delivery_id, D.c.attempts).where(
                    D.c.delivery_id.in_([a.delivery_id for a in attempts])
                )
            ).all()
        )
        attempts = [a for a in attempts if a.delivery_id in made]  # not of a deleted webhook
        if not attempts:
            return
        conn.execute(webhook_attempts.insert(), [_attempt_row(a) for a in attempts])
        conn.execute(_ADVANCE, [_advance(a, made[a.delivery_id], policy) for a in attempts])
        by_endpoint: dict[str, list[Attempt]] = {}
        for attempt in sorted(attempts, key=lambda a: a.attempted_at):
            by_endpoint.setdefault(attempt.webhook_id, []).append(attempt)
        for endpoint_attempts in by_endpoint.values():
            _endpoint_health(conn, endpoint_attempts, policy)


def _attempt_row(a: Attempt) -> dict[str, Any]:
    return {
        "delivery_id": a.delivery_id,
        "webhook_id": a.webhook_id,
        "attempted_at": a.attempted_at,
        "succeeded": a.succeeded,
        "response_status_code": a.status_code,
        "response_body": a.response_body,
        "error": a.error,
        "duration_ms": a.duration_ms,
        "trigger": a.trigger,
    }


_ADVANCE = (
    update(D)
    .where(D.c.delivery_id == bindparam("b_id"))
    .values(
        attempts=bindparam("b_attempts"),
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next", type_=D.c.next_attempt_at.type),
        claimed_until=None,
        last_attempt_at=bindparam("b_at", type_=D.c.last_attempt_at.type),
        trigger="scheduled",
    )
)


def _advance(a: Attempt, made: int, policy: DeliveryPolicy) -> dict[str, Any]:
    """The delivery after this attempt: finished, or with its next attempt scheduled."""
    attempts = made + 1
    retry_at = None if a.succeeded else policy.next_attempt(attempts, a.attempted_at)
    status = "succeeded" if a.succeeded else "pending" if retry_at else "failed"
    return {
        "b_id": a.delivery_id,
        "b_attempts": attempts,
        "b_status": status,
        "b_next": retry_at,
        "b_at": a.attempted_at,
    }


def _endpoint_health(conn: Connection, attempts: list[Attempt], policy: DeliveryPolicy) -> None:
    """One endpoint's attempts, in time order: a success ends its run of failures; a failure
    after `disable_after` of nothing but failures disables it."""
    webhook_id = attempts[0].webhook_id
    hook = conn.execute(
        select(webhooks_table).where(webhooks_table.c.webhook_id == webhook_id)
    ).first()
    if hook is None or hook.disabled_at is not None:
        return
    since = hook.failing_since
    for a in attempts:
        since = None if a.succeeded else since or a.attempted_at
        if since is not None and a.attempted_at - since >= policy.disable_after:
            conn.execute(
                update(webhooks_table)
                .where(webhooks_table.c.webhook_id == webhook_id)
                .values(failing_since=since)
            )
            disable(conn, webhook_id, a.attempted_at, _disabled_reason(since, a, policy))
            return
    if since != hook.failing_since:
        conn.execute(
            update(webhooks_table)
            .where(webhooks_table.c.webhook_id == webhook_id)
            .values(failing_since=since)
        )


def disable(conn: Connection, webhook_id: str, at: datetime, reason: str) -> None:
    """Stop sending to a webhook. Its waiting deliveries stop too (each can still be resent
    from the delivery log once it is enabled again); new events are not queued for it."""
    conn.execute(
        update(webhooks_table)
        .where(webhooks_table.c.webhook_id == webhook_id)
        .values(disabled_at=at, disabled_reason=reason)
    )
    conn.execute(
        update(D)
        .where(D.c.webhook_id == webhook_id, D.c.status == "pending")
        .values(status="failed", next_attempt_at=None, claimed_until=None)
    )


def _disabled_reason(since: datetime, a: Attempt, policy: DeliveryPolicy) -> str:
    days = policy.disable_after.total_seconds() / 86_400
    last = a.error or f"HTTP {a.status_code}"
    return (
        f"Every delivery attempt failed for {days:g} days (since {wire.iso(since)}; the last: "
        f"{last}), so pinwarden stopped sending. Fix the endpoint, then enable it again "
        "(POST /webhooks/update with enabled: true, or the console). Events from the time it "
        f"was disabled: /events/list with since={wire.iso(a.attempted_at)}."
    )
