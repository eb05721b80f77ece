"""webhook deliveries: the index of due ones in the lease's order, (next_attempt_at, id)

The lease reads due deliveries ordered by (next_attempt_at, id); on the index of next_attempt_at
alone it read every due delivery, checked each one's object order and sorted them, to lease 32: a
month-end burst of 200,000 pending deliveries cost each pass that many look-ups. In the index's
order a pass reads about as many as it leases.

Revision ID: 0025
Revises: 0024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_webhook_deliveries_due"
PENDING = "status = 'pending'"


def _create(columns: list[str]) -> None:
    op.create_index(
        INDEX,
        "webhook_deliveries",
        columns,
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )


def upgrade() -> None:
    op.drop_index(INDEX, table_name="webhook_deliveries")
    _create(["next_attempt_at", "id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="webhook_deliveries")
    _create(["next_attempt_at"])
