"""Which webhook deliveries are due, and claiming them for sending.

A delivery is claimed for `policy.lease` of wall-clock time, at most `claimed_per_endpoint` per
endpoint at a time (counting those already claimed), oldest first. A claimed delivery whose
dispatcher died is claimed again when the lease runs out, and sent under the same
`delivery_id`: a receiver sees a retry, never a new message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Row, and_, func, or_, select, update

from pinwarden.events.policy import DeliveryPolicy
from pinwarden.service import wire
from pinwarden.store.schema import events, webhook_deliveries, webhook_outbox
from pinwarden.store.schema import webhooks as webhooks_table
from pinwarden.store.store import Store

D = webhook_deliveries


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for sending: where to, how to sign it, and the exact body."""

    delivery_id: str
    webhook_id: str
    url: str
    secret: str
    body: bytes
    trigger: str


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
