"""Invoice operations, one function each; guard checks first; services flush, never commit.

Creating goes through the one create path (faktur.invoices.batch: a single invoice is a batch of
one); rows are built by faktur.invoices.rows, status changes made by faktur.invoices.lifecycle,
payments recorded by faktur.invoices.payments.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from faktur.balance.service import apply_balance
from faktur.context import Actor
from faktur.customers import service as customers
from faktur.events.types import EventType
from faktur.invoices import batch, calculation, lifecycle, repository, rows
from faktur.invoices import events as invoice_events
from faktur.invoices.batch import InvoiceRequest, InvoiceRequestFailed
from faktur.invoices.calculation import Computed
from faktur.invoices.domain import (
    PLAIN_EDIT_FIELDS,
    InvoiceEdit,
    InvoiceStatus,
    NewAdjustment,
    NewInvoice,
    NewLine,
)
from faktur.invoices.errors import (
    InvoiceHasPayments,
    InvoiceLinesLocked,
    InvoiceNotFound,
    InvoicePeriodLocked,
)
from faktur.invoices.repository import InvoiceFilters
from faktur.invoices.schemas import InvoiceOut
from faktur.invoices.snapshots import customer_snapshot
from faktur.models import Customer, Invoice, Organisation
from faktur.numbering.service import number_invoice
from faktur.paging import Cursor
from faktur.pending import Decided
from faktur.tax_rates import repository as tax_rates


def get_invoice(
    session: Session, organisation_id: uuid.UUID, invoice_id: uuid.UUID, *, for_update: bool = False
) -> Invoice:
    invoice = repository.get(session, organisation_id, invoice_id, for_update=for_update)
    if invoice is None:
        raise InvoiceNotFound(invoice_id)
    return invoice


def get_invoices(
    session: Session, organisation_id: uuid.UUID, invoice_ids: Sequence[uuid.UUID]
) -> list[Invoice]:
    """Invoices by id, in the order given (unknown ids and other organisations' are left out)."""
    return repository.get_many(session, organisation_id, invoice_ids)


def list_invoices(
    session: Session, organisation_id: uuid.UUID, filters: InvoiceFilters, limit: int, cursor: Cursor | None
) -> tuple[list[Invoice], bool]:
    rows_ = repository.list_page(session, organisation_id, filters, limit, cursor)
    return rows_[:limit], len(rows_) > limit


def compute_content(
    session: Session,
    organisation: Organisation,
    customer: Customer,
    *,
    currency: str | None,
    prices_include_tax: bool | None,
    lines: Sequence[NewLine],
    adjustments: Sequence[NewAdjustment],
) -> Computed:
    """Resolve taxes and compute every amount; raises 4xx errors for anything the engine rejects."""
    referenced = calculation.referenced_tax_rate_ids(lines, adjustments)
    rates = tax_rates.get_many(session, organisation.id, referenced)
    return calculation.compute_with_rates(
        organisation,
        customer,
        rates,
        currency=currency,
        prices_include_tax=prices_include_tax,
        lines=lines,
        adjustments=adjustments,
    )


@dataclass(frozen=True)
class Issuing:
    """An invoice written in this transaction whose number (if it is issued) is taken by
    `take_number`: the caller runs it as the transaction's last step, as the HTTP endpoints do
    just before COMMIT (faktur.http.routing.UnitOfWork.before_commit). `presented` is the
    invoice as the API returns it, its number shown as a pending value until then."""

    invoice: Invoice
    presented: InvoiceOut
    take_number: Callable[[], Decided | None]


def create_invoice(
    session: Session, actor: Actor, command: NewInvoice, now: datetime, *, customer: Customer | None = None
) -> Invoice:
    """Create a draft (and finalize it if the command says so): a batch of one through
    faktur.invoices.batch, then the invoice is attached to the session for further changes in
    this transaction. A caller that loaded the command's customer of this organisation passes
    it as `customer`; the database refuses lines that would bill a record twice."""
    issuing = create_invoice_numbered_last(session, actor, command, now, customer=customer)
    issuing.take_number()
    repository.attach(session, issuing.invoice)
    return issuing.invoice


def create_invoice_numbered_last(
    session: Session,
    actor: Actor,
    command: NewInvoice,
    now: datetime,
    *,
    customer: Customer | None = None,
    customer_holds_credit: bool | None = None,
) -> Issuing:
    """`create_invoice`, with the number (and the events' INSERT) left to `Issuing.take_number`;
    the invoice is not attached to the session (nothing changes it further). A caller that
    passes the `customer` may say whether it held credit when read
    (faktur.customers.service.get_customer_for_invoicing)."""
    request = InvoiceRequest(command, customer, customer_holds_credit=customer_holds_credit)
    if customer is None or customer.id != command.customer_id:
        loaded, holds_credit = customers.get_customer_for_invoicing(
            session, actor.organisation_id, command.customer_id
        )
        request = InvoiceRequest(command, loaded, customer_holds_credit=holds_credit)
    try:
        written = batch.write_unnumbered(session, actor, [request], now)
    except InvoiceRequestFailed as failed:
        raise failed.error from None
    [invoice] = written.invoices
    [announced] = written.announced

    def take_number() -> Decided | None:
        written.take_numbers(session)
        return announced.decided()

    return Issuing(invoice, announced.presented, take_number)


def preview_invoice(session: Session, actor: Actor, command: NewInvoice) -> tuple[Customer, Computed]:
    customer = customers.get_customer(session, actor.organisation_id, command.customer_id)
    computed = compute_content(
        session,
        actor.organisation,
        customer,
        currency=command.currency,
        prices_include_tax=command.prices_include_tax,
        lines=command.lines,
        adjustments=command.adjustments,
    )
    return customer, computed


def update_invoice(
    session: Session, actor: Actor, invoice_id: uuid.UUID, edit: InvoiceEdit, now: datetime
) -> Invoice:
    invoice = get_invoice(session, actor.organisation_id, invoice_id, for_update=True)
    lifecycle.require_draft(invoice)
    kept_lines = [rows.line_of(line) for line in invoice.lines]
    if edit.lines is not None and any(line.source for line in kept_lines):
        raise InvoiceLinesLocked(invoice)
    given = edit.given
    customer_id = edit.customer_id or invoice.customer_id
    customer = customers.get_customer(session, actor.organisation_id, customer_id)
    adjustments = edit.adjustments
    if adjustments is None:
        adjustments = tuple(rows.adjustment_of(a) for a in invoice.adjustments)
    computed = compute_content(
        session,
        actor.organisation,
        customer,
        currency=edit.currency or ("currency" not in given and invoice.currency) or None,
        prices_include_tax=edit.prices_include_tax
        if "prices_include_tax" in given
        else invoice.prices_include_tax,
        lines=edit.lines if edit.lines is not None else kept_lines,
        adjustments=adjustments,
    )
    for field in PLAIN_EDIT_FIELDS:
        if field in given:
            setattr(invoice, field, getattr(edit, field))
    if "period_start" in given or "period_end" in given:
        _require_own_period(invoice)
        invoice.period_start, invoice.period_end = edit.period_start, edit.period_end
    if "deliver_to" in given:
        invoice.deliver_to = None if edit.deliver_to is None else dict(edit.deliver_to)
    if "payment_means" in given:
        invoice.payment_means = None if edit.payment_means is None else dict(edit.payment_means)
    if "metadata" in given:
        invoice.metadata_ = dict(edit.metadata or {})
    invoice.customer_id = customer.id
    invoice.customer_snapshot = customer_snapshot(customer)
    invoice.updated_at = now
    new_lines, tax_groups = rows.fill(invoice, computed)
    repository.replace_lines(session, invoice, new_lines, tax_groups)
    session.flush()
    return invoice


def _require_own_period(invoice: Invoice) -> None:
    """A contract's period invoice keeps the period it bills (one live invoice per contract and period)."""
    if invoice.contract_id is not None:
        raise InvoicePeriodLocked(invoice)


def finalize_invoice(
    session: Session, actor: Actor, invoice_id: uuid.UUID, now: datetime, *, number: str | None = None
) -> Invoice:
    """Number, snapshot and issue a stored draft, in the caller's transaction (rules 2-4): the
    issued invoice is written first and its number taken last (the counter row stays locked
    until COMMIT). Callers that reserved a number in this transaction pass it as `number`."""
    issuing = finalize_invoice_numbered_last(session, actor, invoice_id, now, number=number)
    issuing.take_number()
    return issuing.invoice


def finalize_invoice_numbered_last(
    session: Session, actor: Actor, invoice_id: uuid.UUID, now: datetime, *, number: str | None = None
) -> Issuing:
    """`finalize_invoice`, with the number (and the events' INSERT) left to `Issuing.take_number`."""
    invoice = get_invoice(session, actor.organisation_id, invoice_id, for_update=True)
    lifecycle.require_draft(invoice)
    customer = customers.get_customer(session, actor.organisation_id, invoice.customer_id)
    issue_date = lifecycle.prepare_finalization(actor.organisation, actor.name, invoice, customer, now)
    # The customer's credit in the invoice's currency pays what it can (BT-113 on the documents).
    apply_balance(session, invoice, actor.name, now)
    if number is not None:
        invoice.number = number
    session.flush()
    announced = invoice_events.announce(invoice, now, *invoice_events.on_finalize(invoice))

    def take_number() -> Decided | None:
        if invoice.number is None:
            taken = number_invoice(session, actor.organisation, invoice.id, issue_date, invoice.series)
            set_committed_value(invoice, "number", taken)
        invoice_events.record_numbered(session, [announced])
        return announced.decided()

    return Issuing(invoice, announced.presented, take_number)


def void_invoice(
    session: Session, actor: Actor, invoice_id: uuid.UUID, now: datetime, reason: str | None
) -> Invoice:
    invoice = get_invoice(session, actor.organisation_id, invoice_id, for_update=True)
    if (
        invoice.status in (InvoiceStatus.OPEN.value, InvoiceStatus.UNCOLLECTIBLE.value)
        and invoice.amount_paid_minor
    ):
        raise InvoiceHasPayments(invoice.number)
    lifecycle.transition(invoice, InvoiceStatus.VOID, actor.name, now, reason)
    # Release what the lines billed: order quantities and pending items become invoiceable again.
    for line in invoice.lines:
        line.live = False
    session.flush()
    invoice_events.record(session, invoice, now, EventType.INVOICE_VOIDED)
    return invoice


def mark_uncollectible(
    session: Session, actor: Actor, invoice_id: uuid.UUID, now: datetime, reason: str | None
) -> Invoice:
    invoice = get_invoice(session, actor.organisation_id, invoice_id, for_update=True)
    lifecycle.transition(invoice, InvoiceStatus.UNCOLLECTIBLE, actor.name, now, reason)
    session.flush()
    invoice_events.record(session, invoice, now, EventType.INVOICE_MARKED_UNCOLLECTIBLE)
    return invoice
