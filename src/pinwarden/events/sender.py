"""One attempt: POST the signed event to the endpoint and say how it went.

A 2xx answer is a success; anything else, a redirect included (redirects are never followed:
the endpoint's owner configured this URL and no other), a timeout or a failed connection is a
failure to retry. The whole attempt, answer included, is bounded by the policy's timeout.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import httpx

from pinwarden.events.attempts import Attempt
from pinwarden.events.claims import Claimed
from pinwarden.events.signing import signed_headers

# What the delivery log keeps of an answer.
_BODY_KEPT = 1_000


def http_client(concurrency: int) -> httpx.AsyncClient:
    """One client per dispatcher: connections to an endpoint are reused across attempts."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,  # a proxy from the environment is not the endpoint its owner gave
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )


async def attempt(
    client: httpx.AsyncClient,
    claimed: Claimed,
    attempted_at: datetime,
    wall: datetime,
    timeout: float,
) -> Attempt:
    """Send `claimed` once. `attempted_at` is the injected clock's time (it schedules the next
    attempt); `wall` is the real time the signature carries."""
    started = time.monotonic()
    headers = signed_headers(claimed.secret, claimed.delivery_id, wall, claimed.body)
    status: int | None = None
    body: str | None = None
    try:
        status, body, error = await asyncio.wait_for(
            _post(client, claimed.url, claimed.body, headers, timeout), timeout
        )
    except TimeoutError:
        error = f"no answer within {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 (however an attempt fails, it is logged and retried)
        error = f"{type(exc).__name__}: {exc}"[:500]
    return Attempt(
        delivery_id=claimed.delivery_id,
        webhook_id=claimed.webhook_id,
        attempted_at=attempted_at,
        succeeded=error is None,
        status_code=status,
        response_body=body,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
        trigger=claimed.trigger,
    )


async def _post(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int, str, str | None]:
    """(status, the start of the answer, why it is a failure or None)."""
    async with client.stream("POST", url, content=body, headers=headers, timeout=timeout) as r:
        kept = bytearray()
        async for chunk in r.aiter_bytes():
            kept += chunk[: _BODY_KEPT - len(kept)]
            if len(kept) >= _BODY_KEPT:
                break
    text = kept.decode(errors="replace")
    if r.is_success:
        return r.status_code, text, None
    if r.is_redirect:
        where = r.headers.get("location", "")
        return r.status_code, text, f"HTTP {r.status_code}: redirect to {where[:200]} not followed"
    return r.status_code, text, f"HTTP {r.status_code}"
