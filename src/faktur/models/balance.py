"""Customer credit balances: one row per (organisation, customer, currency) and its ledger.

The balance row is what concurrent changes lock; every change is one ledger transaction that
records the signed amount and the balance after it. Amounts are integer minor units.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base, TenantOwned, tenant_reference
from faktur.models.types import UtcDateTime


class CustomerBalance(Base):
    """What a customer has to their credit in one currency; never negative (the database checks)."""

    __tablename__ = "customer_balances"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    balance_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    __table_args__ = (
        tenant_reference("customers", "customer_id", ondelete="CASCADE"),
        CheckConstraint("balance_minor >= 0", name="not_negative"),
    )


class CustomerBalanceTransaction(TenantOwned, Base):
    """One change of a customer's balance: positive credits the customer, negative uses credit."""

    __tablename__ = "customer_balance_transactions"

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # manual_adjustment, applied_to_invoice or credit_note.
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    balance_after_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    # The invoice the balance was applied to (applied_to_invoice).
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The credit note whose amount was credited to the balance (kind credit_note).
    credit_note_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        tenant_reference("customers", "customer_id", ondelete="CASCADE"),
        tenant_reference("invoices", "invoice_id", ondelete="CASCADE"),
        Index(
            "ix_customer_balance_transactions_org_customer_created",
            "organisation_id",
            "customer_id",
            "created_at",
            "id",
        ),
        Index("ix_customer_balance_transactions_org_invoice", "organisation_id", "invoice_id"),
        CheckConstraint("amount_minor != 0", name="not_zero"),
        CheckConstraint("balance_after_minor >= 0", name="balance_after_not_negative"),
    )
