"""The credit note snapshot (EN 16931 type 381): an invoice snapshot that names the invoice it
corrects (BG-3: its number BT-25 and issue date BT-26), rendered by the same builders.

Pure like the other snapshots: `as_credit_note` turns the engine's snapshot of the credited lines
into a credit note; `full_cancellation_of` makes the credit note that cancels an issued invoice
entirely from that invoice's own snapshot, so it repeats exactly what the invoice stated.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from faktur.documents.snapshot import DocumentStatus, DocumentType, InvoiceSnapshot, PrecedingInvoice


class CreditNoteSnapshot(InvoiceSnapshot):
    """Everything a rendered credit note shows, frozen when it is issued."""

    document_type: Literal[DocumentType.CREDIT_NOTE] = DocumentType.CREDIT_NOTE
    preceding_invoice: PrecedingInvoice
    # Cancels the whole invoice: German documents are titled "Stornorechnung" then.
    full_cancellation: bool = False

    @property
    def is_full_cancellation(self) -> bool:
        return self.full_cancellation


def _fields(snapshot: InvoiceSnapshot) -> dict[str, Any]:
    return {name: getattr(snapshot, name) for name in InvoiceSnapshot.model_fields}


def as_credit_note(
    snapshot: InvoiceSnapshot, preceding: PrecedingInvoice, *, full_cancellation: bool = False
) -> CreditNoteSnapshot:
    """The credit note whose lines, VAT breakdown and totals are `snapshot`'s (the engine's result
    for the credited amounts, e.g. from faktur.documents.factory.snapshot_from_calc)."""
    values = _fields(snapshot)
    values.update(
        document_type=DocumentType.CREDIT_NOTE,
        preceding_invoice=preceding,
        full_cancellation=full_cancellation,
    )
    return CreditNoteSnapshot(**values)


def full_cancellation_of(
    invoice: InvoiceSnapshot,
    *,
    number: str,
    issue_date: dt.date,
    notes: tuple[str, ...] = (),
) -> CreditNoteSnapshot:
    """The credit note that cancels the issued `invoice` entirely: its lines, allowances, charges
    and VAT breakdown repeated, the whole total credited (what the invoice had prepaid is the
    invoice's business, not the credit note's) and due at once."""
    if invoice.is_draft or invoice.is_credit_note or not invoice.number:
        raise ValueError("only an issued invoice can be cancelled by a credit note")
    if issue_date < invoice.issue_date:
        raise ValueError("a credit note cannot be issued before the invoice it cancels")
    totals = invoice.totals
    values = _fields(invoice)
    values.update(
        document_type=DocumentType.CREDIT_NOTE,
        status=DocumentStatus.FINAL,
        number=number,
        issue_date=issue_date,
        # BT-9: the credited amount is due at once (BR-CO-25 wants a date or terms when positive).
        due_date=issue_date,
        payment_terms=None,
        payment_reference=None,
        notes=notes,
        preceding_invoice=PrecedingInvoice(number=invoice.number, issue_date=invoice.issue_date),
        full_cancellation=True,
        totals=totals.model_copy(
            update={
                "paid_amount": Decimal(0),
                "amount_due": totals.tax_inclusive_total + totals.rounding_amount,
            }
        ),
    )
    return CreditNoteSnapshot(**values)
