"""Rendered documents of finalized invoices: the exact bytes served, kept so they never change.

One row per (invoice, kind, profile). The unique index is what makes the lazy first render safe under
concurrency: two requests may both render, but only one row is stored and both serve its bytes.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base, TenantOwned


class InvoiceDocument(TenantOwned, Base):
    __tablename__ = "invoice_documents"

    invoice_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False
    )
    # pdf (plain), facturx (PDF with embedded CII), ubl, cii.
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    # en16931 | peppol | xrechnung; "none" for the plain PDF, which is the same for every profile.
    profile: Mapped[str] = mapped_column(String(20), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # Hex SHA-256 of content: the ETag, and a check that stored bytes were not altered.
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_type: Mapped[str] = mapped_column(String(50), nullable=False)

    __table_args__ = (
        Index(
            "uq_invoice_documents_org_invoice_kind_profile",
            "organisation_id",
            "invoice_id",
            "kind",
            "profile",
            unique=True,
        ),
    )
