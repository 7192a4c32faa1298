"""real installations: account kinds, their connection state, lock state and models

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pinwarden.store.schema import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("connected_accounts") as batch:
        batch.add_column(
            sa.Column("provider", sa.String(32), nullable=False, server_default="sandbox")
        )
        batch.add_column(sa.Column("connected", sa.Boolean(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("errors", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("last_synced_at", UTCDateTime(timezone=True)))
        batch.add_column(sa.Column("removed_at", UTCDateTime(timezone=True)))
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("locked", sa.Boolean()))
        batch.add_column(
            sa.Column("provider_metadata", sa.JSON(), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("provider_metadata")
        batch.drop_column("locked")
    with op.batch_alter_table("connected_accounts") as batch:
        batch.drop_column("removed_at")
        batch.drop_column("last_synced_at")
        batch.drop_column("errors")
        batch.drop_column("connected")
        batch.drop_column("provider")
