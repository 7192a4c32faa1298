"""The webhook outbox: events become deliveries.

Every event is appended with an outbox row in its own transaction (service/events.py);
`fan_out` turns outbox rows into one delivery per matching webhook and deletes them, in one
transaction, so a crash anywhere neither loses a delivery nor invents one. Then deliveries are
claimed (events/claims.py), sent (events/sender.py) and recorded (events/attempts.py).
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from sqlalchemy import Row, select

from pinwarden.catalog.events import asked_for
from pinwarden.store.schema import events, webhook_deliveries, webhook_outbox
from pinwarden.store.schema import webhooks as webhooks_table
from pinwarden.store.store import Store

FAN_OUT_BATCH = 1_000


def new_delivery_id() -> str:
    return f"msg_{uuid4().hex}"


def has_receivers(store: Store) -> bool:
    """Whether any webhook is enabled (in any workspace): without one, an outbox row turns
    into no delivery, and fanning out only clears the outbox."""
    with store.read() as conn:
        return (
            conn.execute(
                select(webhooks_table.c.webhook_id).where(webhooks_table.c.disabled_at.is_(None))
            ).first()
            is not None
        )


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
            conn.execute(webhook_deliveries.insert(), deliveries)
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
