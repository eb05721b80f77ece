"""billing runs get a lease: the executor that drives the run, its last heartbeat, the lease's expiry

A run whose lease expired (its executor died) is resumed by a `faktur worker` (PostgreSQL) or by
the service (in-process runs). Runs left `running` before this migration have no lease, which
counts as expired: they are resumed too.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import faktur.models.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = faktur.models.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("billing_runs") as batch:
        batch.add_column(sa.Column("executor", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("lease_expires_at", UTC_DATETIME, nullable=True))
    op.create_index("ix_billing_runs_status_lease", "billing_runs", ["status", "lease_expires_at"])


def downgrade() -> None:
    op.drop_index("ix_billing_runs_status_lease", table_name="billing_runs")
    with op.batch_alter_table("billing_runs") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("heartbeat_at")
        batch.drop_column("executor")
