"""Credit notes (EN 16931 type 381): a document that corrects an issued invoice, its lines and its
VAT breakdown.

Amounts are integer minor units of the credit note's currency (the invoice's), positive: a credit
note of 30.00 credits 30.00. Quantities and unit prices are exact decimals as on invoice lines.
Primary keys and unique constraints start with organisation_id; lines and VAT groups refer to
their credit note by (organisation_id, credit_note_id).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from faktur.models.base import Base, JsonDocument, tenant_reference
from faktur.models.types import ExactDecimal, UtcDateTime

if TYPE_CHECKING:
    from faktur.models.invoice import Invoice


class CreditNote(Base):
    __tablename__ = "credit_notes"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # The actor recorded in the invoice's history (an API key's name, "cli", a dialect ...).
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    # Taken last in the issuing transaction from the organisation's credit-note series.
    number: Mapped[str | None] = mapped_column(String(255))
    issue_date: Mapped[date] = mapped_column(Date, nullable=False)
    # duplicate, fraudulent, order_change, product_unsatisfactory, other
    reason: Mapped[str] = mapped_column(String(30), nullable=False)
    memo: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # As the invoice: unit prices (and credited line amounts) are gross when true.
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # Credits everything of the invoice that was still creditable (the invoice is then void).
    full_cancellation: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # The invoice's document-level allowances and charges, credited with the last of its lines
    # (stored as on invoices.adjustments); [] for most credit notes.
    adjustments: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, nullable=False, default=list)
    customer_snapshot: Mapped[dict[str, Any]] = mapped_column(JsonDocument, nullable=False, default=dict)
    seller_snapshot: Mapped[dict[str, Any]] = mapped_column(JsonDocument, nullable=False, default=dict)
    line_net_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    allowance_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    charge_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_exclusive_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Settlement: due_reduction + refund + balance_credit == total, exactly.
    due_reduction_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    refund_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    refund_method: Mapped[str | None] = mapped_column(String(50))
    refund_reference: Mapped[str | None] = mapped_column(String(200))
    refund_date: Mapped[date | None] = mapped_column(Date)
    balance_credit_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)

    lines: Mapped[list[CreditNoteLine]] = relationship(
        order_by="CreditNoteLine.position", cascade="all, delete-orphan"
    )
    tax_groups: Mapped[list[CreditNoteTaxGroup]] = relationship(
        order_by="CreditNoteTaxGroup.position", cascade="all, delete-orphan"
    )
    # The corrected invoice, read only (its number and issue date are on every credit note).
    invoice: Mapped[Invoice] = relationship(viewonly=True)

    __table_args__ = (
        PrimaryKeyConstraint("organisation_id", "id"),
        tenant_reference("invoices", "invoice_id"),
        tenant_reference("customers", "customer_id"),
        Index("uq_credit_notes_org_number", "organisation_id", "number", unique=True),
        Index("ix_credit_notes_org_created", "organisation_id", "created_at", "id"),
        Index("ix_credit_notes_org_invoice", "organisation_id", "invoice_id"),
        Index("ix_credit_notes_org_customer_created", "organisation_id", "customer_id", "created_at", "id"),
    )


class CreditNoteLine(Base):
    """One credited line. `invoice_line_id` names the invoice line it credits (null for a custom
    line); `credited_quantity` is what it takes off that line's quantity (0 for a price reduction
    or a custom line). Its amount against the invoice line is net_minor, or gross_minor on a
    tax-inclusive credit note."""

    __tablename__ = "credit_note_lines"

    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    credit_note_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    # quantity (part of a line's quantity), amount (a net price reduction), custom, or full
    # (what was left of the line when the invoice was cancelled).
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    invoice_line_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    credited_quantity: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    description: Mapped[str] = mapped_column(String(1000), nullable=False)
    sku: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    unit_code: Mapped[str] = mapped_column(String(3), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    tax_category: Mapped[str] = mapped_column(String(2), nullable=False)
    tax_percent: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    exemption_reason: Mapped[str | None] = mapped_column(String(300))
    exemption_reason_code: Mapped[str | None] = mapped_column(String(30))
    # [{"amount"|"percent": "...", "reason": ..., "reason_code": ...}] as on invoice lines.
    allowances: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, nullable=False, default=list)
    charges: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, nullable=False, default=list)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    allowance_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    charge_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    net_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    gross_minor: Mapped[int | None] = mapped_column(BigInteger)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        PrimaryKeyConstraint("organisation_id", "id"),
        ForeignKeyConstraint(
            ["organisation_id", "credit_note_id"],
            ["credit_notes.organisation_id", "credit_notes.id"],
            ondelete="CASCADE",
        ),
        tenant_reference("invoice_lines", "invoice_line_id", ondelete="CASCADE"),
        Index("ix_credit_note_lines_org_credit_note", "organisation_id", "credit_note_id", "position"),
        Index("ix_credit_note_lines_org_invoice_line", "organisation_id", "invoice_line_id"),
    )


class CreditNoteTaxGroup(Base):
    """The credit note's VAT breakdown (BG-23), one row per (category, rate)."""

    __tablename__ = "credit_note_tax_groups"

    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    credit_note_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    category: Mapped[str] = mapped_column(String(2), nullable=False)
    percent: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    taxable_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    exemption_reason: Mapped[str | None] = mapped_column(String(300))
    exemption_reason_code: Mapped[str | None] = mapped_column(String(30))

    __table_args__ = (
        PrimaryKeyConstraint("organisation_id", "id"),
        ForeignKeyConstraint(
            ["organisation_id", "credit_note_id"],
            ["credit_notes.organisation_id", "credit_notes.id"],
            ondelete="CASCADE",
        ),
        Index("ix_credit_note_tax_groups_org_credit_note", "organisation_id", "credit_note_id", "position"),
    )
