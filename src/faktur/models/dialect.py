"""What the compatibility dialects remember about an invoice beyond faktur's own columns."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BigInteger, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base, JsonDocument, TenantOwned, tenant_reference


class DialectInvoice(TenantOwned, Base):
    """One invoice as a dialect's clients know it: iw-erp's integer id, and vendor fields faktur
    has no column for (WizCommerce's url and timestamps, iw-erp's title). The invoice itself,
    its amounts and its status live only in the invoice tables."""

    __tablename__ = "dialect_invoices"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    dialect: Mapped[str] = mapped_column(String(30), nullable=False)
    # Integer id for dialects whose clients expect one (iw-erp); unique per organisation.
    public_id: Mapped[int | None] = mapped_column(BigInteger)
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonDocument, nullable=False, default=dict)

    __table_args__ = (
        tenant_reference("invoices", "invoice_id", ondelete="CASCADE"),
        Index("uq_dialect_invoices_org_invoice", "organisation_id", "dialect", "invoice_id", unique=True),
        Index("uq_dialect_invoices_org_public_id", "organisation_id", "dialect", "public_id", unique=True),
    )
