"""invoice.overdue: once per invoice, when an open invoice's due date has passed unpaid.

Noticed by the outbox loop (faktur.outbox), not at a request; a partial unique index on the
events table keeps it to one event per invoice whichever worker notices first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from faktur.events.types import EventType
from faktur.invoices import events as invoice_events
from faktur.invoices import repository


def record_overdue(session: Session, now: datetime, limit: int = 200) -> int:
    """Record invoice.overdue for up to `limit` invoices that became overdue; how many."""
    found = repository.overdue_unannounced(session, now.date(), limit)
    for invoice in found:
        invoice_events.record(session, invoice, now, EventType.INVOICE_OVERDUE)
    return len(found)
