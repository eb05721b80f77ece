"""Pending invoice items: charges that pile up until they are gathered into invoices.

Whether an item is invoiced is not stored here: it is invoiced while a live invoice line
references it (source_kind 'invoice_item'); the unique partial index uq_invoice_lines_live_item
makes a second live line for the same item impossible, and voiding the invoice (or crediting the
line in full) frees the item.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base, JsonDocument, TenantOwned, tenant_reference
from faktur.models.types import ExactDecimal


class InvoiceItem(TenantOwned, Base):
    __tablename__ = "invoice_items"

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    # A contract of the organisation; a plain column until contracts have their table.
    contract_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    payment_mode: Mapped[str] = mapped_column(String(10), nullable=False)
    description: Mapped[str] = mapped_column(String(1000), nullable=False)
    sku: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    unit_code: Mapped[str] = mapped_column(String(3), nullable=False, default="C62")
    unit_price: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    tax_category: Mapped[str | None] = mapped_column(String(2))
    tax_percent: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    exemption_reason: Mapped[str | None] = mapped_column(String(300))
    exemption_reason_code: Mapped[str | None] = mapped_column(String(30))
    # Whether unit_price includes tax (from the tax rate's inclusive flag; inline taxes exclude it).
    prices_include_tax: Mapped[bool] = mapped_column(nullable=False, default=False)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JsonDocument, nullable=False, default=dict)

    __table_args__ = (
        tenant_reference("customers", "customer_id"),
        tenant_reference("tax_rates", "tax_rate_id"),
        Index("ix_invoice_items_org_created", "organisation_id", "created_at", "id"),
        Index("ix_invoice_items_org_customer", "organisation_id", "customer_id", "contract_id"),
    )
