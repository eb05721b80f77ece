"""usage events get an ingestion sequence number; period invoices record what they billed as coverage

A period invoice no longer marks each event it bills: it stores one usage_coverages row (its
contract, its span, the highest sequence number it counted). Existing events keep their marks;
they are governed by their invoice_id as before, so nothing already billed changes.

PostgreSQL numbers events from the sequence usage_event_seq (the column default); SQLite from a
counter row in number_series (series 'usage_events'), set here above every existing event.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import faktur.models.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = faktur.models.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE usage_event_seq AS bigint")
        op.add_column("usage_events", sa.Column("seq", sa.BigInteger(), nullable=True))
        op.execute("UPDATE usage_events SET seq = nextval('usage_event_seq')")
        op.alter_column(
            "usage_events", "seq", nullable=False, server_default=sa.text("nextval('usage_event_seq')")
        )
        op.execute("ALTER SEQUENCE usage_event_seq OWNED BY usage_events.seq")
    else:
        op.add_column("usage_events", sa.Column("seq", sa.BigInteger(), nullable=True))
        op.execute("UPDATE usage_events SET seq = rowid")
        with op.batch_alter_table("usage_events") as batch:
            batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        op.execute(
            "INSERT INTO number_series (organisation_id, series, period_key, next_value) "
            "SELECT id, 'usage_events', '', (SELECT coalesce(max(seq), 0) + 1 FROM usage_events) "
            "FROM organisations"
        )

    op.create_table(
        "usage_coverages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("since", UTC_DATETIME, nullable=False),
        sa.Column("before", UTC_DATETIME, nullable=False),
        sa.Column("max_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_coverages"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_usage_coverages_organisation_id_organisations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_usage_coverages_invoice_id_invoices"
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name="fk_usage_coverages_contract_id_contracts",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_usage_coverages_org_contract_since",
        "usage_coverages",
        ["organisation_id", "contract_id", "since"],
    )


def downgrade() -> None:
    # What coverage billed becomes explicit marks again, so nothing billed turns unbilled.
    op.execute(
        """
        UPDATE usage_events SET invoice_id = (
            SELECT c.invoice_id FROM usage_coverages c JOIN invoices i ON i.id = c.invoice_id
            WHERE i.status != 'void' AND c.organisation_id = usage_events.organisation_id
              AND c.contract_id = usage_events.contract_id AND c.since <= usage_events."timestamp"
              AND usage_events."timestamp" < c.before AND usage_events.seq <= c.max_seq
            LIMIT 1)
        WHERE invoice_id IS NULL
        """
    )
    op.drop_index("ix_usage_coverages_org_contract_since", table_name="usage_coverages")
    op.drop_table("usage_coverages")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("usage_events", "seq")  # drops the owned sequence with it
    else:
        op.execute("DELETE FROM number_series WHERE series = 'usage_events'")
        with op.batch_alter_table("usage_events") as batch:
            batch.drop_column("seq")
