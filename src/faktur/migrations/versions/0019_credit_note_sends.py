"""e-mails of credit notes: a send is of an invoice or of a credit note, exactly one

`invoice_sends.invoice_id` becomes nullable beside a new `credit_note_id` (referring to its credit
note by organisation and id), with a check that exactly one is set. invoice_sends is a small
table; on SQLite it is rebuilt in batch mode (never `invoices`).

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoice_sends") as batch:
        batch.add_column(sa.Column("credit_note_id", sa.Uuid(), nullable=True))
        batch.alter_column("invoice_id", existing_type=sa.Uuid(), nullable=True)
        batch.create_foreign_key(
            "fk_invoice_sends_organisation_id_credit_notes",
            "credit_notes",
            ["organisation_id", "credit_note_id"],
            ["organisation_id", "id"],
            ondelete="CASCADE",
        )
        batch.create_check_constraint(
            "ck_invoice_sends_one_document", "(invoice_id IS NULL) <> (credit_note_id IS NULL)"
        )
    op.create_index(
        "ix_invoice_sends_org_credit_note",
        "invoice_sends",
        ["organisation_id", "credit_note_id", "created_at"],
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM invoice_sends WHERE credit_note_id IS NOT NULL"))
    op.drop_index("ix_invoice_sends_org_credit_note", table_name="invoice_sends")
    with op.batch_alter_table("invoice_sends") as batch:
        batch.drop_constraint("ck_invoice_sends_one_document", type_="check")
        batch.drop_constraint("fk_invoice_sends_organisation_id_credit_notes", type_="foreignkey")
        batch.alter_column("invoice_id", existing_type=sa.Uuid(), nullable=False)
        batch.drop_column("credit_note_id")
