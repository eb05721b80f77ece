"""EN 16931 fields still missing: delivery (BT-72, BG-13), payment means beyond credit transfer
(BG-18, BG-19), the prepaid amount (BT-113), and the seller's commercial register entry (§35a HGB)

Invoices get an actual delivery date, a deliver-to party (JSON: name and address), a payment means
override (JSON) and the amount paid before issue in minor units; customers get their default payment
means (JSON); organisations get the SEPA creditor identifier (BT-90), the register court and number
and the managing directors. Every new column is nullable or defaults to 0: existing rows keep meaning
what they meant (credit transfer to the seller's IBAN, nothing prepaid).

Revision ID: 0010
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("delivery_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("deliver_to", _json(), nullable=True))
        batch.add_column(sa.Column("payment_means", _json(), nullable=True))
        batch.add_column(sa.Column("prepaid_minor", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("payment_means", _json(), nullable=True))
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("sepa_creditor_id", sa.String(35), nullable=True))
        batch.add_column(sa.Column("register_court", sa.String(100), nullable=True))
        batch.add_column(sa.Column("register_number", sa.String(50), nullable=True))
        batch.add_column(sa.Column("managing_directors", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("managing_directors")
        batch.drop_column("register_number")
        batch.drop_column("register_court")
        batch.drop_column("sepa_creditor_id")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("payment_means")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("prepaid_minor")
        batch.drop_column("payment_means")
        batch.drop_column("deliver_to")
        batch.drop_column("delivery_date")
