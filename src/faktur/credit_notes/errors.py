"""The errors of credit notes, one class per code."""

from __future__ import annotations

import uuid
from typing import Any

from faktur.errors import Conflict, InvoiceIsDraft, NotFound, Unprocessable


class CreditNoteNotFound(NotFound):
    """No credit note with this id in the caller's organisation."""

    code = "credit_note_not_found"

    def __init__(self, credit_note_id: uuid.UUID | str) -> None:
        super().__init__(f"No credit note {credit_note_id} in this organisation.")


class InvoiceNotFinal(InvoiceIsDraft):
    """A draft has nothing to correct: edit it, or finalize it first."""

    def __init__(self, invoice_id: uuid.UUID, status: str) -> None:
        super().__init__(
            f"Invoice {invoice_id} is a {status}; only a finalized invoice (open, paid or "
            "uncollectible) gets credit notes. Edit the draft instead.",
            status,
        )


class CreditExceedsRemaining(Conflict):
    """More credited than the invoice (or one of its lines) has left to credit."""

    code = "credit_exceeds_remaining"

    def __init__(self, message: str, details: list[dict[str, Any]]) -> None:
        super().__init__(message, details=details)


class CreditSettlementMismatch(Unprocessable):
    """The refund and balance credit do not add up to the part beyond the amount due."""

    code = "credit_settlement_mismatch"

    def __init__(self, message: str, details: list[dict[str, Any]]) -> None:
        super().__init__(message, details=details)


class CreditLineUnknown(Unprocessable):
    """The invoice_line_id is not a line of the credited invoice."""

    code = "credit_line_unknown"

    def __init__(self, field: str, invoice_line_id: uuid.UUID) -> None:
        super().__init__(
            f"Line {invoice_line_id} is not a line of this invoice; use the ids in the invoice's lines.",
            details=[
                {
                    "field": field,
                    "reason": "not a line of the invoice",
                    "invoice_line_id": str(invoice_line_id),
                }
            ],
        )


class CreditLineNotCreditable(Unprocessable):
    """A line with a negative quantity or amount is credited only by a full cancellation."""

    code = "credit_line_not_creditable"

    def __init__(self, field: str, invoice_line_id: uuid.UUID) -> None:
        super().__init__(
            f"Line {invoice_line_id} has a negative quantity or amount (it credits the customer "
            "already); it is credited only by cancelling the whole invoice.",
            details=[{"field": field, "reason": "negative line", "invoice_line_id": str(invoice_line_id)}],
        )


class CreditTaxNotOnInvoice(Unprocessable):
    """A custom credit line must be taxed with a VAT category and rate the invoice used."""

    code = "credit_tax_not_on_invoice"

    def __init__(self, field: str, category: str, percent: str, used: list[str]) -> None:
        super().__init__(
            f"The invoice has no VAT {category} {percent} %; a credit line can only use the categories "
            f"and rates of the invoice ({', '.join(used)}).",
            details=[{"field": field, "reason": "VAT category and rate not on the invoice", "used": used}],
        )


class CreditNoteNotPositive(Unprocessable):
    """A credit note credits something: its total must be above zero."""

    code = "credit_note_not_positive"

    def __init__(self, total: str, currency: str) -> None:
        super().__init__(
            f"The credit note's total would be {total} {currency}; a credit note must credit more than 0.",
            details=[{"field": "lines", "reason": "total not above zero", "total": total}],
        )
