"""Status changes of an invoice in memory: the checks a change must pass, the event it records.
Nothing here reads or writes the database; the operations write what changed."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from faktur import calc
from faktur.errors import Conflict, Unprocessable
from faktur.invoices import calculation
from faktur.invoices.domain import InvoiceStatus, can_transition, sources_of
from faktur.invoices.snapshots import customer_snapshot, seller_snapshot
from faktur.models import Customer, Invoice, InvoiceEvent, Organisation
from faktur.payment_means import PaymentMethod


def record_event(
    invoice: Invoice, to_status: InvoiceStatus, actor: str, now: datetime, reason: str | None = None
) -> None:
    from_status = None if not invoice.events else invoice.status
    event = InvoiceEvent(
        id=uuid.uuid4(),
        organisation_id=invoice.organisation_id,
        invoice_id=invoice.id,
        created_at=now,
        sequence=len(invoice.events) + 1,
        from_status=from_status,
        to_status=to_status.value,
        actor=actor,
        reason=reason,
    )
    # Appending to a stored invoice's collection cascades the event into its session.
    invoice.events.append(event)
    invoice.status = to_status.value
    invoice.updated_at = now


def transition(
    invoice: Invoice, target: InvoiceStatus, actor: str, now: datetime, reason: str | None = None
) -> None:
    current = InvoiceStatus(invoice.status)
    if not can_transition(current, target):
        label = invoice.number or str(invoice.id)
        raise Conflict(
            f"Invoice {label} is {current.value}; it cannot become {target.value} "
            f"(only {' or '.join(sources_of(target)) or 'no'} invoices can).",
            code="invalid_status_transition",
            details=[
                {
                    "field": "status",
                    "reason": f"current status is {current.value}",
                    "current_status": current.value,
                }
            ],
        )
    record_event(invoice, target, actor, now, reason)


def require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT.value:
        raise Conflict(
            f"Invoice {invoice.number or invoice.id} is {invoice.status}; only drafts can be edited. "
            "Correct a finalized invoice with a credit note.",
            code="invoice_not_draft",
            details=[
                {
                    "field": "status",
                    "reason": f"current status is {invoice.status}",
                    "current_status": invoice.status,
                }
            ],
        )


def prepare_finalization(
    organisation: Organisation,
    actor: str,
    invoice: Invoice,
    customer: Customer,
    now: datetime,
    *,
    issue_date: date | None = None,
    check_party_rules: bool = True,
    reason: str | None = None,
    invoice_input: calc.InvoiceInput | None = None,
) -> date:
    """Check and issue `invoice` in memory (snapshots, dates, status); returns the issue date.
    The caller assigns the number, last. Imports of invoices issued elsewhere pass their own
    issue date and skip the party checks, which the issuing system already made. A new invoice
    passes the engine input its rows were computed from (`invoice_input`)."""
    if not invoice.lines:
        raise Unprocessable(
            "An invoice needs at least one line to be finalized.",
            code="invoice_has_no_lines",
            details=[{"field": "lines", "reason": "empty"}],
        )
    if invoice.total_minor < 0:
        raise Unprocessable(
            "The invoice total is negative; issue a credit note for the original invoice instead.",
            code="negative_total",
        )
    snapshot = customer_snapshot(customer)
    if check_party_rules:
        checked = invoice_input or calculation.input_from_invoice(invoice)
        calculation.check_party_rules(checked, organisation, snapshot, invoice)
        _check_payment_means(invoice, organisation, customer)
    issue_date = issue_date or now.date()
    invoice.customer_snapshot = snapshot
    invoice.seller_snapshot = seller_snapshot(organisation)
    invoice.buyer_reference = invoice.buyer_reference or customer.buyer_reference
    invoice.issue_date = issue_date
    if invoice.due_date is None:
        terms = invoice.payment_terms_days
        invoice.payment_terms_days = organisation.payment_terms_days if terms is None else terms
        invoice.due_date = issue_date + timedelta(days=invoice.payment_terms_days)
    elif invoice.due_date < issue_date:
        raise Unprocessable(
            f"The due date {invoice.due_date} is before the issue date {issue_date}.",
            code="due_date_before_issue_date",
            details=[{"field": "due_date", "reason": "before the issue date"}],
        )
    invoice.finalized_at = now
    transition(invoice, InvoiceStatus.OPEN, actor, now, reason)
    if invoice.total_minor == 0:
        transition(invoice, InvoiceStatus.PAID, actor, now, "nothing to pay")
    return issue_date


def _check_payment_means(invoice: Invoice, organisation: Organisation, customer: Customer) -> None:
    """A SEPA direct debit can only be collected in euro by a seller with a creditor identifier."""
    means = invoice.payment_means or customer.payment_means
    if not means or means.get("method") != PaymentMethod.SEPA_DIRECT_DEBIT.value:
        return
    field = "payment_means" if invoice.payment_means else "customer.payment_means"
    if not organisation.sepa_creditor_id:
        raise Unprocessable(
            "The invoice is to be paid by SEPA direct debit, but the organisation has no SEPA creditor "
            "identifier (EN 16931 BT-90); set sepa_creditor_id with PATCH /v1/organisation.",
            code="sepa_creditor_id_missing",
            details=[{"field": "organisation.sepa_creditor_id", "reason": "needed for direct debit"}],
        )
    if invoice.currency != "EUR":
        raise Unprocessable(
            f"A SEPA direct debit is collected in EUR; this invoice is in {invoice.currency}. "
            "Choose another payment means or invoice in EUR.",
            code="direct_debit_currency",
            details=[{"field": field, "reason": "SEPA direct debit needs EUR"}],
        )
