"""EN 16931 fields still missing: delivery (BT-72, BG-13), payment means beyond credit transfer
(BG-18, BG-19), the prepaid amount (BT-113), and the seller's commercial register entry (§35a HGB)

Invoices get an actual delivery date, a deliver-to party (JSON: name and address), a payment means
override (JSON) and the amount paid before issue in minor units; customers get their default payment
means (JSON); organisations get the SEPA creditor identifier (BT-90), the register court and number
and the managing directors. Every new column is nullable or defaults to 0: existing rows keep meaning
what they meant (credit transfer to the seller's IBAN, nothing prepaid).

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


# Plain ALTER TABLE ADD/DROP COLUMN (SQLite 3.35+), never a batch table rebuild: rebuilding
# `invoices` on SQLite drops the table, and usage_events.invoice_id (ON DELETE SET NULL) would lose
# what it billed.
COLUMNS = {
    "invoices": [
        sa.Column("delivery_date", sa.Date(), nullable=True),
        sa.Column("deliver_to", _json(), nullable=True),
        sa.Column("payment_means", _json(), nullable=True),
        sa.Column("prepaid_minor", sa.BigInteger(), nullable=False, server_default="0"),
    ],
    "customers": [sa.Column("payment_means", _json(), nullable=True)],
    "organisations": [
        sa.Column("sepa_creditor_id", sa.String(35), nullable=True),
        sa.Column("register_court", sa.String(100), nullable=True),
        sa.Column("register_number", sa.String(50), nullable=True),
        sa.Column("managing_directors", sa.String(300), nullable=True),
    ],
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        for column in columns:
            op.add_column(table, column)


def downgrade() -> None:
    for table, columns in reversed(COLUMNS.items()):
        for column in reversed(columns):
            op.drop_column(table, column.name)
