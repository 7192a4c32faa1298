"""webhooks: endpoints, the outbox written with each event, deliveries and their attempts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pinwarden.store.schema

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = pinwarden.store.schema.UTCDateTime(timezone=True)
ID = sa.String(length=36)


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("webhook_id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("after_event_seq", SEQ, nullable=False),
        sa.Column("failing_since", WHEN, nullable=True),
        sa.Column("disabled_at", WHEN, nullable=True),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.workspace_id"]),
        sa.PrimaryKeyConstraint("webhook_id"),
    )
    op.create_index("ix_webhooks_workspace", "webhooks", ["workspace_id", "created_at"])
    op.create_table(
        "webhook_outbox",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.Column("webhook_id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=True),
        sa.Column("claimed_until", WHEN, nullable=True),
        sa.Column("last_attempt_at", WHEN, nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.webhook_id"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("delivery_id"),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["next_attempt_at", "webhook_id"]
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_due",
        "webhook_deliveries",
        ["webhook_id", "next_attempt_at"],
    )
    op.create_index("ix_webhook_deliveries_webhook", "webhook_deliveries", ["webhook_id", "seq"])
    op.create_index("ix_webhook_deliveries_event", "webhook_deliveries", ["event_id"])
    op.create_index("ix_webhook_deliveries_claimed", "webhook_deliveries", ["claimed_until"])
    op.create_table(
        "webhook_attempts",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.Column("webhook_id", ID, nullable=False),
        sa.Column("attempted_at", WHEN, nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("response_status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.String(length=1000), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "seq"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_outbox")
    op.drop_table("webhooks")
