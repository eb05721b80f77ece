"""Import an invoice issued elsewhere: the caller's number, issue date, payments and status.

An import is still an ordinary faktur invoice: its lines and totals are computed by faktur.calc
through the invoice service, it is stored by the same models and carries the same status
history. What differs from `finalize_invoice` is only where the number comes from (the caller,
unique per organisation, DESIGN rule 3) and that the EN 16931 party rules are not enforced: the
other system has issued the invoice already, and refusing to record it would not un-issue it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from faktur import calc
from faktur.errors import Conflict, Unprocessable
from faktur.invoices import repository, service
from faktur.invoices.lifecycle import payment_status
from faktur.invoices.schemas import InvoiceCreate, PaymentCreate, PaymentStatus
from faktur.models import Customer, Invoice, Organisation
from faktur.numbering.format import sequence_of

SOURCE = "import"
MAX_NUMBER_LENGTH = 100


@dataclass(frozen=True)
class InvoiceImport:
    """An invoice as another system issued it. `invoice.finalize` is ignored: imports are issued.

    `expected_total` and `expected_payment_status` are what the other system says; the import
    is refused when faktur's own computation disagrees, so stored amounts are never made up.
    """

    invoice: InvoiceCreate
    number: str
    issue_date: date
    amount_paid: Decimal = Decimal(0)
    # Paid in full on `paid_on`, whatever the computed total is (instead of `amount_paid`).
    paid_in_full: bool = False
    paid_on: date | None = None
    payment_method: str | None = None
    expected_total: Decimal | None = None
    expected_payment_status: PaymentStatus | None = None
    void: bool = False
    void_reason: str | None = None


def check_number(session: Session, organisation: Organisation, number: str) -> None:
    """Raise unless `number` may be given to an imported invoice of `organisation`."""
    if not number.strip() or len(number) > MAX_NUMBER_LENGTH:
        raise Unprocessable(
            f"An invoice number needs 1 to {MAX_NUMBER_LENGTH} characters.",
            code="invalid_invoice_number",
            details=[{"field": "number", "reason": f"1 to {MAX_NUMBER_LENGTH} characters"}],
        )
    if repository.number_taken(session, organisation.id, number):
        raise Conflict(
            f"Invoice number {number} is already used in this organisation.",
            code="invoice_number_taken",
            details=[{"field": "number", "reason": "already used"}],
        )
    if sequence_of(organisation.number_format, number) is not None:
        # Otherwise the automatic series would reach this number later and fail to finalize.
        raise Conflict(
            f"Invoice number {number} belongs to this organisation's automatic series "
            f"({organisation.number_format}); import it with another prefix.",
            code="invoice_number_in_automatic_series",
            details=[{"field": "number", "reason": "reserved for automatic numbering"}],
        )


def _check_amounts(data: InvoiceImport, computed: service.Computed) -> None:
    currency = computed.currency
    total = computed.result.totals.tax_inclusive_total
    if data.expected_total is not None and data.expected_total != total:
        raise Unprocessable(
            f"The total {data.expected_total} differs from the total of the lines, "
            f"{calc.format_amount(total, currency)} {currency}.",
            code="total_mismatch",
            details=[
                {"field": "total", "reason": f"the lines add up to {calc.format_amount(total, currency)}"}
            ],
        )
    if data.amount_paid < 0 or calc.quantize_money(data.amount_paid, currency) != data.amount_paid:
        raise Unprocessable(
            f"The amount paid {data.amount_paid} must be at least 0 with at most "
            f"{calc.minor_units(currency)} decimals ({currency}).",
            code="amount_precision",
            details=[{"field": "amount_paid", "reason": "negative or too many decimals for the currency"}],
        )
    derived = payment_status(calc.to_minor(total, currency), calc.to_minor(data.amount_paid, currency))
    if data.expected_payment_status is not None and data.expected_payment_status != derived:
        raise Unprocessable(
            f"The status {data.expected_payment_status.value} contradicts the amounts: "
            f"{data.amount_paid} paid of {calc.format_amount(total, currency)} is {derived.value}.",
            code="payment_status_mismatch",
            details=[{"field": "payment_status", "reason": f"the amounts make it {derived.value}"}],
        )
    if data.void and data.amount_paid:
        raise Conflict(
            "A void invoice cannot have payments; import it unpaid or not void.",
            code="invoice_has_payments",
            details=[{"field": "amount_paid", "reason": "must be 0 for a void invoice"}],
        )


def _issue(
    session: Session,
    actor: service.Actor,
    invoice: Invoice,
    customer: Customer,
    number: str,
    issue_date: date,
    now: datetime,
) -> None:
    """Finalize with the caller's number and issue date (finalize_invoice, minus numbering)."""
    if invoice.total_minor < 0:
        raise Unprocessable(
            "The invoice total is negative; import the credit note as such, not as an invoice.",
            code="negative_total",
        )
    service.prepare_finalization(
        actor, invoice, customer, now, issue_date=issue_date, check_party_rules=False, reason="imported"
    )
    invoice.number = number
    session.flush()


def import_invoice(session: Session, actor: service.Actor, data: InvoiceImport, now: datetime) -> Invoice:
    """Store an invoice issued elsewhere as issued (open, paid or void), in the caller's transaction."""
    check_number(session, actor.organisation, data.number)
    draft = data.invoice.model_copy(update={"finalize": False})
    if not draft.lines:
        raise Unprocessable(
            "An imported invoice needs at least one line.",
            code="invoice_has_no_lines",
            details=[{"field": "lines", "reason": "empty"}],
        )
    customer, computed = service.preview_invoice(session, actor, draft)
    if data.paid_in_full:
        data = replace(data, amount_paid=computed.result.totals.tax_inclusive_total, paid_in_full=False)
    _check_amounts(data, computed)
    invoice = service.create_invoice(session, actor, draft, now, origin=service.InvoiceOrigin(source=SOURCE))
    # What the other system had been paid when it issued the invoice: its document shows it as
    # the prepaid amount (BT-113), deducted from the amount due (BT-115).
    invoice.prepaid_minor = calc.to_minor(data.amount_paid, computed.currency)
    _issue(session, actor, invoice, customer, data.number, data.issue_date, now)
    if data.amount_paid > 0:
        payment = PaymentCreate(
            amount=data.amount_paid, paid_on=data.paid_on or data.issue_date, method=data.payment_method
        )
        invoice = service.record_payment(session, actor, invoice.id, payment, now)
    if data.void:
        invoice = service.void_invoice(session, actor, invoice.id, now, data.void_reason)
    return invoice
