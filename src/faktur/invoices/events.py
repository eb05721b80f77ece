"""The invoice.* events an operation records, each with the invoice as the API presents it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from faktur.events import repository as events_repository
from faktur.events.service import record_events, render_events
from faktur.events.types import EventType
from faktur.invoices.schemas import InvoiceOut, InvoiceStatus
from faktur.models import Invoice
from faktur.pending import Decided, PendingValue


def record(session: Session, invoice: Invoice, now: datetime, *types: EventType) -> None:
    """Record `types` (in this order) for `invoice`, presented once as the API returns it now."""
    if not types:
        return
    # Imported here: the presenters import invoices.service, which records these events.
    from faktur.invoices.presenters import present_invoice

    record_events(session, invoice.organisation_id, types, present_invoice(invoice), now=now)


@dataclass(frozen=True)
class Announced:
    """The events of an invoice, rendered before its number is taken: the counter row stays
    locked from taking the number until COMMIT, so nothing slow happens after it
    (`record_numbered` only puts the number into the rendered rows and writes them).
    `presented` is the invoice as the API returns it; while its number is pending (`number`),
    the presentation shows the pending value's placeholder."""

    invoice: Invoice
    presented: InvoiceOut
    number: PendingValue | None
    rows: tuple[dict[str, Any], ...]

    def decided(self) -> Decided | None:
        """The number taken for the pending one (after `record_numbered`)."""
        if self.number is None or self.invoice.number is None:
            return None
        return Decided(self.number, self.invoice.number)


def announce(invoice: Invoice, now: datetime, *types: EventType) -> Announced:
    from faktur.invoices.presenters import present_invoice

    presented = present_invoice(invoice)
    pending = None
    if invoice.number is None and invoice.status != InvoiceStatus.DRAFT.value:
        pending = PendingValue.new("number")
        presented = presented.model_copy(update={"number": pending.placeholder})
    rows = render_events(invoice.organisation_id, types, presented, now=now) if types else []
    return Announced(invoice, presented, pending, tuple(rows))


def record_numbered(session: Session, announced: Sequence[Announced]) -> None:
    """Write announced events, with the numbers their invoices have been given since."""
    rows: list[dict[str, Any]] = []
    for item in announced:
        decided = item.decided()
        for row in item.rows:
            if decided is not None:
                row = {**row, "payload": decided.pending.fill(row["payload"], decided.value)}
            rows.append(row)
    events_repository.insert_rows(session, rows)


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
