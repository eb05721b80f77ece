"""contracts, metrics, usage events, billing runs

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import faktur.models.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC_DATETIME = faktur.models.types.UtcDateTime(timezone=True)
EXACT = faktur.models.types.ExactDecimal()


def _tenant_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
    ]


def _tenant_constraints(table: str) -> list[sa.Constraint]:
    return [
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=f"fk_{table}_organisation_id_organisations",
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "billable_metrics",
        *_tenant_columns(),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("aggregation", sa.String(20), nullable=False),
        sa.Column("property", sa.String(100), nullable=True),
        sa.Column("description", sa.String(1000), nullable=True),
        *_tenant_constraints("billable_metrics"),
    )
    op.create_index(
        "uq_billable_metrics_org_code", "billable_metrics", ["organisation_id", "code"], unique=True
    )
    op.create_index(
        "ix_billable_metrics_org_created", "billable_metrics", ["organisation_id", "created_at", "id"]
    )

    op.create_table(
        "contracts",
        *_tenant_columns(),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("billing_interval", sa.String(10), nullable=False),
        sa.Column("billing_cycle_start_day", sa.Integer(), nullable=False),
        sa.Column("billing_timing", sa.String(12), nullable=False),
        sa.Column("payment_mode", sa.String(12), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        *_tenant_constraints("contracts"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name="fk_contracts_customer_id_customers"),
    )
    op.create_index("ix_contracts_org_created", "contracts", ["organisation_id", "created_at", "id"])
    op.create_index("ix_contracts_org_customer", "contracts", ["organisation_id", "customer_id"])
    op.create_index("ix_contracts_org_start", "contracts", ["organisation_id", "start_date"])

    op.create_table(
        "contract_components",
        *_tenant_columns(),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("terms_version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("amount", EXACT, nullable=True),
        sa.Column("metric_id", sa.Uuid(), nullable=True),
        sa.Column("charge_model", JSON, nullable=True),
        sa.Column("tax_rate_id", sa.Uuid(), nullable=True),
        sa.Column("tax", JSON, nullable=True),
        *_tenant_constraints("contract_components"),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name="fk_contract_components_contract_id_contracts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"], ["billable_metrics.id"], name="fk_contract_components_metric_id_billable_metrics"
        ),
        sa.ForeignKeyConstraint(
            ["tax_rate_id"], ["tax_rates.id"], name="fk_contract_components_tax_rate_id_tax_rates"
        ),
    )
    op.create_index(
        "ix_contract_components_org_contract",
        "contract_components",
        ["organisation_id", "contract_id", "terms_version"],
    )

    op.create_table(
        "usage_events",
        *_tenant_columns(),
        sa.Column("transaction_id", sa.String(200), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("metric_id", sa.Uuid(), nullable=False),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        sa.Column("properties", JSON, nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        *_tenant_constraints("usage_events"),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name="fk_usage_events_contract_id_contracts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"], ["billable_metrics.id"], name="fk_usage_events_metric_id_billable_metrics"
        ),
    )
    op.create_index(
        "uq_usage_events_org_transaction", "usage_events", ["organisation_id", "transaction_id"], unique=True
    )
    op.create_index(
        "ix_usage_events_org_contract_time", "usage_events", ["organisation_id", "contract_id", "timestamp"]
    )

    op.create_table(
        "billing_runs",
        *_tenant_columns(),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("contracts_total", sa.Integer(), nullable=False),
        sa.Column("chunks_total", sa.Integer(), nullable=False),
        sa.Column("chunks_done", sa.Integer(), nullable=False),
        sa.Column("contracts_done", sa.Integer(), nullable=False),
        sa.Column("invoices_created", sa.Integer(), nullable=False),
        sa.Column("failures_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        *_tenant_constraints("billing_runs"),
    )
    op.create_index("ix_billing_runs_org_created", "billing_runs", ["organisation_id", "created_at", "id"])

    op.create_table(
        "billing_run_failures",
        *_tenant_columns(),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        *_tenant_constraints("billing_run_failures"),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["billing_runs.id"],
            name="fk_billing_run_failures_run_id_billing_runs",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_billing_run_failures_org_run", "billing_run_failures", ["organisation_id", "run_id"])


def downgrade() -> None:
    op.drop_table("billing_run_failures")
    op.drop_table("billing_runs")
    op.drop_table("usage_events")
    op.drop_table("contract_components")
    op.drop_table("contracts")
    op.drop_table("billable_metrics")
