"""console_sessions: server-side console sign-ins; devices.time_zone: the lock's IANA zone

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pinwarden.store.schema

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("api_key_id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", pinwarden.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", pinwarden.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.api_key_id"]),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.workspace_id"]),
        sa.PrimaryKeyConstraint("session_hash"),
    )
    with op.batch_alter_table("console_sessions") as batch:
        batch.create_index("ix_console_sessions_key", ["api_key_id"])
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("time_zone")
    with op.batch_alter_table("console_sessions") as batch:
        batch.drop_index("ix_console_sessions_key")
    op.drop_table("console_sessions")
