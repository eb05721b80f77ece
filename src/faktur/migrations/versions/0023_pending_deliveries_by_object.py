"""webhook deliveries: an index of the pending ones by (endpoint, object, event), for the check that
leases a delivery only when no older one of its object to its endpoint is pending

Without it PostgreSQL, on a table whose statistics predate a burst of deliveries (a new database,
or a month-end run before autovacuum analyses the table), answered that check from the partial
index of due deliveries: every candidate compared with every pending delivery, 206 ms for 1,000
pending and growing with their square (docs/benchmarks.md).

Revision ID: 0023
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_webhook_deliveries_pending_object"


def upgrade() -> None:
    op.create_index(
        INDEX,
        "webhook_deliveries",
        ["endpoint_id", "object_id", "event_seq"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="webhook_deliveries")
