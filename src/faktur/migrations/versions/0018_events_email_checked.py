"""e-mails on finalization react to committed invoice.finalized events: a flag per event that the
outbox loop sets once it has decided (and queued the send) in the same transaction

Events written before this revision are marked checked: their e-mails were queued by the request
that finalized the invoice, and must not be queued again. Plain ALTER TABLE ADD COLUMN.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "events", sa.Column("email_checked", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.execute(sa.text("UPDATE events SET email_checked = true WHERE type = 'invoice.finalized'"))
    op.create_index(
        "ix_events_email_unchecked",
        "events",
        ["seq"],
        sqlite_where=sa.text("type = 'invoice.finalized' AND email_checked = 0"),
        postgresql_where=sa.text("type = 'invoice.finalized' AND email_checked = false"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_email_unchecked", table_name="events")
    op.drop_column("events", "email_checked")
