"""list indexes that also give the list's order: a filtered newest-first page reads 21 index entries

A filtered list (`GET /v1/invoices?status=void`, `?customer_id=`, credit notes of a customer,
customers by e-mail) is ordered by (created_at, id). With an index on (organisation_id, status)
alone, PostgreSQL fetches every matching row and sorts them for each page: the cost grows with
the organisation's data. These indexes end in (created_at, id), so a page is a bounded index
range read, after a cursor too. Each replaces the index it extends (a prefix of it).

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, new index, its columns, the index it replaces or None)
INDEXES = [
    ("invoices", "ix_invoices_org_customer_created", ["customer_id"], "ix_invoices_org_customer"),
    ("invoices", "ix_invoices_org_status_created", ["status"], "ix_invoices_org_status"),
    ("credit_notes", "ix_credit_notes_org_customer_created", ["customer_id"], "ix_credit_notes_org_customer"),
    ("customers", "ix_customers_org_email_created", ["email"], None),
]


def upgrade() -> None:
    for table, name, columns, replaced in INDEXES:
        op.create_index(name, table, ["organisation_id", *columns, "created_at", "id"])
        if replaced is not None:
            op.drop_index(replaced, table_name=table)


def downgrade() -> None:
    for table, name, columns, replaced in INDEXES:
        if replaced is not None:
            op.create_index(replaced, table, ["organisation_id", *columns])
        op.drop_index(name, table_name=table)
