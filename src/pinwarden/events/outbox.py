"""The webhook outbox and its deliveries in the store: fan out, claim, record.

Each step is one transaction, so a crash anywhere loses nothing and invents nothing:
- `fan_out`: outbox rows (written with their events) become one delivery per matching webhook;
- `claim`: due deliveries are claimed for `policy.lease` of wall-clock time, at most
  `claimed_per_endpoint` per endpoint at a time (counting those already claimed), oldest first;
- `record`: attempts are logged, and each delivery is finished or given its next attempt.
A claimed delivery whose dispatcher died is claimed again when the lease runs out, and sent
under the same `delivery_id`: a receiver sees a retry, never a new message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

import orjson
from sqlalchemy import ColumnElement, Connection, Row, and_, bindparam, func, or_, select, update

from pinwarden.catalog.events import asked_for
from pinwarden.events.policy import DeliveryPolicy
from pinwarden.service import wire
from pinwarden.store.schema import events, webhook_attempts, webhook_deliveries, webhook_outbox
from pinwarden.store.schema import webhooks as webhooks_table
from pinwarden.store.store import Store

D = webhook_deliveries
FAN_OUT_BATCH = 1_000


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for sending: where to, how to sign it, and the exact body."""

    delivery_id: str
    webhook_id: str
    url: str
    secret: str
    body: bytes
    trigger: str


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


def new_delivery_id() -> str:
    return f"msg_{uuid4().hex}"


def fan_out(store: Store, limit: int = FAN_OUT_BATCH) -> int:
    """Turn up to `limit` outbox rows into deliveries; returns how many rows were taken."""
    with store.read() as conn:
        if conn.execute(select(webhook_outbox.c.seq).limit(1)).first() is None:
            return 0
    with store.begin() as conn:
        rows = conn.execute(
            select(webhook_outbox, events.c.seq.label("event_seq"))
            .join(events, events.c.event_id == webhook_outbox.c.event_id)
            .order_by(webhook_outbox.c.seq)
            .limit(limit)
            .with_for_update(of=webhook_outbox, skip_locked=True)
        ).all()
        if not rows:
            return 0
        hooks = conn.execute(
            select(webhooks_table).where(
                webhooks_table.c.workspace_id.in_({r.workspace_id for r in rows}),
                webhooks_table.c.disabled_at.is_(None),
            )
        ).all()
        deliveries = [
            _delivery(row, hook)
            for row in rows
            for hook in hooks
            # A webhook receives what happened in its own workspace since it was created.
            if hook.workspace_id == row.workspace_id
            and hook.after_event_seq < row.event_seq
            and asked_for(hook.event_types, row.event_type)
        ]
        if deliveries:
            conn.execute(D.insert(), deliveries)
        conn.execute(webhook_outbox.delete().where(webhook_outbox.c.seq.in_([r.seq for r in rows])))
        return len(rows)


def _delivery(row: Row[Any], hook: Row[Any]) -> dict[str, Any]:
    return {
        "delivery_id": new_delivery_id(),
        "webhook_id": hook.webhook_id,
        "workspace_id": row.workspace_id,
        "event_id": row.event_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": row.created_at,
        "trigger": "scheduled",
        "created_at": row.created_at,
    }


def _due(now: datetime, wall: datetime) -> ColumnElement[bool]:
    return and_(D.c.next_attempt_at <= now, _unclaimed(wall))


def _unclaimed(wall: datetime) -> ColumnElement[bool]:
    return or_(D.c.claimed_until.is_(None), D.c.claimed_until < wall)


def claim(
    store: Store,
    now: datetime,
    wall: datetime,
    policy: DeliveryPolicy,
    capacity: int,
    webhook_ids: Sequence[str] | None = None,
) -> list[Claimed]:
    """Claim up to `capacity` due deliveries (of `webhook_ids` only, if given)."""
    if capacity <= 0:
        return []
    due = _due(now, wall)
    if webhook_ids is not None:
        due = and_(due, D.c.webhook_id.in_(list(webhook_ids)))
    with store.read() as conn:
        wanted = _wanted(conn, due, wall, policy, capacity)
    if not wanted:
        return []
    with store.begin() as conn:
        picked = [row for hook, count in wanted for row in _due_for(conn, hook, due, count)]
        if not picked:
            return []
        conn.execute(
            update(D)
            .where(D.c.delivery_id.in_([r.delivery_id for r in picked]))
            .values(claimed_until=wall + policy.lease)
        )
        return _render(conn, picked)


