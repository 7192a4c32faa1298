"""Which event tells that an issue appeared on a lock, and pinwarden's own event types.

Seam's catalogue has events for a few of a device's issues; for the others pinwarden adds
`device.error.<code>` and `device.warning.<code>` (named after Seam's own
`device.error.subscription_required`). Clients that validate events against Seam's schema
would refuse those, so they are sent only to whoever asks for them by name: `/events/list`
with `event_type(s)`, or a webhook whose `event_types` names them (or `device.error.*`,
`device.warning.*`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pinwarden.catalog.issues import ISSUE_TYPES

# Device issues with an event in Seam's catalogue as they appear and as they clear.
# None: the engine or the sandbox records the event itself (`device.disconnected`, `.removed`).
DEVICE_ISSUE_EVENTS: dict[str, tuple[str, str] | None] = {
    "device_offline": None,
    "device_disconnected": None,
    "hub_disconnected": None,
    "device_removed": None,
    "third_party_integration_detected": (
        "device.third_party_integration_detected",
        "device.third_party_integration_no_longer_detected",
    ),
    "device_communication_degraded": (
        "device.connection_became_flaky",
        "device.connection_stabilized",
    ),
}


def _own(kind: str, code: str) -> str:
    return f"device.{kind}.{code}"


def device_issue_event(kind: str, code: str) -> str | None:
    """The event that tells `code` appeared on a lock (None: recorded elsewhere)."""
    if code in DEVICE_ISSUE_EVENTS:
        told = DEVICE_ISSUE_EVENTS[code]
        return told[0] if told is not None else None
    return _own(kind, code)


def device_issue_cleared_event(code: str) -> str | None:
    told = DEVICE_ISSUE_EVENTS.get(code)
    return told[1] if told is not None else None


PINWARDEN_EVENT_TYPES: tuple[str, ...] = tuple(
    _own(t.kind, t.code)
    for t in ISSUE_TYPES.values()
    if t.scope == "device" and t.code not in DEVICE_ISSUE_EVENTS
)


def is_pinwarden_event(event_type: str) -> bool:
    return event_type in PINWARDEN_EVENT_TYPES


def asked_for(event_types: Sequence[str], event_type: str) -> bool:
    """Whether a subscription (`*`, a type, or `prefix.*`) covers `event_type`. pinwarden's own
    types are covered only when named, or by their family (`device.warning.*`)."""
    if is_pinwarden_event(event_type):
        family = event_type.rsplit(".", 1)[0] + ".*"  # device.error.* or device.warning.*
        return event_type in event_types or family in event_types
    return any(
        t == "*" or t == event_type or (t.endswith(".*") and event_type.startswith(t[:-1]))
        for t in event_types
    )
