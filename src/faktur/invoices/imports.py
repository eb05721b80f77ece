"""Import an invoice issued elsewhere: the caller's number, issue date, payments and status.

An import is still an ordinary faktur invoice: its lines and totals are computed by faktur.calc
through the invoice service, it is stored by the same models and carries the same status
history. What differs from `finalize_invoice` is only where the number comes from (the caller,
unique per organisation, DESIGN rule 3) and that the EN 16931 party rules are not enforced: the
other system has issued the invoice already, and refusing to record it would not un-issue it.

Totals the other system gives that its lines do not explain (tax, shipping, a discount it did
not itemize) can be kept as given: the difference is then stored as an explicit allowance or
charge, on the line or on the document, so the invoice, its totals and its e-invoice documents
stay consistent and add up to what was issued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from faktur import calc
from faktur.context import Actor
from faktur.invoices import events as invoice_events
from faktur.invoices import lifecycle, payments, repository, service
from faktur.invoices.calculation import Computed
from faktur.invoices.domain import (
    InvoiceOrigin,
    LineAdjustment,
    NewAdjustment,
    NewInvoice,
    NewLine,
    NewPayment,
    PaymentStatus,
    payment_status,
)
from faktur.invoices.errors import (
    AmountPaidInvalid,
    ImportedAmountTooPrecise,
    ImportedVoidInvoiceHasPayments,
    InvalidInvoiceNumber,
    InvoiceHasNoLines,
    InvoiceNumberInAutomaticSeries,
    InvoiceNumberTaken,
    InvoiceTotalNegative,
    PaymentStatusMismatch,
    TotalMismatch,
)
from faktur.models import Customer, Invoice, Organisation
from faktur.numbering.format import sequence_of

SOURCE = "import"
MAX_NUMBER_LENGTH = 255
LINE_TOTAL_REASON = "As invoiced: line total"
UNITEMIZED_CHARGE_REASON = "As invoiced: not itemized (tax, shipping or other charges)"
UNITEMIZED_ALLOWANCE_REASON = "As invoiced: not itemized (discount)"
UNITEMIZED_LINE = "As invoiced: not itemized"


@dataclass(frozen=True)
class InvoiceImport:
    """An invoice as another system issued it. `invoice.finalize` and `invoice.origin` are
    ignored: imports are issued, from the source "import".

    `expected_total` and `expected_payment_status` are what the other system says. Without
    `balance_tax` the import is refused when faktur's own computation disagrees, so stored
    amounts are never made up. With it, the total is kept as given: what the lines do not explain
    becomes a document-level charge (the total is higher) or allowance (lower) with that tax, and
    an import without lines gets one line for the whole total (EN 16931 needs a line).
    `line_totals` (one entry per line, None where not given) keeps each line's net amount as
    given the same way, with a line charge or allowance for the difference.
    """

    invoice: NewInvoice
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
    balance_tax: calc.TaxSpec | None = None
    line_totals: Sequence[Decimal | None] | None = None


def check_number(session: Session, organisation: Organisation, number: str) -> None:
    """Raise unless `number` may be given to an imported invoice of `organisation`."""
    if not number.strip() or len(number) > MAX_NUMBER_LENGTH:
        raise InvalidInvoiceNumber(MAX_NUMBER_LENGTH)
    if repository.number_taken(session, organisation.id, number):
        raise InvoiceNumberTaken(number)
    if sequence_of(organisation.number_format, number) is not None:
        # Otherwise the automatic series would reach this number later and fail to finalize.
        raise InvoiceNumberInAutomaticSeries(number, organisation.number_format)


def _exact_money(value: Decimal, currency: str, field: str) -> Decimal:
    """`value` unchanged if the currency can hold it; refused otherwise (never rounded)."""
    if calc.quantize_money(value, currency) != value:
        raise ImportedAmountTooPrecise(value, currency, calc.minor_units(currency), field)
    return value


def _line_difference(line: NewLine, amount: Decimal, reason: str) -> NewLine:
    """`line` with a charge (positive `amount`) or allowance (negative) of |amount| added."""
    adjustment = LineAdjustment(amount=abs(amount), reason=reason)
    if amount > 0:
        return replace(line, charges=(*line.charges, adjustment))
    return replace(line, allowances=(*line.allowances, adjustment))


def _as_given(
    session: Session, actor: Actor, data: InvoiceImport, draft: NewInvoice
) -> tuple[NewInvoice, Customer, Computed]:
    """The draft with explicit charges or allowances for what the given totals add to its lines."""
    customer, computed = service.preview_invoice(session, actor, draft)
    currency = computed.currency
    totals = list(data.line_totals or [])
    if totals:
        lines = list(draft.lines)
        for index, (given, result) in enumerate(zip(totals, computed.result.lines, strict=True)):
            if given is None:
                continue
            difference = _exact_money(given, currency, f"lines[{index}].total") - result.net
            if difference:
                lines[index] = _line_difference(lines[index], difference, LINE_TOTAL_REASON)
        draft = replace(draft, lines=tuple(lines))
        customer, computed = service.preview_invoice(session, actor, draft)
    if data.balance_tax is not None and data.expected_total is not None:
        expected = _exact_money(data.expected_total, currency, "total")
        difference = expected - computed.result.totals.tax_inclusive_total
        if difference:
            balance = NewAdjustment(
                kind="charge" if difference > 0 else "allowance",
                amount=abs(difference),
                reason=UNITEMIZED_CHARGE_REASON if difference > 0 else UNITEMIZED_ALLOWANCE_REASON,
                tax=data.balance_tax,
            )
            draft = replace(draft, adjustments=(*draft.adjustments, balance))
            customer, computed = service.preview_invoice(session, actor, draft)
    return draft, customer, computed


def _check_amounts(data: InvoiceImport, computed: Computed) -> None:
    currency = computed.currency
    total = computed.result.totals.tax_inclusive_total
    if data.expected_total is not None and data.expected_total != total:
        raise TotalMismatch(data.expected_total, calc.format_amount(total, currency), currency)
    if data.amount_paid < 0 or calc.quantize_money(data.amount_paid, currency) != data.amount_paid:
        raise AmountPaidInvalid(data.amount_paid, currency, calc.minor_units(currency))
    derived = payment_status(calc.to_minor(total, currency), calc.to_minor(data.amount_paid, currency))
    if data.expected_payment_status is not None and data.expected_payment_status != derived:
        raise PaymentStatusMismatch(
            data.expected_payment_status.value,
            data.amount_paid,
            calc.format_amount(total, currency),
            derived.value,
        )
    if data.void and data.amount_paid:
        raise ImportedVoidInvoiceHasPayments()


def _issue(
    session: Session,
    actor: Actor,
    invoice: Invoice,
    customer: Customer,
    number: str,
    issue_date: date,
    now: datetime,
) -> None:
    """Finalize with the caller's number and issue date (finalize_invoice, minus numbering)."""
    if invoice.total_minor < 0:
        raise InvoiceTotalNegative(imported=True)
    lifecycle.prepare_finalization(
        actor.organisation,
        actor.name,
        invoice,
        customer,
        now,
        issue_date=issue_date,
        check_party_rules=False,
        reason="imported",
    )
    invoice.number = number
    session.flush()
    invoice_events.record(session, invoice, now, *invoice_events.on_finalize(invoice))


