"""The one path that creates invoices: a batch of commands, and a single invoice is a batch of one
(`service.create_invoice`). Billing runs and the pending-items gather send many at once: a
handful of statements per batch instead of ~15 per invoice.

The steps, in this order for every caller:
1. load the batch's customers, with whether each holds credit, and tax rates (one query each);
2. compute every invoice through faktur.calc and build its rows in memory (faktur.invoices.rows),
   issuing those the command finalizes; nothing is written unless every command is valid;
3. apply the customers' credit balances to the issued invoices (faktur.balance.service, one
   query for the batch if any customer holds credit, none otherwise; only rows holding credit
   are locked), then write all invoices, lines,
   tax groups, status events and balance payments, one executemany per table
   (faktur.invoices.repository.insert_new), and the balance ledger;
4. number the issued invoices, last: the organisation's counter row stays locked until the
   caller commits, so concurrent numbering waits on it and the sequence has no gap. Numbers a
   caller reserved in this transaction are given to the rows before they are written instead.
   Then the invoices' events are written: rendered in step 3 with the numbers pending
   (faktur.invoices.events), they only get the numbers put in.

`write_unnumbered` stops before step 4 and returns it as `Unnumbered.take_numbers`, for a caller
that takes the numbers later: the HTTP endpoints that issue an invoice take it as their
transaction's last step, after rendering their response (faktur.pending).

Steps 1-2 are the check (`check_invoices`: a `CheckedBatch`, nothing written), 3-4 the write
(`write_checked`); a caller that must drop refused requests and check again (a billing chunk) calls
them apart, the others call both at once (`create_invoices`, `write_new_invoices`).

`create_invoices` answers light `CreatedInvoice` values: nothing of the rows enters the session's
identity map (no per-object bookkeeping, which is what made per-invoice creation slow). Load an
invoice (`service.get_invoice`, `service.get_invoices`) when its lines or history are needed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from faktur.balance import service as balance
from faktur.context import Actor
from faktur.customers import repository as customers
from faktur.customers.errors import CustomerNotFound
from faktur.errors import FakturError
from faktur.invoices import calculation, repository, rows
from faktur.invoices import events as invoice_events
from faktur.invoices.domain import NewInvoice
from faktur.models import Customer, Invoice, TaxRate
from faktur.numbering.service import number_invoices
from faktur.tax_rates import repository as tax_rates


@dataclass(frozen=True)
class InvoiceRequest:
    """One invoice to create, and its buyer if the caller has already loaded it (it must be the
    command's customer, of the actor's organisation), with whether that customer held credit
    then if the caller knows (faktur.customers.service.get_customer_for_invoicing)."""

    command: NewInvoice
    customer: Customer | None = None
    customer_holds_credit: bool | None = None


@dataclass(frozen=True)
class CreatedInvoice:
    """What was stored for one request; amounts in minor units of `currency`."""

    id: uuid.UUID
    number: str | None
    status: str
    customer_id: uuid.UUID
    currency: str
    tax_exclusive_minor: int
    tax_total_minor: int
    total_minor: int


@dataclass(frozen=True)
class CheckedBatch:
    """Every request of a batch computed and built in memory, in request order, with the issue
    date of those it finalizes; nothing written, no number taken (`write_checked` does that).
    `without_credit`: the batch's customers known to hold no credit when they were read."""

    built: tuple[tuple[Invoice, date | None], ...]
    without_credit: frozenset[uuid.UUID] = frozenset()


class InvoiceRequestFailed(FakturError):
    """One request of a batch was refused (nothing of the batch was written): the request's own
    error (same code and status) with its index in the batch, in the message and the details."""

    def __init__(self, index: int, customer_id: uuid.UUID, error: FakturError) -> None:
        details = [{**detail, "request_index": index} for detail in error.details] or [
            {"field": f"requests[{index}]", "reason": error.message, "request_index": index}
        ]
        super().__init__(
            f"Invoice request {index} (customer {customer_id}): {error.message}",
            code=error.code,
            status=error.status,
            details=details,
        )
        self.index = index
        self.error = error


