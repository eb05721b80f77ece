"""credit notes: the credit notes of issued invoices, their lines and VAT breakdown; what an
invoice was credited; the credit note behind a customer balance transaction

Primary keys of the new tables are (organisation_id, id); lines and VAT groups refer to their
credit note by both. Plain ALTER TABLE ADD COLUMN on invoices and customer_balance_transactions,
never a batch rebuild (SQLite would drop the table and cascade).

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import faktur.models.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = faktur.models.types.UtcDateTime(timezone=True)
EXACT_DECIMAL = faktur.models.types.ExactDecimal(length=64)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column(
        "invoices", sa.Column("credited_minor", sa.BigInteger(), nullable=False, server_default="0")
    )
    op.add_column(
        "invoices",
        sa.Column("credited_against_due_minor", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.add_column("customer_balance_transactions", sa.Column("credit_note_id", sa.Uuid(), nullable=True))
    op.create_table(
        "credit_notes",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(255), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(30), nullable=False),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("full_cancellation", sa.Boolean(), nullable=False),
        sa.Column("adjustments", JSON_DOCUMENT, nullable=False),
        sa.Column("customer_snapshot", JSON_DOCUMENT, nullable=False),
        sa.Column("seller_snapshot", JSON_DOCUMENT, nullable=False),
        sa.Column("line_net_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("allowance_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("charge_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_exclusive_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("due_reduction_minor", sa.BigInteger(), nullable=False),
        sa.Column("refund_minor", sa.BigInteger(), nullable=False),
        sa.Column("refund_method", sa.String(50), nullable=True),
        sa.Column("refund_reference", sa.String(200), nullable=True),
        sa.Column("refund_date", sa.Date(), nullable=True),
        sa.Column("balance_credit_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("organisation_id", "id", name="pk_credit_notes"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_credit_notes_organisation_id_organisations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name="fk_credit_notes_invoice_id_invoices"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_credit_notes_customer_id_customers"
        ),
    )
    op.create_index("uq_credit_notes_org_number", "credit_notes", ["organisation_id", "number"], unique=True)
    op.create_index("ix_credit_notes_org_created", "credit_notes", ["organisation_id", "created_at", "id"])
    op.create_index("ix_credit_notes_org_invoice", "credit_notes", ["organisation_id", "invoice_id"])
    op.create_index("ix_credit_notes_org_customer", "credit_notes", ["organisation_id", "customer_id"])
    op.create_table(
        "credit_note_lines",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("credit_note_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("invoice_line_id", sa.Uuid(), nullable=True),
        sa.Column("credited_quantity", EXACT_DECIMAL, nullable=False),
        sa.Column("description", sa.String(1000), nullable=False),
        sa.Column("sku", sa.String(255), nullable=True),
        sa.Column("quantity", EXACT_DECIMAL, nullable=False),
        sa.Column("unit_code", sa.String(3), nullable=False),
        sa.Column("unit_price", EXACT_DECIMAL, nullable=False),
        sa.Column("tax_category", sa.String(2), nullable=False),
        sa.Column("tax_percent", EXACT_DECIMAL, nullable=False),
        sa.Column("exemption_reason", sa.String(300), nullable=True),
        sa.Column("exemption_reason_code", sa.String(30), nullable=True),
        sa.Column("allowances", JSON_DOCUMENT, nullable=False),
        sa.Column("charges", JSON_DOCUMENT, nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("allowance_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("charge_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("gross_minor", sa.BigInteger(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("organisation_id", "id", name="pk_credit_note_lines"),
        sa.ForeignKeyConstraint(
            ["organisation_id", "credit_note_id"],
            ["credit_notes.organisation_id", "credit_notes.id"],
            name="fk_credit_note_lines_organisation_id_credit_notes",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_line_id"],
            ["invoice_lines.id"],
            name="fk_credit_note_lines_invoice_line_id_invoice_lines",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_credit_note_lines_org_credit_note",
        "credit_note_lines",
        ["organisation_id", "credit_note_id", "position"],
    )
    op.create_index(
        "ix_credit_note_lines_org_invoice_line", "credit_note_lines", ["organisation_id", "invoice_line_id"]
    )
    op.create_table(
        "credit_note_tax_groups",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("credit_note_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(2), nullable=False),
        sa.Column("percent", EXACT_DECIMAL, nullable=False),
        sa.Column("taxable_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("exemption_reason", sa.String(300), nullable=True),
        sa.Column("exemption_reason_code", sa.String(30), nullable=True),
        sa.PrimaryKeyConstraint("organisation_id", "id", name="pk_credit_note_tax_groups"),
        sa.ForeignKeyConstraint(
            ["organisation_id", "credit_note_id"],
            ["credit_notes.organisation_id", "credit_notes.id"],
            name="fk_credit_note_tax_groups_organisation_id_credit_notes",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_credit_note_tax_groups_org_credit_note",
        "credit_note_tax_groups",
        ["organisation_id", "credit_note_id", "position"],
    )


def downgrade() -> None:
    op.drop_index("ix_credit_note_tax_groups_org_credit_note", table_name="credit_note_tax_groups")
    op.drop_table("credit_note_tax_groups")
    op.drop_index("ix_credit_note_lines_org_invoice_line", table_name="credit_note_lines")
    op.drop_index("ix_credit_note_lines_org_credit_note", table_name="credit_note_lines")
    op.drop_table("credit_note_lines")
    op.drop_index("ix_credit_notes_org_customer", table_name="credit_notes")
    op.drop_index("ix_credit_notes_org_invoice", table_name="credit_notes")
    op.drop_index("ix_credit_notes_org_created", table_name="credit_notes")
    op.drop_index("uq_credit_notes_org_number", table_name="credit_notes")
    op.drop_table("credit_notes")
    op.drop_column("customer_balance_transactions", "credit_note_id")
    op.drop_column("invoices", "credited_against_due_minor")
    op.drop_column("invoices", "credited_minor")
