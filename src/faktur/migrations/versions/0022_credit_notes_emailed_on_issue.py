"""credit notes are e-mailed on issue under the e-mail on finalization setting: the outbox loop
checks credit_note.issued events too, so the partial index of unchecked events covers that type

Events written before this revision are marked checked: those credit notes were issued when no
e-mail followed, and an upgrade must not e-mail them now. Downgrade recreates the index of
invoice.finalized events alone (the flags stay as they are; the older code never reads them for
other types).

Revision ID: 0022
Revises: 0021
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_events_email_unchecked"
OLD_TYPES = "type = 'invoice.finalized'"
NEW_TYPES = "type IN ('invoice.finalized', 'credit_note.issued')"


def _create_index(types: str) -> None:
    op.create_index(
        INDEX,
        "events",
        ["seq"],
        sqlite_where=sa.text(f"{types} AND email_checked = 0"),
        postgresql_where=sa.text(f"{types} AND email_checked = false"),
    )


def upgrade() -> None:
    op.execute(sa.text("UPDATE events SET email_checked = true WHERE type = 'credit_note.issued'"))
    op.drop_index(INDEX, table_name="events")
    _create_index(NEW_TYPES)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="events")
    _create_index(OLD_TYPES)
