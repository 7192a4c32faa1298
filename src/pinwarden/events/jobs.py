"""Webhooks in the distributed runtime: procrastinate jobs on PostgreSQL.

- `pinwarden.webhooks` (periodic, deferred once a second whatever the number of workers) fans
  new events out and claims the due deliveries, each for the policy's lease and at most
  `per_endpoint` per endpoint, then queues one `pinwarden.deliver_webhooks` job per endpoint;
- `pinwarden.deliver_webhooks` sends its batch concurrently, records each attempt, and goes on
  with whatever else is due for that endpoint.
A worker that dies while sending leaves its claims to run out; a later sweep claims those
deliveries again, and they are sent under the same `webhook-id`.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import procrastinate

from pinwarden.events.dispatcher import Dispatcher

SWEEP = "pinwarden.webhooks"
DELIVER = "pinwarden.deliver_webhooks"


def install(app: procrastinate.App, dispatcher: Dispatcher, queue: str) -> None:
    @app.periodic(cron="* * * * * *", periodic_id="webhooks")
    @app.task(name=SWEEP, queue=queue, queueing_lock=SWEEP)
    async def sweep(timestamp: int) -> None:
        claimed = await asyncio.to_thread(dispatcher.claim_due)
        batches: dict[str, list[str]] = defaultdict(list)
        for one in claimed:
            batches[one.webhook_id].append(one.delivery_id)
        for delivery_ids in batches.values():
            await app.configure_task(DELIVER, queue=queue).defer_async(delivery_ids=delivery_ids)

    @app.task(name=DELIVER, queue=queue)
    async def deliver(delivery_ids: list[str]) -> None:
        await asyncio.to_thread(dispatcher.deliver, delivery_ids)
