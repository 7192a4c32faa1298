"""access_codes.wire: each code's Seam JSON, kept current by the database

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 12:00:00

The expression is pinwarden.store.access_code_wire's: on SQLite a stored generated column
(the table is rebuilt: SQLite adds stored columns no other way), on PostgreSQL a column that a
trigger sets on every INSERT and UPDATE. Existing rows are rendered here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pinwarden.store import access_code_wire

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        column = sa.Column(
            "wire", sa.Text(), sa.Computed(access_code_wire.sqlite_column_sql(), persisted=True)
        )
        with op.batch_alter_table("access_codes", recreate="always") as batch:
            batch.add_column(column)
        return
    op.add_column("access_codes", sa.Column("wire", sa.Text()))
    for statement in access_code_wire.pg_trigger_ddl():
        op.execute(statement)
    op.execute("UPDATE access_codes SET seq = seq")  # the trigger renders every row


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {access_code_wire.PG_TRIGGER} ON access_codes")
        op.execute(f"DROP FUNCTION IF EXISTS {access_code_wire.PG_FUNCTION}()")
    with op.batch_alter_table("access_codes", recreate="always") as batch:
        batch.drop_column("wire")