def create_invoices(
    session: Session,
    actor: Actor,
    requests: Sequence[InvoiceRequest],
    now: datetime,
    *,
    numbers: Sequence[str] | None = None,
) -> list[CreatedInvoice]:
    """Create the requested invoices (finalizing those whose command says so), one result per
    request in order. Raises InvoiceRequestFailed for the first invalid request before anything
    is stored or any number is taken. Finalized invoices are numbered from one block per issue
    date, in request order, or from `numbers` (one per finalized invoice) that the caller reserved
    in this transaction. Services flush, never commit: the rows are written in the caller's
    transaction."""
    return [
        CreatedInvoice(
            id=invoice.id,
            number=invoice.number,
            status=invoice.status,
            customer_id=invoice.customer_id,
            currency=invoice.currency,
            tax_exclusive_minor=invoice.tax_exclusive_minor,
            tax_total_minor=invoice.tax_total_minor,
            total_minor=invoice.total_minor,
        )
        for invoice in write_new_invoices(session, actor, requests, now, numbers=numbers)
    ]


def write_new_invoices(
    session: Session,
    actor: Actor,
    requests: Sequence[InvoiceRequest],
    now: datetime,
    *,
    numbers: Sequence[str] | None = None,
) -> list[Invoice]:
    """Steps 1-4 of the module docstring; the invoices as built, written and numbered (not in the
    session: `repository.attach` one to change it further in this transaction)."""
    return write_checked(session, actor, check_invoices(session, actor, requests, now), now, numbers=numbers)


def check_invoices(
    session: Session, actor: Actor, requests: Sequence[InvoiceRequest], now: datetime
) -> CheckedBatch:
    """Steps 1-2 of the module docstring: raises InvoiceRequestFailed for the first invalid
    request; writes nothing and takes no number."""
    if not requests:
        return CheckedBatch(())
    built, without_credit = _build_all(session, actor, requests, now)
    return CheckedBatch(tuple(built), frozenset(without_credit))


def write_checked(
    session: Session,
    actor: Actor,
    checked: CheckedBatch,
    now: datetime,
    *,
    numbers: Sequence[str] | None = None,
) -> list[Invoice]:
    """Steps 3-4 of the module docstring for a checked batch, written once (see `create_invoices`
    for `numbers`): the invoices written and numbered, in request order."""
    written = write_checked_unnumbered(session, actor, checked, now, numbers=numbers)
    written.take_numbers(session)
    return written.invoices


@dataclass(frozen=True)
class Unnumbered:
    """Invoices written (step 3) whose numbers are still to be taken (step 4), with their
    events rendered but not written: `take_numbers` numbers them and writes the events."""

    actor: Actor
    invoices: list[Invoice]
    # The issued invoices still without a number, with their issue dates.
    to_number: list[tuple[Invoice, date]]
    announced: list[invoice_events.Announced]

    def take_numbers(self, session: Session) -> None:
        """Step 4, the last of the transaction's statements but the events' INSERT."""
        _take_numbers(session, self.actor, self.to_number)
        invoice_events.record_numbered(session, self.announced)


def write_unnumbered(
    session: Session,
    actor: Actor,
    requests: Sequence[InvoiceRequest],
    now: datetime,
    *,
    numbers: Sequence[str] | None = None,
) -> Unnumbered:
    """Steps 1-3 of the module docstring: the invoices checked, built and written, their events
    rendered (with the numbers pending); with `numbers`, the issued invoices have them already."""
    checked = check_invoices(session, actor, requests, now)
    return write_checked_unnumbered(session, actor, checked, now, numbers=numbers)


