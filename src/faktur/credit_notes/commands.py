"""Request bodies mapped to the credit notes' commands (faktur.credit_notes.domain)."""

from __future__ import annotations

from decimal import Decimal

from faktur.credit_notes.domain import (
    AmountCredit,
    CreditLine,
    CreditReason,
    CustomCredit,
    NewCreditNote,
    QuantityCredit,
    Settlement,
)
from faktur.credit_notes.schemas import CreditLineIn, CreditNoteCreate, SettlementIn, VoidIn
from faktur.invoices.commands import tax_spec


def credit_line(line: CreditLineIn) -> CreditLine:
    if line.invoice_line_id is not None:
        if line.amount is not None:
            return AmountCredit(line.invoice_line_id, line.amount)
        assert line.quantity is not None  # the schema requires one of them
        return QuantityCredit(line.invoice_line_id, line.quantity)
    assert line.description is not None and line.unit_price is not None  # checked by the schema
    return CustomCredit(
        description=line.description,
        unit_price=line.unit_price,
        quantity=line.quantity if line.quantity is not None else Decimal(1),
        tax_rate_id=line.tax_rate_id,
        tax=None if line.tax is None else tax_spec(line.tax),
        sku=line.sku,
        unit_code=line.unit_code or "C62",
    )


def settlement(body: SettlementIn) -> Settlement:
    return Settlement(
        refund_amount=body.refund_amount,
        refund_method=body.refund_method,
        refund_reference=body.refund_reference,
        refund_date=body.refund_date,
        credit_amount=body.credit_amount,
    )


def new_credit_note(body: CreditNoteCreate) -> NewCreditNote:
    return NewCreditNote(
        lines=tuple(credit_line(line) for line in body.lines),
        reason=body.reason,
        memo=body.memo,
        settlement=settlement(body),
    )


def cancellation(body: VoidIn | None) -> NewCreditNote:
    """The full cancellation credit note of voiding an invoice."""
    if body is None:
        return NewCreditNote()
    return NewCreditNote(
        reason=CreditReason(body.credit_note_reason), memo=body.reason, settlement=settlement(body)
    )
