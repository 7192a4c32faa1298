"""Tables. The schema itself changes only through Alembic migrations (store/migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both SQLite (stored naive) and PostgreSQL (timestamptz).

    On SQLite the text is written and parsed here, in SQLAlchemy's own DATETIME format
    (`2027-01-01 15:00:00.000000`), with `datetime.fromisoformat` rather than SQLAlchemy's
    regular expression: the engine reads a few hundred thousand of them per sweep."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return utc_from_store(value)


def utc_from_store(value: Any) -> datetime | None:
    """A stored datetime as the driver gives it (SQLite: text; PostgreSQL: datetime), in UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    moment: datetime = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return moment


metadata = MetaData()
ID = String(36)
# Insertion order, for stable cursors and event order.
SEQ = BigInteger().with_variant(Integer, "sqlite")

workspaces = Table(
    "workspaces",
    metadata,
    Column("workspace_id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("is_sandbox", Boolean, nullable=False, default=True),
    # Reconciler policy (horizon, deadline, jit lead, ...); empty means defaults.
    Column("policy", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("api_key_id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.workspace_id"), nullable=False),
    Column("name", String(200), nullable=False),
    # sha256 of the whole token; the token itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("short_token", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# A console sign-in. The browser's cookie holds a random token; only its hash is kept here, so
# signing out (deleting the row) or revoking the key it was made with ends it at once.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("api_key_id", ID, ForeignKey("api_keys.api_key_id"), nullable=False),
    Column("workspace_id", ID, ForeignKey("workspaces.workspace_id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_console_sessions_key", "api_key_id"),
)

connected_accounts = Table(
    "connected_accounts",
    metadata,
    Column("connected_account_id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.workspace_id"), nullable=False),
    Column("account_type", String(64), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("custom_metadata", JSON, nullable=False, default=dict),
    # How to reach the installation (a Z-Wave JS server's URL, an MQTT broker and base topic).
    Column("settings", JSON, nullable=False, default=dict, server_default="{}"),
    # Its credentials, encrypted (never shown, never logged).
    Column("secrets", Text),
    # Which adapter serves it (providers/registry.py): sandbox, zwave_js, zigbee2mqtt.
    Column("provider", String(32), nullable=False, default="sandbox", server_default="sandbox"),
    # Whether pinwarden is connected to the installation now, and the account's errors.
    Column("connected", Boolean, nullable=False, default=True, server_default="1"),
    Column("errors", JSON, nullable=False, default=list, server_default="[]"),
    Column("last_synced_at", UTCDateTime),
    Column("removed_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_connected_accounts_workspace", "workspace_id", "created_at"),
)

devices = Table(
    "devices",
    metadata,
    Column("device_id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.workspace_id"), nullable=False),
    Column("connected_account_id", ID, ForeignKey("connected_accounts.connected_account_id")),
    Column("provider", String(32), nullable=False),  # sandbox | zwave_js | zigbee2mqtt
    # The provider's own name for the lock (a Z-Wave node id, a Zigbee friendly name); None:
    # the device id (sandbox).
    Column("lock_ref", String(200)),
    Column("brand", String(32), nullable=False),
    Column("device_type", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("nickname", String(200)),
    Column("custom_metadata", JSON, nullable=False, default=dict),
    # Capability overrides on top of the brand profile (report_device_constraints, ...).
    Column("overrides", JSON, nullable=False, default=dict),
    Column("policy", JSON, nullable=False, default=dict),
    # The lock's IANA time zone (Seam's `location.time_zone`); null: not known, shown in UTC.
    Column("time_zone", String(64)),
    Column("online", Boolean, nullable=False, default=True),
    Column("errors", JSON, nullable=False, default=list),
    Column("warnings", JSON, nullable=False, default=list),
    Column("backup_pool_enabled", Boolean, nullable=False, default=False),
    # Whether the door is locked, as the lock last reported it (None: not known).
    Column("locked", Boolean),
    # What the installation says of the lock (manufacturer, model, its own ids).
    Column("provider_metadata", JSON, nullable=False, default=dict, server_default="{}"),
    # Engine bookkeeping, all persisted so a restart resumes (P5).
    Column("next_wake_at", UTCDateTime),
    # Asks for a look (`service.devices.defer_wake`), counted, so the engine can tell that one
    # came in while it was working on the lock even when it did not move `next_wake_at`.
    Column("wake_asks", Integer, nullable=False, default=0, server_default="0"),
    Column("failure_count", Integer, nullable=False, default=0),
    # Seconds the lock recently took to show an acknowledged write (adapts just-in-time leads).
    Column("programming_delay_seconds", Integer, nullable=False, default=0),
    Column("retry_at", UTCDateTime),
    # When the lock last took a command: the next one is paced from it.
    Column("last_command_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime),
    Index("ix_devices_workspace", "workspace_id", "created_at"),
    Index("ix_devices_wake", "next_wake_at"),
)

# Physical state of a sandbox lock: the "lock" itself, not pinwarden's belief about it.
sandbox_locks = Table(
    "sandbox_locks",
    metadata,
    Column("device_id", ID, ForeignKey("devices.device_id"), primary_key=True),
    Column("state", JSON, nullable=False),
)

access_codes = Table(
    "access_codes",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("access_code_id", ID, nullable=False, unique=True),
    Column("workspace_id", ID, ForeignKey("workspaces.workspace_id"), nullable=False),
    Column("device_id", ID, ForeignKey("devices.device_id"), nullable=False),
    Column("is_managed", Boolean, nullable=False),
    Column("is_backup", Boolean, nullable=False, default=False),
    Column("name", String(200)),
    Column("code", String(20)),
    Column("common_code_key", String(200)),
    Column("starts_at", UTCDateTime),
    Column("ends_at", UTCDateTime),
    Column("status", String(16), nullable=False),
    Column("allow_external_modification", Boolean, nullable=False, default=False),
    Column("prefer_native_scheduling", Boolean, nullable=False, default=True),
    Column("use_backup_access_code_pool", Boolean, nullable=False, default=False),
    Column("attempt_for_offline_device", Boolean, nullable=False, default=True),
    Column("is_offline_access_code", Boolean, nullable=False, default=False),
    Column("is_one_time_use", Boolean, nullable=False, default=False),
    Column("code_generated", Boolean, nullable=False, default=False),
    Column("pulled_backup_access_code_id", ID),
    Column("backup_pulled_for", ID),  # on a backup: the code it stands in for
    Column("errors", JSON, nullable=False, default=list),
    Column("warnings", JSON, nullable=False, default=list),
    Column("pending_mutations", JSON, nullable=False, default=list),
    # Engine bookkeeping.
    Column("failure", JSON),  # the lock's last refusal of a write, as an issue
    Column("slot", Integer),
    Column("is_scheduled_on_device", Boolean, nullable=False, default=False),
    Column("delete_requested_at", UTCDateTime),
    Column("written_at", UTCDateTime),
    Column("removal_sent_at", UTCDateTime),
    Column("confirmed_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("unconfirmed_writes", Integer, nullable=False, default=0),
    Column("retry_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    # The code as Seam's JSON, written by the database itself on every INSERT and UPDATE
    # (store/access_code_wire.py: a generated column on SQLite, a trigger on PostgreSQL).
    Column("wire", Text, server_default=FetchedValue(), server_onupdate=FetchedValue()),
    Index("ix_access_codes_ws_seq", "workspace_id", "is_managed", "seq"),
    # A lock's codes in order: every equality term of a device list, then the order, so SQLite
    # prefers it to the workspace index for lists filtered by device.
    Index("ix_access_codes_device", "device_id", "is_managed", "is_backup", "seq"),
    # PIN lookups (duplicates): three equality terms, so SQLite prefers it to the one above.
    Index("ix_access_codes_device_code", "device_id", "code", "is_managed"),
    Index("ix_access_codes_common", "workspace_id", "common_code_key"),
)

# What pinwarden last wrote into each slot: trusted for masked reads, survives restarts.
slot_writes = Table(
    "slot_writes",
    metadata,
    Column("device_id", ID, ForeignKey("devices.device_id"), primary_key=True),
    Column("slot", Integer, primary_key=True),
    Column("code", String(20)),
    Column("name", String(200)),
    Column("access_code_id", ID),
    Column("written_at", UTCDateTime, nullable=False),  # when the write was decided (intent)
    # When the lock acknowledged it; None: decided, perhaps never sent (a crash in between).
    Column("acked_at", UTCDateTime),
    # When the lock last reported a change to this slot made outside pinwarden (keypad,
    # brand app): a masked slot is no longer trusted to hold what pinwarden wrote.
    Column("changed_at", UTCDateTime),
    # When the lock last acknowledged clearing the slot (a leftover PIN of ours is re-sent
    # its removal no sooner than the backoff allows).
    Column("removal_sent_at", UTCDateTime),
    # While a write is unacknowledged: the write before it that the lock did acknowledge (a
    # process that stops between deciding a write and hearing back still knows the slot's
    # earlier content as its own).
    Column("prior_code", String(20)),
    Column("prior_name", String(200)),
    Column("prior_access_code_id", ID),
)

action_attempts = Table(
    "action_attempts",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("action_attempt_id", ID, nullable=False, unique=True),
    Column("workspace_id", ID, ForeignKey("workspaces.workspace_id"), nullable=False),
    Column("action_type", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("result", JSON),
    Column("error", JSON),
    Column("device_id", ID),
    Column("access_code_id", ID),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_action_attempts_ws_seq", "workspace_id", "seq"),
    Index("ix_action_attempts_code", "access_code_id"),
)

events = Table(
    "events",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("event_id", ID, nullable=False, unique=True),
    Column("workspace_id", ID, ForeignKey("workspaces.workspace_id"), nullable=False),
    Column("event_type", String(80), nullable=False),
    Column("device_id", ID),
    Column("access_code_id", ID),
    Column("connected_account_id", ID),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Index("ix_events_ws_created", "workspace_id", "created_at"),
    Index("ix_events_code", "access_code_id"),
)

# Webhook endpoints of a workspace (Seam's `/webhooks/*`).
webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.workspace_id"), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("event_types", JSON, nullable=False),  # ["*"], exact types, or "prefix.*"
    Column("secret", String(64), nullable=False),  # whsec_...; shown to the workspace's keys
    Column("created_at", UTCDateTime, nullable=False),
    # The last event appended before the webhook was created: it receives the events after.
    Column("after_event_seq", SEQ, nullable=False, default=0),
    # The first failed attempt of the current run of failures (None: the last one succeeded);
    # an endpoint failing for `DISABLE_AFTER` is disabled, and says so.
    Column("failing_since", UTCDateTime),
    Column("disabled_at", UTCDateTime),
    Column("disabled_reason", String(500)),
    Index("ix_webhooks_workspace", "workspace_id", "created_at"),
)

# One row per event, written in the event's own transaction; the dispatcher turns it into a
# delivery per matching webhook and deletes it (also in one transaction), so an event and its
# deliveries are never lost or invented by a crash.
webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("event_id", ID, nullable=False),
    Column("workspace_id", ID, nullable=False),
    Column("event_type", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# One event for one webhook (Svix's "message"): every attempt carries its `delivery_id` as the
# `webhook-id` header, so a receiver can drop a retry it already handled.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("delivery_id", String(40), nullable=False, unique=True),
    Column("webhook_id", ID, ForeignKey("webhooks.webhook_id"), nullable=False),
    Column("workspace_id", ID, nullable=False),
    Column("event_id", ID, nullable=False),
    Column("status", String(16), nullable=False),  # pending | succeeded | failed
    Column("attempts", Integer, nullable=False, default=0),
    # When the next attempt is due (None once the delivery is finished).
    Column("next_attempt_at", UTCDateTime),
    # A dispatcher is sending it until then (wall-clock time): a dispatcher that died with it
    # leaves the claim to run out, and the delivery is sent again under the same id.
    Column("claimed_until", UTCDateTime),
    Column("last_attempt_at", UTCDateTime),
    # What the next attempt is for: `scheduled` (the retry schedule) or `manual` (a resend).
    Column("trigger", String(16), nullable=False, default="scheduled"),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_webhook_deliveries_due", "next_attempt_at", "webhook_id"),
    Index("ix_webhook_deliveries_endpoint_due", "webhook_id", "next_attempt_at"),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "seq"),
    Index("ix_webhook_deliveries_event", "event_id"),
    Index("ix_webhook_deliveries_claimed", "claimed_until"),
)

# Every attempt of a delivery: the delivery log.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("delivery_id", String(40), nullable=False),
    Column("webhook_id", ID, nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("response_status_code", Integer),
    Column("response_body", String(1000)),  # the start of it
    Column("error", String(500)),  # timeout, refused connection, redirect not followed, ...
    Column("duration_ms", Integer, nullable=False),
    Column("trigger", String(16), nullable=False),  # scheduled | manual (a resend)
    Index("ix_webhook_attempts_delivery", "delivery_id", "seq"),
)

# Small process-wide settings that must survive restarts (the virtual clock's time, ...).
settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
)

__all__ = ["metadata", "UTCDateTime"]
