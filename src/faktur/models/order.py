"""Orders and their lines: what a customer bought, to be invoiced all at once or as shipped.

How much of a line is invoiced is not stored here: it is the sum of the quantities of the live
invoice lines that reference it (source_kind 'order_line') less what credit notes credited of
them, so voiding an invoice or crediting quantities gives them back without any bookkeeping on the
order.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from faktur.models.base import Base, JsonDocument, TenantOwned, tenant_reference
from faktur.models.types import ExactDecimal, UtcDateTime


class Order(TenantOwned, Base):
    __tablename__ = "orders"

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # None: decided by the tax rates of the lines, as for invoices.
    prices_include_tax: Mapped[bool | None] = mapped_column(Boolean)
    external_reference: Mapped[str | None] = mapped_column(String(200))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JsonDocument, nullable=False, default=dict)
    # Totals of the whole order as the engine computes them for one invoice of every line.
    net_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        tenant_reference("customers", "customer_id"),
        Index("ix_orders_org_created", "organisation_id", "created_at", "id"),
        Index("ix_orders_org_customer", "organisation_id", "customer_id"),
        # NULLs are distinct on both backends, so only given references must be unique.
        Index("uq_orders_org_external_reference", "organisation_id", "external_reference", unique=True),
    )


class OrderLine(TenantOwned, Base):
    __tablename__ = "order_lines"

    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    sku: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(1000), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    unit_code: Mapped[str] = mapped_column(String(3), nullable=False, default="C62")
    unit_price: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    # Either a tax rate of the organisation or an inline tax (category and percent).
    tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    tax_category: Mapped[str | None] = mapped_column(String(2))
    tax_percent: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    exemption_reason: Mapped[str | None] = mapped_column(String(300))
    exemption_reason_code: Mapped[str | None] = mapped_column(String(30))
    # The line discount as given (a percent, or nothing) and the amount it comes to for the whole
    # ordered quantity; partial invoices each carry a share of discount_minor.
    discount_percent: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    discount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    discount_reason: Mapped[str | None] = mapped_column(String(300))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JsonDocument, nullable=False, default=dict)

    order: Mapped[Order] = relationship(back_populates="lines")

    __table_args__ = (
        tenant_reference("orders", "order_id", ondelete="CASCADE"),
        tenant_reference("tax_rates", "tax_rate_id"),
        Index("ix_order_lines_org_order", "organisation_id", "order_id", "position"),
    )
