"""Customers (the buyers) and the tax rates an organisation applies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base, JsonDocument, TenantOwned
from faktur.models.types import ExactDecimal, UtcDateTime


class Customer(TenantOwned, Base):
    __tablename__ = "customers"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    vat_id: Mapped[str | None] = mapped_column(String(30))
    legal_registration_id: Mapped[str | None] = mapped_column(String(50))
    currency: Mapped[str | None] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(10), nullable=False, default="en")
    buyer_reference: Mapped[str | None] = mapped_column(String(200))
    electronic_address: Mapped[str | None] = mapped_column(String(200))
    electronic_address_scheme: Mapped[str | None] = mapped_column(String(10))
    external_reference: Mapped[str | None] = mapped_column(String(200))
    # How this customer pays by default (see invoices.payment_means); None: credit transfer.
    payment_means: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JsonDocument, nullable=False, default=dict)
    # The e-invoice this customer receives with the PDF by e-mail: xrechnung or peppol (the UBL is
    # attached), or None (the PDF only, Factur-X where it applies).
    einvoice_profile: Mapped[str | None] = mapped_column(String(20))
    # E-mail every invoice of this customer when it is finalized; None: as the organisation says.
    email_on_finalize: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    __table_args__ = (
        Index("ix_customers_org_created", "organisation_id", "created_at", "id"),
        Index("ix_customers_org_email_created", "organisation_id", "email", "created_at", "id"),
    )


class TaxRate(TenantOwned, Base):
    __tablename__ = "tax_rates"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    percent: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    category: Mapped[str] = mapped_column(String(2), nullable=False)
    inclusive: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    exemption_reason: Mapped[str | None] = mapped_column(String(300))
    exemption_reason_code: Mapped[str | None] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    __table_args__ = (Index("ix_tax_rates_org_created", "organisation_id", "created_at", "id"),)