def _wanted(
    conn: Connection, due: ColumnElement[bool], wall: datetime, policy: DeliveryPolicy, room: int
) -> list[tuple[str, int]]:
    """How many to claim for each endpoint with due deliveries, those waiting longest first.
    An endpoint's claims are topped up once half of them are done, so the store is asked for
    work once a batch rather than once an attempt."""
    held = dict(
        conn.execute(
            select(D.c.webhook_id, func.count())
            .where(D.c.claimed_until >= wall)
            .group_by(D.c.webhook_id)
        ).all()
    )
    waiting = conn.execute(
        select(D.c.webhook_id)
        .where(due)
        .group_by(D.c.webhook_id)
        .order_by(func.min(D.c.next_attempt_at))
    ).scalars()
    wanted = []
    for webhook_id in waiting:
        busy = held.get(webhook_id, 0)
        free = min(policy.claimed_per_endpoint - busy, room)
        if free > 0 and (not busy or free >= policy.claimed_per_endpoint // 2):
            wanted.append((webhook_id, free))
            room -= free
    return wanted


def _due_for(
    conn: Connection, webhook_id: str, due: ColumnElement[bool], limit: int
) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(D)
            .where(due, D.c.webhook_id == webhook_id)
            .order_by(D.c.next_attempt_at, D.c.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )


def load_claimed(store: Store, delivery_ids: Sequence[str], wall: datetime) -> list[Claimed]:
    """The deliveries among `delivery_ids` still pending and claimed (a job's work)."""
    with store.read() as conn:
        rows = conn.execute(
            select(D).where(
                D.c.delivery_id.in_(list(delivery_ids)),
                D.c.status == "pending",
                D.c.claimed_until >= wall,
            )
        ).all()
        return _render(conn, list(rows))


def _render(conn: Connection, rows: list[Row[Any]]) -> list[Claimed]:
    """The body is the event exactly as /events/get answers it."""
    hooks = {
        h.webhook_id: h
        for h in conn.execute(
            select(webhooks_table).where(
                webhooks_table.c.webhook_id.in_({r.webhook_id for r in rows})
            )
        )
    }
    bodies = {
        e.event_id: orjson.dumps(wire.event(e))
        for e in conn.execute(
            select(events).where(events.c.event_id.in_({r.event_id for r in rows}))
        )
    }
    return [
        Claimed(
            r.delivery_id,
            r.webhook_id,
            hooks[r.webhook_id].url,
            hooks[r.webhook_id].secret,
            bodies[r.event_id],
            r.trigger,
        )
        for r in rows
        if r.webhook_id in hooks and r.event_id in bodies
    ]


def release_claims(store: Store) -> None:
    """Forget every claim: the embedded runtime's dispatcher is the only one, so at its start
    the claims in the store are those of a process that died with them."""
    with store.begin() as conn:
        conn.execute(update(D).where(D.c.claimed_until.is_not(None)).values(claimed_until=None))


def next_due(store: Store, wall: datetime) -> datetime | None:
    """The earliest moment with delivery work: an event not fanned out yet, or an attempt."""
    with store.read() as conn:
        queued = conn.execute(select(func.min(webhook_outbox.c.created_at))).scalar()
        attempt = conn.execute(
            select(func.min(D.c.next_attempt_at)).where(_unclaimed(wall))
        ).scalar()
    moments = [m for m in (queued, attempt) if m is not None]
    return min(moments, default=None)


def record(store: Store, attempts: Sequence[Attempt], policy: DeliveryPolicy) -> None:
    """Log the attempts; finish each delivery or schedule its next attempt; keep each
    endpoint's run of failures, and disable an endpoint that has failed for too long."""
    if not attempts:
        return
    with store.begin() as conn:
        conn.execute(webhook_attempts.insert(), [_attempt_row(a) for a in attempts])
        made = dict(
            conn.execute(
                select(D.c.delivery_id, D.c.attempts).where(
                    D.c.delivery_id.in_([a.delivery_id for a in attempts])
                )
            ).all()
        )
        advanced = [
            _advance(a, made[a.delivery_id], policy) for a in attempts if a.delivery_id in made
        ]
        if advanced:  # one statement for all (a delivery's webhook may have been deleted)
            conn.execute(_ADVANCE, advanced)
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