def write_checked_unnumbered(
    session: Session,
    actor: Actor,
    checked: CheckedBatch,
    now: datetime,
    *,
    numbers: Sequence[str] | None = None,
) -> Unnumbered:
    """Step 3 for a checked batch; `Unnumbered.take_numbers` is step 4."""
    built = checked.built
    finalized = [(invoice, issue_date) for invoice, issue_date in built if issue_date is not None]
    if numbers is not None:
        _give_numbers(finalized, numbers)
    invoices = [invoice for invoice, _ in built]
    # Customers' credit pays what it can of the issued invoices (their balance rows locked before
    # the number counter); no statement when no customer of the batch held any when read.
    credit = balance.apply_to_new_invoices(
        session, [invoice for invoice, _ in finalized], actor.name, now, without_credit=checked.without_credit
    )
    # Presented and their events rendered before the first write: on SQLite the write lock is
    # taken there, when nothing before it read the database (faktur.http.reads).
    announced = [
        invoice_events.announce(invoice, now, *invoice_events.on_create(invoice)) for invoice in invoices
    ]
    repository.insert_new(session, invoices)
    balance.record_applied(session, credit)
    return Unnumbered(actor, invoices, [] if numbers is not None else finalized, announced)


def _build_all(
    session: Session, actor: Actor, requests: Sequence[InvoiceRequest], now: datetime
) -> tuple[list[tuple[Invoice, date | None]], set[uuid.UUID]]:
    """Every invoice computed and built in memory, and the customers known to hold no credit;
    the batch's customers (with whether they hold credit) and tax rates are loaded with one
    query each (always within the actor's organisation)."""
    organisation_id = actor.organisation_id
    loaded, holding = customers.get_many_for_invoicing(
        session, organisation_id, {r.command.customer_id for r in requests if r.customer is None}
    )
    without_credit = set(loaded) - holding
    without_credit.update(
        r.customer.id for r in requests if r.customer is not None and r.customer_holds_credit is False
    )
    rate_ids: set[uuid.UUID] = set()
    for request in requests:
        rate_ids |= calculation.referenced_tax_rate_ids(request.command.lines, request.command.adjustments)
    rates: dict[uuid.UUID, TaxRate] = tax_rates.get_many(session, organisation_id, rate_ids)
    built = []
    for index, request in enumerate(requests):
        command = request.command
        try:
            customer = _customer(actor, request, loaded)
            computed = calculation.compute_with_rates(
                actor.organisation,
                customer,
                rates,
                currency=command.currency,
                prices_include_tax=command.prices_include_tax,
                lines=command.lines,
                adjustments=command.adjustments,
            )
            built.append(rows.build_invoice(actor.organisation, actor.name, command, customer, computed, now))
        except FakturError as exc:
            raise InvoiceRequestFailed(index, command.customer_id, exc) from exc
    return built, without_credit


def _customer(actor: Actor, request: InvoiceRequest, loaded: dict[uuid.UUID, Customer]) -> Customer:
    customer_id = request.command.customer_id
    given = request.customer
    if given is not None and given.id == customer_id and given.organisation_id == actor.organisation_id:
        return given
    customer = loaded.get(customer_id) if given is None else None
    if customer is None:
        # A customer of another organisation is "not found", whoever passed it in.
        raise CustomerNotFound(customer_id, field="customer_id")
    return customer


def _give_numbers(finalized: list[tuple[Invoice, date]], numbers: Sequence[str]) -> None:
    if len(numbers) != len(finalized):
        raise ValueError(f"{len(numbers)} numbers given for {len(finalized)} finalized invoices")
    for (invoice, _), number in zip(finalized, numbers, strict=True):
        invoice.number = number


def _take_numbers(session: Session, actor: Actor, finalized: list[tuple[Invoice, date]]) -> None:
    """Number the written issued invoices: one block per issue date and series, in order."""
    blocks: dict[tuple[date, str], list[Invoice]] = {}
    for invoice, issue_date in finalized:
        blocks.setdefault((issue_date, invoice.series), []).append(invoice)
    for (issue_date, series), group in sorted(blocks.items(), key=lambda item: item[0]):
        taken = number_invoices(session, actor.organisation, [i.id for i in group], issue_date, series)
        for invoice, number in zip(group, taken, strict=True):
            set_committed_value(invoice, "number", number)
