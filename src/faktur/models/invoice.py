"""Invoices, their lines, tax groups, status history and payments.

Amounts are integer minor units of the invoice currency (columns end in _minor); quantities,
unit prices and percentages are exact decimals.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from faktur.hosted_token import hosted_token_sha256, new_hosted_token
from faktur.models.base import Base, JsonDocument, TenantOwned, tenant_reference
from faktur.models.credit_note import CreditNote
from faktur.models.types import ExactDecimal, UtcDateTime


class Invoice(TenantOwned, Base):
    __tablename__ = "invoices"

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    number: Mapped[str | None] = mapped_column(String(255))
    series: Mapped[str] = mapped_column(String(50), nullable=False, default="default")
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    memo: Mapped[str | None] = mapped_column(Text)
    external_reference: Mapped[str | None] = mapped_column(String(255))
    buyer_reference: Mapped[str | None] = mapped_column(String(200))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JsonDocument, nullable=False, default=dict)
    customer_snapshot: Mapped[dict[str, Any]] = mapped_column(JsonDocument, nullable=False, default=dict)
    seller_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    # Document-level allowances and charges as given, amounts as decimal strings.
    adjustments: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, nullable=False, default=list)
    line_net_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    allowance_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    charge_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_exclusive_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    amount_paid_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    finalized_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Where the invoice came from: api, order, invoice_items, contract, import.
    source: Mapped[str] = mapped_column(String(20), nullable=False, default="api")
    contract_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    # EN 16931 BT-72 and the deliver-to party (BT-70, BG-15: {"name", "address_line1", ..., "country"}).
    delivery_date: Mapped[date | None] = mapped_column(Date)
    deliver_to: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    # How this invoice is paid when it differs from the customer's default (see invoices.payment_means).
    payment_means: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    # Paid before the invoice was issued (an import's amount paid): BT-113, it reduces BT-115.
    prepaid_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    # The secret of the invoice's hosted page (faktur.hosted), served once the invoice is issued;
    # looked up by its SHA-256. Rotating it revokes every link handed out before.
    hosted_token: Mapped[str | None] = mapped_column(String(64))
    hosted_token_sha256: Mapped[str | None] = mapped_column(String(64))
    # What its credit notes credited in all (faktur.credit_notes), and the part of it that reduced
    # the amount due (the rest was refunded or went to the customer's credit balance).
    credited_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    credited_against_due_minor: Mapped[int] = mapped_column(
        BigInteger, nullable=False, default=0, server_default="0"
    )

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position", cascade="all, delete-orphan"
    )
    tax_groups: Mapped[list[InvoiceTaxGroup]] = relationship(
        order_by="InvoiceTaxGroup.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[InvoiceEvent]] = relationship(order_by="InvoiceEvent.sequence")
    payments: Mapped[list[Payment]] = relationship(order_by="Payment.created_at")
    # Read only: credit notes are written by faktur.credit_notes.
    credit_notes: Mapped[list[CreditNote]] = relationship(
        order_by=[CreditNote.created_at, CreditNote.number], viewonly=True
    )

    @property
    def payable_minor(self) -> int:
        """What the customer owes in all: the total less what credit notes took off the amount due
        (amount_due_minor is this less payments)."""
        return self.total_minor - self.credited_against_due_minor

    @property
    def amount_due_minor(self) -> int:
        """What is still to pay: the total less payments and less what credit notes took off it."""
        return max(self.total_minor - self.amount_paid_minor - self.credited_against_due_minor, 0)

    def __init__(self, **kwargs: Any) -> None:
        # Set on construction, not as an INSERT default: new invoices are stored by bulk INSERTs of
        # their attributes (invoices.service.table_rows), which would write an unset token as NULL.
        token = kwargs.setdefault("hosted_token", new_hosted_token())
        kwargs.setdefault("hosted_token_sha256", hosted_token_sha256(token))
        super().__init__(**kwargs)

    __table_args__ = (
        tenant_reference("customers", "customer_id"),
        Index("ix_invoices_org_created", "organisation_id", "created_at", "id"),
        # Filtered lists read a page in their order (created_at, id) off these (migration 0020).
        Index("ix_invoices_org_customer_created", "organisation_id", "customer_id", "created_at", "id"),
        Index("ix_invoices_org_status_created", "organisation_id", "status", "created_at", "id"),
        Index("uq_invoices_org_number", "organisation_id", "number", unique=True),
        # The hosted page's link names the organisation and the token (faktur.hosted.links).
        Index("uq_invoices_org_hosted_token_sha256", "organisation_id", "hosted_token_sha256", unique=True),
        # One live invoice per contract and period (DESIGN rule 5), enforced by the database.
        Index(
            "uq_invoices_live_contract_period",
            "organisation_id",
            "contract_id",
            "period_start",
            "period_end",
            unique=True,
            sqlite_where=text("contract_id IS NOT NULL AND status != 'void'"),
            postgresql_where=text("contract_id IS NOT NULL AND status != 'void'"),
        ),
        # The outbox loop's look for invoices that became overdue, across organisations
        # (invoices.repository.overdue_unannounced): the open ones only, by due date.
        Index(
            "ix_invoices_open_due",
            "due_date",
            "id",
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )


class InvoiceLine(TenantOwned, Base):
    __tablename__ = "invoice_lines"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str] = mapped_column(String(1000), nullable=False)
    sku: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    unit_code: Mapped[str] = mapped_column(String(3), nullable=False, default="C62")
    unit_price: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    tax_category: Mapped[str] = mapped_column(String(2), nullable=False)
    tax_percent: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    exemption_reason: Mapped[str | None] = mapped_column(String(300))
    exemption_reason_code: Mapped[str | None] = mapped_column(String(30))
    # Line allowances and charges as given: [{"amount"|"percent": "...", "reason": ...}].
    allowances: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, nullable=False, default=list)
    charges: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, nullable=False, default=list)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    allowance_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    charge_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    net_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    gross_minor: Mapped[int | None] = mapped_column(BigInteger)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JsonDocument, nullable=False, default=dict)
    # What the line bills: an order line, a pending invoice item, a contract component ...
    source_kind: Mapped[str | None] = mapped_column(String(30))
    source_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # False once the invoice is void or the line credited in full: the source may then be invoiced again.
    live: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")

    __table_args__ = (
        tenant_reference("invoices", "invoice_id", ondelete="CASCADE"),
        tenant_reference("tax_rates", "tax_rate_id"),
        Index("ix_invoice_lines_org_invoice", "organisation_id", "invoice_id"),
        Index("ix_invoice_lines_org_source", "organisation_id", "source_kind", "source_id"),
        # A pending invoice item is on at most one live invoice line.
        Index(
            "uq_invoice_lines_live_item",
            "organisation_id",
            "source_id",
            unique=True,
            sqlite_where=text("live AND source_kind = 'invoice_item'"),
            postgresql_where=text("live AND source_kind = 'invoice_item'"),
        ),
    )


class InvoiceTaxGroup(TenantOwned, Base):
    __tablename__ = "invoice_tax_groups"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    category: Mapped[str] = mapped_column(String(2), nullable=False)
    percent: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    taxable_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    exemption_reason: Mapped[str | None] = mapped_column(String(300))
    exemption_reason_code: Mapped[str | None] = mapped_column(String(30))

    __table_args__ = (
        tenant_reference("invoices", "invoice_id", ondelete="CASCADE"),
        Index("ix_invoice_tax_groups_org_invoice", "organisation_id", "invoice_id"),
    )


class InvoiceEvent(TenantOwned, Base):
    """One status transition: who, when, from, to."""

    __tablename__ = "invoice_events"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        tenant_reference("invoices", "invoice_id", ondelete="CASCADE"),
        Index("ix_invoice_events_org_invoice", "organisation_id", "invoice_id", "sequence"),
    )


class Payment(TenantOwned, Base):
    __tablename__ = "payments"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    method: Mapped[str | None] = mapped_column(String(50))
    reference: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        tenant_reference("invoices", "invoice_id", ondelete="CASCADE"),
        Index("ix_payments_org_invoice", "organisation_id", "invoice_id"),
    )
