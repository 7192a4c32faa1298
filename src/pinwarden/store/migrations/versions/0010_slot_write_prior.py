"""slot_writes.prior_*: what the slot last held for sure while a write to it is unacknowledged

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("slot_writes") as batch:
        batch.add_column(sa.Column("prior_code", sa.String(20)))
        batch.add_column(sa.Column("prior_name", sa.String(200)))
        batch.add_column(sa.Column("prior_access_code_id", sa.String(36)))


def downgrade() -> None:
    with op.batch_alter_table("slot_writes") as batch:
        batch.drop_column("prior_access_code_id")
        batch.drop_column("prior_name")
        batch.drop_column("prior_code")
