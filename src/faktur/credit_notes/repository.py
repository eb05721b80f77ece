"""SQL for credit notes, always scoped by organisation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from faktur.models import CreditNote
from faktur.paging import Cursor
from faktur.sql import newest_first

_FULL = (
    selectinload(CreditNote.lines),
    selectinload(CreditNote.tax_groups),
    selectinload(CreditNote.invoice),
)


@dataclass(frozen=True)
class CreditNoteFilters:
    invoice_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None


def get(session: Session, organisation_id: uuid.UUID, credit_note_id: uuid.UUID) -> CreditNote | None:
    stmt = (
        select(CreditNote)
        .where(CreditNote.organisation_id == organisation_id, CreditNote.id == credit_note_id)
        .options(*_FULL)
    )
    return session.execute(stmt).scalar_one_or_none()


def of_invoice(session: Session, organisation_id: uuid.UUID, invoice_id: uuid.UUID) -> list[CreditNote]:
    """The invoice's credit notes with their lines and VAT groups, read fresh (the caller holds
    the invoice's row lock, so no other credit note of it commits meanwhile)."""
    stmt = (
        select(CreditNote)
        .where(CreditNote.organisation_id == organisation_id, CreditNote.invoice_id == invoice_id)
        .options(selectinload(CreditNote.lines), selectinload(CreditNote.tax_groups))
        .order_by(CreditNote.created_at, CreditNote.id)
        .execution_options(populate_existing=True)
    )
    return list(session.execute(stmt).scalars())


def list_page(
    session: Session,
    organisation_id: uuid.UUID,
    filters: CreditNoteFilters,
    limit: int,
    cursor: Cursor | None,
) -> list[CreditNote]:
    stmt = select(CreditNote).where(CreditNote.organisation_id == organisation_id).options(*_FULL)
    if filters.invoice_id is not None:
        stmt = stmt.where(CreditNote.invoice_id == filters.invoice_id)
    if filters.customer_id is not None:
        stmt = stmt.where(CreditNote.customer_id == filters.customer_id)
    if filters.created_from is not None:
        stmt = stmt.where(CreditNote.created_at >= filters.created_from)
    if filters.created_before is not None:
        stmt = stmt.where(CreditNote.created_at < filters.created_before)
    return list(session.execute(newest_first(stmt, CreditNote, cursor, limit)).scalars())


def add(session: Session, note: CreditNote) -> None:
    session.add(note)
    session.flush()


def write_number(
    session: Session, organisation_id: uuid.UUID, credit_note_id: uuid.UUID, number: str
) -> None:
    session.execute(
        update(CreditNote)
        .where(CreditNote.organisation_id == organisation_id, CreditNote.id == credit_note_id)
        .values(number=number)
        .execution_options(synchronize_session=False)
    )
