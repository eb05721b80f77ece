"""invoice sources: where an invoice and each line come from, and the natural keys on them

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("source", sa.String(20), nullable=False, server_default="api"))
        batch.add_column(sa.Column("contract_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("period_start", sa.Date(), nullable=True))
        batch.add_column(sa.Column("period_end", sa.Date(), nullable=True))
    op.create_index(
        "uq_invoices_live_contract_period",
        "invoices",
        ["organisation_id", "contract_id", "period_start", "period_end"],
        unique=True,
        sqlite_where=sa.text("contract_id IS NOT NULL AND status != 'void'"),
        postgresql_where=sa.text("contract_id IS NOT NULL AND status != 'void'"),
    )
    with op.batch_alter_table("invoice_lines") as batch:
        batch.add_column(sa.Column("source_kind", sa.String(30), nullable=True))
        batch.add_column(sa.Column("source_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("live", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_index(
        "ix_invoice_lines_org_source", "invoice_lines", ["organisation_id", "source_kind", "source_id"]
    )
    op.create_index(
        "uq_invoice_lines_live_item",
        "invoice_lines",
        ["organisation_id", "source_id"],
        unique=True,
        sqlite_where=sa.text("live AND source_kind = 'invoice_item'"),
        postgresql_where=sa.text("live AND source_kind = 'invoice_item'"),
    )


def downgrade() -> None:
    op.drop_index("uq_invoice_lines_live_item", table_name="invoice_lines")
    op.drop_index("ix_invoice_lines_org_source", table_name="invoice_lines")
    with op.batch_alter_table("invoice_lines") as batch:
        batch.drop_column("live")
        batch.drop_column("source_id")
        batch.drop_column("source_kind")
    op.drop_index("uq_invoices_live_contract_period", table_name="invoices")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("period_end")
        batch.drop_column("period_start")
        batch.drop_column("contract_id")
        batch.drop_column("source")
