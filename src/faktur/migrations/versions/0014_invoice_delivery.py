"""Getting invoices to customers: hosted page tokens, e-mail settings and the sends of e-mails

Invoices get the secret of their hosted page (and its SHA-256, the unique lookup key); existing
invoices get a fresh random one here. Organisations get their own e-mail subject and body and the
send-on-finalization switch; customers their e-invoice profile for e-mail and their own switch.
`invoice_sends` records every e-mail of an invoice. Plain ADD COLUMN, never a batch rebuild of
`invoices` (see 0010).

Revision ID: 0014
Revises: 0013
"""

import hashlib
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


COLUMNS = {
    "invoices": [
        sa.Column("hosted_token", sa.String(64), nullable=True),
        sa.Column("hosted_token_sha256", sa.String(64), nullable=True),
    ],
    "organisations": [
        sa.Column("email_subject", sa.String(300), nullable=True),
        sa.Column("email_body", sa.Text(), nullable=True),
        sa.Column("email_on_finalize", sa.Boolean(), nullable=False, server_default=sa.false()),
    ],
    "customers": [
        sa.Column("einvoice_profile", sa.String(20), nullable=True),
        sa.Column("email_on_finalize", sa.Boolean(), nullable=True),
    ],
}


def _give_existing_invoices_tokens() -> None:
    bind = op.get_bind()
    invoices = sa.table(
        "invoices",
        sa.column("id", sa.Uuid()),
        sa.column("hosted_token", sa.String()),
        sa.column("hosted_token_sha256", sa.String()),
    )
    ids = bind.execute(sa.select(invoices.c.id)).scalars().all()
    for invoice_id in ids:
        token = secrets.token_urlsafe(32)
        bind.execute(
            invoices.update()
            .where(invoices.c.id == invoice_id)
            .values(hosted_token=token, hosted_token_sha256=hashlib.sha256(token.encode()).hexdigest())
        )


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        for column in columns:
            op.add_column(table, column)
    _give_existing_invoices_tokens()
    op.create_index("uq_invoices_hosted_token_sha256", "invoices", ["hosted_token_sha256"], unique=True)
    op.create_table(
        "invoice_sends",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("to_addresses", _json(), nullable=False),
        sa.Column("cc_addresses", _json(), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(1000), nullable=True),
        sa.Column("attachments", _json(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("server_answer", sa.String(2000), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_invoice_sends_invoice_id_invoices", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_invoice_sends_organisation_id_organisations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invoice_sends"),
    )
    op.create_index(
        "ix_invoice_sends_org_invoice", "invoice_sends", ["organisation_id", "invoice_id", "created_at"]
    )
    op.create_index("ix_invoice_sends_status_next_attempt", "invoice_sends", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_invoice_sends_status_next_attempt", table_name="invoice_sends")
    op.drop_index("ix_invoice_sends_org_invoice", table_name="invoice_sends")
    op.drop_table("invoice_sends")
    op.drop_index("uq_invoices_hosted_token_sha256", table_name="invoices")
    for table, columns in reversed(COLUMNS.items()):
        for column in reversed(columns):
            op.drop_column(table, column.name)
