"""SQL for stored invoice and credit-note documents, always scoped by organisation (except the CLI's
id lookups)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from faktur.models import CreditNote, CreditNoteDocument, Invoice, InvoiceDocument
from faktur.sql import insert_ignoring_conflicts


def get(
    session: Session, organisation_id: uuid.UUID, invoice_id: uuid.UUID, kind: str, profile: str
) -> InvoiceDocument | None:
    stmt = select(InvoiceDocument).where(
        InvoiceDocument.organisation_id == organisation_id,
        InvoiceDocument.invoice_id == invoice_id,
        InvoiceDocument.kind == kind,
        InvoiceDocument.profile == profile,
    )
    return session.execute(stmt).scalar_one_or_none()


def insert_if_absent(session: Session, values: dict[str, Any]) -> bool:
    """Store a document unless one with the same (organisation, invoice, kind, profile) exists.

    True when this call stored it. On PostgreSQL a concurrent first render waits here for the other
    transaction, so a False is followed by a `get` that sees the winner's row.
    """
    return insert_ignoring_conflicts(session, InvoiceDocument, values)


def organisation_of_invoice(session: Session, invoice_id: uuid.UUID) -> uuid.UUID | None:
    """The organisation an invoice belongs to, for the CLI (trusted, no API key; ids are UUIDs)."""
    return session.execute(select(Invoice.organisation_id).where(Invoice.id == invoice_id)).scalar()


def get_credit_note_document(
    session: Session, organisation_id: uuid.UUID, credit_note_id: uuid.UUID, kind: str, profile: str
) -> CreditNoteDocument | None:
    stmt = select(CreditNoteDocument).where(
        CreditNoteDocument.organisation_id == organisation_id,
        CreditNoteDocument.credit_note_id == credit_note_id,
        CreditNoteDocument.kind == kind,
        CreditNoteDocument.profile == profile,
    )
    return session.execute(stmt).scalar_one_or_none()


def insert_credit_note_document_if_absent(session: Session, values: dict[str, Any]) -> bool:
    """As `insert_if_absent`, for (organisation, credit note, kind, profile)."""
    return insert_ignoring_conflicts(session, CreditNoteDocument, values)


def organisation_of_credit_note(session: Session, credit_note_id: uuid.UUID) -> uuid.UUID | None:
    """The organisation a credit note belongs to, for the CLI (trusted, no API key; ids are UUIDs)."""
    stmt = select(CreditNote.organisation_id).where(CreditNote.id == credit_note_id)
    return session.execute(stmt).scalar()
