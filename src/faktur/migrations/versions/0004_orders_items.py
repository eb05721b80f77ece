"""orders and pending invoice items

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import faktur.models.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _exact() -> faktur.models.types.ExactDecimal:
    return faktur.models.types.ExactDecimal(length=64)


def _tenant_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", faktur.models.types.UtcDateTime(timezone=True), nullable=False),
    ]


def _tax_columns() -> list[sa.Column]:
    return [
        sa.Column("tax_rate_id", sa.Uuid(), nullable=True),
        sa.Column("tax_category", sa.String(length=2), nullable=True),
        sa.Column("tax_percent", _exact(), nullable=True),
        sa.Column("exemption_reason", sa.String(length=300), nullable=True),
        sa.Column("exemption_reason_code", sa.String(length=30), nullable=True),
    ]


def _tenant_keys(table: str, *, customer: bool = True, tax_rate: bool = True) -> list[sa.Constraint]:
    keys: list[sa.Constraint] = [
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f(f"fk_{table}_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]
    if customer:
        keys.append(
            sa.ForeignKeyConstraint(
                ["customer_id"], ["customers.id"], name=op.f(f"fk_{table}_customer_id_customers")
            )
        )
    if tax_rate:
        keys.append(
            sa.ForeignKeyConstraint(
                ["tax_rate_id"], ["tax_rates.id"], name=op.f(f"fk_{table}_tax_rate_id_tax_rates")
            )
        )
    return keys


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=True),
        sa.Column("external_reference", sa.String(length=200), nullable=True),
        sa.Column("metadata", _JSON, nullable=False),
        sa.Column("net_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", faktur.models.types.UtcDateTime(timezone=True), nullable=False),
        *_tenant_columns(),
        *_tenant_keys("orders", tax_rate=False),
    )
    op.create_index("ix_orders_org_created", "orders", ["organisation_id", "created_at", "id"])
    op.create_index("ix_orders_org_customer", "orders", ["organisation_id", "customer_id"])
    op.create_index(
        "uq_orders_org_external_reference", "orders", ["organisation_id", "external_reference"], unique=True
    )
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("quantity", _exact(), nullable=False),
        sa.Column("unit_code", sa.String(length=3), nullable=False),
        sa.Column("unit_price", _exact(), nullable=False),
        *_tax_columns(),
        sa.Column("discount_percent", _exact(), nullable=True),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_reason", sa.String(length=300), nullable=True),
        sa.Column("metadata", _JSON, nullable=False),
        *_tenant_columns(),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders"), ondelete="CASCADE"
        ),
        *_tenant_keys("order_lines", customer=False),
    )
    op.create_index("ix_order_lines_org_order", "order_lines", ["organisation_id", "order_id", "position"])
    op.create_table(
        "invoice_items",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_mode", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("quantity", _exact(), nullable=False),
        sa.Column("unit_code", sa.String(length=3), nullable=False),
        sa.Column("unit_price", _exact(), nullable=False),
        *_tax_columns(),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("metadata", _JSON, nullable=False),
        *_tenant_columns(),
        *_tenant_keys("invoice_items"),
    )
    op.create_index("ix_invoice_items_org_created", "invoice_items", ["organisation_id", "created_at", "id"])
    op.create_index(
        "ix_invoice_items_org_customer", "invoice_items", ["organisation_id", "customer_id", "contract_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_invoice_items_org_customer", table_name="invoice_items")
    op.drop_index("ix_invoice_items_org_created", table_name="invoice_items")
    op.drop_table("invoice_items")
    op.drop_index("ix_order_lines_org_order", table_name="order_lines")
    op.drop_table("order_lines")
    op.drop_index("uq_orders_org_external_reference", table_name="orders")
    op.drop_index("ix_orders_org_customer", table_name="orders")
    op.drop_index("ix_orders_org_created", table_name="orders")
    op.drop_table("orders")