def import_invoice(session: Session, actor: Actor, data: InvoiceImport, now: datetime) -> Invoice:
    """Store an invoice issued elsewhere as issued (open, paid or void), in the caller's transaction."""
    check_number(session, actor.organisation, data.number)
    draft = replace(data.invoice, finalize=False, origin=InvoiceOrigin(source=SOURCE))
    if not draft.lines:
        if data.balance_tax is None or data.expected_total is None or data.expected_total < 0:
            raise InvoiceHasNoLines(imported=True)
        # EN 16931 needs a line (BR-16): the whole total, not itemized, as the other system gave it.
        whole = NewLine(description=UNITEMIZED_LINE, unit_price=data.expected_total, tax=data.balance_tax)
        draft = replace(draft, lines=(whole,))
        data = replace(data, line_totals=None)
    draft, customer, computed = _as_given(session, actor, data, draft)
    if data.paid_in_full:
        data = replace(data, amount_paid=computed.result.totals.tax_inclusive_total, paid_in_full=False)
    _check_amounts(data, computed)
    invoice = service.create_invoice(session, actor, draft, now)
    # What the other system had been paid when it issued the invoice: its document shows it as
    # the prepaid amount (BT-113), deducted from the amount due (BT-115).
    invoice.prepaid_minor = calc.to_minor(data.amount_paid, computed.currency)
    _issue(session, actor, invoice, customer, data.number, data.issue_date, now)
    if data.amount_paid > 0:
        payment = NewPayment(
            amount=data.amount_paid, paid_on=data.paid_on or data.issue_date, method=data.payment_method
        )
        invoice = payments.record_payment(session, actor, invoice.id, payment, now)
    if data.void:
        invoice = service.void_invoice(session, actor, invoice.id, now, data.void_reason)
    return invoice
