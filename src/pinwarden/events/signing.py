"""Webhook secrets and signatures: Standard Webhooks (Svix) through its maintained library.

Seam's SDK verifies a delivery with `seam.SeamWebhook(secret).verify(payload, headers)`, which is
svix's verifier: it reads either the `webhook-*` or the `svix-*` headers, so both are sent.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

# Svix's secrets: `whsec_` and 24 random bytes in base64.
_SECRET_BYTES = 24


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def signed_headers(secret: str, delivery_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The headers of one attempt. `at` is the wall-clock time of sending: receivers refuse a
    timestamp more than five minutes from their own clock (a virtual clock's time would fail)."""
    signature = Webhook(secret).sign(delivery_id, at, body)
    timestamp = str(int(at.timestamp()))
    headers = {"content-type": "application/json"}
    for prefix in ("webhook", "svix"):
        headers[f"{prefix}-id"] = delivery_id
        headers[f"{prefix}-timestamp"] = timestamp
        headers[f"{prefix}-signature"] = signature
    return headers
