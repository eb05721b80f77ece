"""billing runs get a lease: the executor that drives the run, its last heartbeat, the lease's expiry

A run whose lease expired (its executor died) is resumed by a `faktur worker` (PostgreSQL) or by
the service (in-process runs). Runs left `running` before this migration have no lease, which
counts as expired: they are resumed too.

One unfinished run per (organisation, as_of), by a partial unique index: two starts at once used
to create two runs. Should a database hold such twins, the older one stays `running` and bills
everything still due; the newer ones are closed as `completed` (nothing is left for them).

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
    op.execute(
        """
        UPDATE billing_runs SET status = 'completed', finished_at = updated_at
        WHERE status = 'running' AND EXISTS (
            SELECT 1 FROM billing_runs older
            WHERE older.organisation_id = billing_runs.organisation_id AND older.as_of = billing_runs.as_of
              AND older.status = 'running'
              AND (older.created_at < billing_runs.created_at
                   OR (older.created_at = billing_runs.created_at AND older.id < billing_runs.id)))
        """
    )
    op.create_index(
        "uq_billing_runs_org_as_of_running",
        "billing_runs",
        ["organisation_id", "as_of"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )


def downgrade() -> None:
    op.drop_index("uq_billing_runs_org_as_of_running", table_name="billing_runs")
    op.drop_index("ix_billing_runs_status_lease", table_name="billing_runs")
    with op.batch_alter_table("billing_runs") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("heartbeat_at")
        batch.drop_column("executor")
