"""The invoice.* events an operation records, each with the invoice as the API presents it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from faktur.events.service import record_events
from faktur.events.types import EventType
from faktur.invoices.schemas import InvoiceOut, InvoiceStatus
from faktur.models import Invoice


def record(session: Session, invoice: Invoice, now: datetime, *types: EventType) -> None:
    """Record `types` (in this order) for `invoice`, presented once as the API returns it now."""
    if not types:
        return
    # Imported here: the presenters import invoices.service, which records these events.
    from faktur.invoices.presenters import present_invoice

    record_events(session, invoice.organisation_id, types, present_invoice(invoice), now=now)


@dataclass(frozen=True)
class Announced:
    """The events of an invoice about to be numbered, presented before its number is taken: the
    counter row stays locked from taking the number until COMMIT, so nothing slow happens after
    it (`record_numbered` only puts the number in and writes the rows)."""

    invoice: Invoice
    types: tuple[EventType, ...]
    presented: InvoiceOut


def announce(invoice: Invoice, *types: EventType) -> Announced:
    from faktur.invoices.presenters import present_invoice

    return Announced(invoice, types, present_invoice(invoice))


def record_numbered(session: Session, announced: Sequence[Announced], now: datetime) -> None:
    """Write announced events once their invoices have their numbers."""
    for item in announced:
        if item.types:
            presented = item.presented.model_copy(update={"number": item.invoice.number})
            record_events(session, item.invoice.organisation_id, item.types, presented, now=now)


def on_finalize(invoice: Invoice) -> tuple[EventType, ...]:
    """Finalized, and paid too when there was nothing to pay."""
    if invoice.status == InvoiceStatus.PAID.value:
        return EventType.INVOICE_FINALIZED, EventType.INVOICE_PAID
    return (EventType.INVOICE_FINALIZED,)


def on_create(invoice: Invoice) -> tuple[EventType, ...]:
    """Created, and what finalizing it at once did."""
    if invoice.status == InvoiceStatus.DRAFT.value:
        return (EventType.INVOICE_CREATED,)
    return EventType.INVOICE_CREATED, *on_finalize(invoice)


def on_payment(invoice: Invoice, paid_before: bool) -> tuple[EventType, ...]:
    """A payment recorded, and paid when it paid the invoice in full."""
    if not paid_before and invoice.status == InvoiceStatus.PAID.value:
        return EventType.INVOICE_PAYMENT_RECORDED, EventType.INVOICE_PAID
    return (EventType.INVOICE_PAYMENT_RECORDED,)
