"""invoices: a partial index of the open ones by due date, for the outbox loop's look for invoices
that became overdue (every 5 minutes by default, in every loop), which read every invoice of every
organisation without it

Revision ID: 0024
Revises: 0023
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_invoices_open_due"


def upgrade() -> None:
    op.create_index(
        INDEX,
        "invoices",
        ["due_date", "id"],
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="invoices")
