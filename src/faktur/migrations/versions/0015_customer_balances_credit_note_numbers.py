"""customer credit balances (a locked row per customer and currency, and its ledger) and the
credit-note number format of organisations

Existing organisations get the default credit-note format CN-{YYYY}-{SEQ:05}; its counter lives in
number_series under its own series key, created on first use. Plain ALTER TABLE ADD COLUMN on
`organisations`, never a batch rebuild (SQLite would drop the table and cascade).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import faktur.models.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = faktur.models.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "organisations",
        sa.Column(
            "credit_note_number_format",
            sa.String(100),
            nullable=False,
            server_default="CN-{YYYY}-{SEQ:05}",
        ),
    )
    op.create_table(
        "customer_balances",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("organisation_id", "customer_id", "currency", name="pk_customer_balances"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_customer_balances_organisation_id_organisations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_customer_balances_customer_id_customers",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("balance_minor >= 0", name="ck_customer_balances_not_negative"),
    )
    op.create_table(
        "customer_balance_transactions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_minor", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_customer_balance_transactions"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_customer_balance_transactions_organisation_id_organisations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_customer_balance_transactions_customer_id_customers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name="fk_customer_balance_transactions_invoice_id_invoices",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("amount_minor != 0", name="ck_customer_balance_transactions_not_zero"),
        sa.CheckConstraint(
            "balance_after_minor >= 0", name="ck_customer_balance_transactions_balance_after_not_negative"
        ),
    )
    op.create_index(
        "ix_customer_balance_transactions_org_customer_created",
        "customer_balance_transactions",
        ["organisation_id", "customer_id", "created_at", "id"],
    )
    op.create_index(
        "ix_customer_balance_transactions_org_invoice",
        "customer_balance_transactions",
        ["organisation_id", "invoice_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_customer_balance_transactions_org_invoice", table_name="customer_balance_transactions")
    op.drop_index(
        "ix_customer_balance_transactions_org_customer_created", table_name="customer_balance_transactions"
    )
    op.drop_table("customer_balance_transactions")
    op.drop_table("customer_balances")
    op.drop_column("organisations", "credit_note_number_format")
