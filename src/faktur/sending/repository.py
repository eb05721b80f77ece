"""SQL of invoice sends."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from faktur.models import InvoiceSend

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


def lock_due(session: Session, now: datetime, limit: int) -> Sequence[InvoiceSend]:
    """Queued sends that are due, locked; on PostgreSQL other senders skip what one has locked."""
    return session.scalars(
        select(InvoiceSend)
        .where(InvoiceSend.status == QUEUED, InvoiceSend.next_attempt_at <= now)
        .order_by(InvoiceSend.next_attempt_at, InvoiceSend.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def get(session: Session, send_id: uuid.UUID) -> InvoiceSend | None:
    return session.get(InvoiceSend, send_id)
