"""provider seam: lock refs, pacing, acknowledged writes, reported changes, account settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pinwarden.store.schema import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("lock_ref", sa.String(200)))
        batch.add_column(sa.Column("last_command_at", UTCDateTime(timezone=True)))
    with op.batch_alter_table("slot_writes") as batch:
        batch.add_column(sa.Column("acked_at", UTCDateTime(timezone=True)))
        batch.add_column(sa.Column("changed_at", UTCDateTime(timezone=True)))
        batch.add_column(sa.Column("removal_sent_at", UTCDateTime(timezone=True)))
    # Writes recorded before this revision were recorded when sent: count them acknowledged.
    op.execute("UPDATE slot_writes SET acked_at = written_at")
    with op.batch_alter_table("connected_accounts") as batch:
        batch.add_column(sa.Column("settings", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("secrets", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("connected_accounts") as batch:
        batch.drop_column("secrets")
        batch.drop_column("settings")
    with op.batch_alter_table("slot_writes") as batch:
        batch.drop_column("removal_sent_at")
        batch.drop_column("changed_at")
        batch.drop_column("acked_at")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("last_command_at")
        batch.drop_column("lock_ref")
