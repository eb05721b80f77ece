"""Status changes of an invoice in memory: the checks a change must pass, the event it records.
Nothing here reads or writes the database; the operations write what changed."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from faktur import calc
from faktur.invoices import calculation
from faktur.invoices.domain import InvoiceStatus, can_transition, sources_of
from faktur.invoices.errors import (
    DirectDebitNotInEur,
    DueDateBeforeIssueDate,
    InvalidStatusTransition,
    InvoiceHasNoLines,
    InvoiceNotDraft,
    InvoiceTotalNegative,
    SepaCreditorIdMissing,
)
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
        raise InvalidStatusTransition(label, current.value, target.value, sources_of(target))
    record_event(invoice, target, actor, now, reason)


def require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT.value:
        raise InvoiceNotDraft(invoice)


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
        raise InvoiceHasNoLines()
    if invoice.total_minor < 0:
        raise InvoiceTotalNegative()
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
        raise DueDateBeforeIssueDate(invoice.due_date, issue_date)
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
        raise SepaCreditorIdMissing()
    if invoice.currency != "EUR":
        raise DirectDebitNotInEur(invoice.currency, field)
