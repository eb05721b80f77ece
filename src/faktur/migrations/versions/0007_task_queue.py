"""task queue: chunks of billing runs for worker processes; procrastinate's schema on PostgreSQL

procrastinate (the PostgreSQL task library the workers use) ships its schema as SQL; it is applied
here so that Alembic stays the only way the schema changes. SQLite runs billing in-process and
gets only the chunk table. When procrastinate is upgraded, its migration files
(procrastinate/sql/migrations/) go into a new Alembic migration the same way.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import faktur.models.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _psycopg_connection() -> Any:
    # The raw driver connection of Alembic's transaction: procrastinate's SQL is many statements
    # with $$-quoted bodies and '%' signs, which neither SQLAlchemy's text() nor a parameterised
    # execute may reinterpret.
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    op.create_table(
        "billing_run_chunks",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column(
            "contract_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("done_at", faktur.models.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", faktur.models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_billing_run_chunks_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["billing_runs.id"],
            name=op.f("fk_billing_run_chunks_run_id_billing_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_run_chunks")),
    )
    op.create_index(
        "uq_billing_run_chunks_org_run_seq",
        "billing_run_chunks",
        ["organisation_id", "run_id", "seq"],
        unique=True,
    )
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        _psycopg_connection().execute(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _psycopg_connection().execute(
            """
            DO $$
            DECLARE item record;
            BEGIN
                FOR item IN SELECT tablename FROM pg_tables
                        WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%' LOOP
                    EXECUTE format('DROP TABLE %I CASCADE', item.tablename);
                END LOOP;
                FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
                    EXECUTE format('DROP FUNCTION %s CASCADE', item.signature);
                END LOOP;
                FOR item IN SELECT t.typname FROM pg_type t
                        JOIN pg_namespace n ON n.oid = t.typnamespace
                        WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
                          AND t.typtype IN ('e', 'c') LOOP
                    EXECUTE format('DROP TYPE %I CASCADE', item.typname);
                END LOOP;
            END;
            $$;
            """
        )
    op.drop_index("uq_billing_run_chunks_org_run_seq", table_name="billing_run_chunks")
    op.drop_table("billing_run_chunks")
