"""SQL of sends (e-mails of invoices and credit notes)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Row, String, false, literal_column, select, update
from sqlalchemy.orm import Session

from faktur.models import CreditNote, Customer, Event, Invoice, InvoiceSend, Organisation
from faktur.models.event import EMAILED_EVENT_TYPES

QUEUED = "queued"
SENT = "sent"
FAILED = "failed"


def add(session: Session, send: InvoiceSend) -> None:
    session.add(send)
    session.flush()


def list_for_invoice(
    session: Session, organisation_id: uuid.UUID, invoice_id: uuid.UUID
) -> Sequence[InvoiceSend]:
    return session.scalars(
        select(InvoiceSend)
        .where(InvoiceSend.organisation_id == organisation_id, InvoiceSend.invoice_id == invoice_id)
        .order_by(InvoiceSend.created_at, InvoiceSend.id)
    ).all()


def list_for_credit_note(
    session: Session, organisation_id: uuid.UUID, credit_note_id: uuid.UUID
) -> Sequence[InvoiceSend]:
    return session.scalars(
        select(InvoiceSend)
        .where(InvoiceSend.organisation_id == organisation_id, InvoiceSend.credit_note_id == credit_note_id)
        .order_by(InvoiceSend.created_at, InvoiceSend.id)
    ).all()


def lock_due(session: Session, now: datetime, limit: int) -> Sequence[InvoiceSend]:
    """Queued sends that are due, locked; on PostgreSQL other senders skip what one has locked."""
    return session.scalars(
        select(InvoiceSend)
        .where(InvoiceSend.status == QUEUED, InvoiceSend.next_attempt_at <= now)
        .order_by(InvoiceSend.next_attempt_at, InvoiceSend.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def get(session: Session, organisation_id: uuid.UUID, send_id: uuid.UUID) -> InvoiceSend | None:
    return session.get(InvoiceSend, (organisation_id, send_id))


def add_all(session: Session, sends: Sequence[InvoiceSend]) -> None:
    if sends:
        session.add_all(sends)
        session.flush()


# Literals, not bound parameters: the planners match them to the partial index ix_events_email_unchecked.
_EMAILED = [literal_column(f"'{t}'", String) for t in EMAILED_EVENT_TYPES]


def lock_unchecked_events(session: Session, limit: int) -> list[Row[int, str, uuid.UUID]]:
    """(seq, type, object id) of the oldest invoice.finalized and credit_note.issued events not yet
    checked for an e-mail, locked until the transaction ends; on PostgreSQL another loop skips what
    this one locked. Across organisations: the outbox loop's own query."""
    stmt = (
        select(Event.seq, Event.type, Event.object_id)
        .where(Event.type.in_(_EMAILED), Event.email_checked == false())
        .order_by(Event.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.execute(stmt).all())


def mark_email_checked(session: Session, seqs: Sequence[int]) -> None:
    if seqs:
        session.execute(
            update(Event)
            .where(Event.seq.in_(list(seqs)))
            .values(email_checked=True)
            .execution_options(synchronize_session=False)
        )


def finalization_recipients(
    session: Session, invoice_ids: Collection[uuid.UUID]
) -> list[Row[uuid.UUID, uuid.UUID, str, str | None, bool | None, bool, str | None]]:
    """For each invoice: (id, organisation id, status, the customer's e-mail, the customer's and
    the organisation's send-on-finalization settings, the organisation's e-mail), now."""
    stmt = (
        select(
            Invoice.id,
            Invoice.organisation_id,
            Invoice.status,
            Customer.email,
            Customer.email_on_finalize,
            Organisation.email_on_finalize,
            Organisation.email,
        )
        .join(
            Customer,
            (Customer.id == Invoice.customer_id) & (Customer.organisation_id == Invoice.organisation_id),
        )
        .join(Organisation, Organisation.id == Invoice.organisation_id)
        .where(Invoice.id.in_(list(invoice_ids)))
        .order_by(Invoice.organisation_id, Invoice.id)
    )
    return list(session.execute(stmt).all())


def credit_note_recipients(
    session: Session, credit_note_ids: Collection[uuid.UUID]
) -> list[Row[uuid.UUID, uuid.UUID, uuid.UUID, str | None, bool | None, bool, str | None]]:
    """For each credit note: (id, organisation id, invoice id, the e-mail of its invoice's customer,
    the customer's and the organisation's send-on-finalization settings, the organisation's
    e-mail), now."""
    stmt = (
        select(
            CreditNote.id,
            CreditNote.organisation_id,
            CreditNote.invoice_id,
            Customer.email,
            Customer.email_on_finalize,
            Organisation.email_on_finalize,
            Organisation.email,
        )
        .join(
            Customer,
            (Customer.id == CreditNote.customer_id)
            & (Customer.organisation_id == CreditNote.organisation_id),
        )
        .join(Organisation, Organisation.id == CreditNote.organisation_id)
        .where(CreditNote.id.in_(list(credit_note_ids)))
        .order_by(CreditNote.organisation_id, CreditNote.id)
    )
    return list(session.execute(stmt).all())
