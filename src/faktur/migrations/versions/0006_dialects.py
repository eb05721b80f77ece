"""compatibility dialects: the vendor-side identity of invoices (iw-erp integer ids, vendor fields)

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import faktur.models.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dialect_invoices",
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("dialect", sa.String(length=30), nullable=False),
        sa.Column("public_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", faktur.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_dialect_invoices_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_dialect_invoices_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialect_invoices")),
    )
    op.create_index(
        "uq_dialect_invoices_org_invoice",
        "dialect_invoices",
        ["organisation_id", "dialect", "invoice_id"],
        unique=True,
    )
    op.create_index(
        "uq_dialect_invoices_org_public_id",
        "dialect_invoices",
        ["organisation_id", "dialect", "public_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_dialect_invoices_org_public_id", table_name="dialect_invoices")
    op.drop_index("uq_dialect_invoices_org_invoice", table_name="dialect_invoices")
    op.drop_table("dialect_invoices")
