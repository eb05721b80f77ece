"""Rendered documents of finalized invoices and issued credit notes: the exact bytes served, kept so
they never change.

One row per (invoice or credit note, kind, profile). The unique index is what makes the lazy first
render safe under concurrency: two requests may both render, but only one row is stored and both serve
its bytes.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from faktur.models.base import Base, TenantOwned, tenant_reference
from faktur.models.types import UtcDateTime


class InvoiceDocument(TenantOwned, Base):
    __tablename__ = "invoice_documents"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    # pdf (plain), facturx (PDF with embedded CII), ubl, cii.
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    # en16931 | peppol | xrechnung; "none" for the plain PDF, which is the same for every profile.
    profile: Mapped[str] = mapped_column(String(20), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # Hex SHA-256 of content: the ETag, and a check that stored bytes were not altered.
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_type: Mapped[str] = mapped_column(String(50), nullable=False)

    __table_args__ = (
        tenant_reference("invoices", "invoice_id", ondelete="CASCADE"),
        Index(
            "uq_invoice_documents_org_invoice_kind_profile",
            "organisation_id",
            "invoice_id",
            "kind",
            "profile",
            unique=True,
        ),
    )


class CreditNoteDocument(Base):
    """The rendered documents of an issued credit note, kept like an invoice's (one row per kind and
    profile, the bytes served and their SHA-256). Keyed like credit notes: (organisation_id, id)."""

    __tablename__ = "credit_note_documents"

    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    credit_note_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    # pdf (plain), facturx (PDF with embedded CII), ubl, cii.
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    # en16931 | peppol | xrechnung; "none" for the plain PDF, which is the same for every profile.
    profile: Mapped[str] = mapped_column(String(20), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_type: Mapped[str] = mapped_column(String(50), nullable=False)

    __table_args__ = (
        PrimaryKeyConstraint("organisation_id", "id"),
        ForeignKeyConstraint(
            ["organisation_id", "credit_note_id"],
            ["credit_notes.organisation_id", "credit_notes.id"],
            ondelete="CASCADE",
        ),
        Index(
            "uq_credit_note_documents_org_credit_note_kind_profile",
            "organisation_id",
            "credit_note_id",
            "kind",
            "profile",
            unique=True,
        ),
    )
