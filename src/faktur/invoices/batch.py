"""Many new invoices in one go, for callers that invoice records in bulk (billing runs, the
pending-items gather): a handful of statements per batch instead of ~15 per invoice.

`create_invoices` computes and builds every invoice exactly as `service.create_invoice` does (the
same `compute_with_rates` through faktur.calc, `build_invoice`, `prepare_finalization`), then
takes one number block per issue date and writes all invoices, lines, tax groups and status
events with one executemany per table. Nothing is written unless every request is valid.

It answers light `CreatedInvoice` values, not ORM objects: the rows are written with table-level
INSERTs and nothing of them enters the session's identity map (no per-object bookkeeping, which
is what made per-invoice creation slow). Load an invoice (`service.get_invoice`,
`service.get_invoices`) when its lines or history are needed.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from faktur.customers import repository as customers
from faktur.errors import FakturError, NotFound
from faktur.invoices import calculation, repository
from faktur.invoices import events as invoice_events
from faktur.invoices.schemas import InvoiceCreate
from faktur.invoices.service import (
    Actor,
    InvoiceOrigin,
    LineSource,
    build_invoice,
    compute_with_rates,
    table_rows,
)
from faktur.models import Customer, Invoice, TaxRate
from faktur.numbering.service import next_invoice_numbers
from faktur.tax_rates import repository as tax_rates


@dataclass(frozen=True)
class InvoiceRequest:
    """One invoice to create: the body, what it bills (as for create_invoice), and the buyer if
    the caller has already loaded it (it must be the body's customer, of the actor's organisation)."""

    data: InvoiceCreate
    origin: InvoiceOrigin = field(default_factory=InvoiceOrigin)
    line_sources: Sequence[LineSource | None] | None = None
    customer: Customer | None = None


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
    """Create the requested invoices (finalizing those whose body says so), one result per request
    in order. Raises InvoiceRequestFailed for the first invalid request before anything is stored
    or any number is taken. Finalized invoices are numbered from one block per issue date, in
    request order, or from `numbers` (one per finalized invoice) that the caller reserved in this
    transaction. Services flush, never commit: the rows are written in the caller's transaction."""
    if not requests:
        return []
    with cyclic_gc_paused():
        built = _build_all(session, actor, requests, now)
        _assign_numbers(session, actor, built, numbers)
        _write(session, [invoice for invoice, _ in built])
        invoice_events.record_created(session, [invoice for invoice, _ in built], now)
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
        for invoice, _ in built
    ]


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Building a batch allocates tens of thousands of small containers (rows, decimals, bind
    parameters), which triggers Python's cyclic collector over and over, each time walking
    every object the session holds (a gather's thousands of locked items): a third of the
    batch's time. Nearly all of it is freed by reference counting anyway, so the collector waits
    until the batch is written. Callers that load and build in bulk around a batch (a billing
    run's chunk) pause it for that too. Process-wide: only whoever paused it re-enables it."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _build_all(
    session: Session, actor: Actor, requests: Sequence[InvoiceRequest], now: datetime
) -> list[tuple[Invoice, date | None]]:
    """Every invoice computed and built in memory; the batch's customers and tax rates are
    loaded with one query each (always within the actor's organisation)."""
    organisation_id = actor.organisation_id
    loaded = customers.get_many(
        session, organisation_id, {r.data.customer_id for r in requests if r.customer is None}
    )
    rate_ids: set[uuid.UUID] = set()
    for request in requests:
        rate_ids |= calculation.referenced_tax_rate_ids(request.data.lines, request.data.adjustments or [])
    rates: dict[uuid.UUID, TaxRate] = tax_rates.get_many(session, organisation_id, rate_ids)
    built = []
    for index, request in enumerate(requests):
        data = request.data
        try:
            customer = _customer(actor, request, loaded)
            computed = compute_with_rates(
                actor.organisation,
                customer,
                rates,
                currency=data.currency,
                prices_include_tax=data.prices_include_tax,
                lines=data.lines,
                adjustments=data.adjustments or [],
            )
            built.append(
                build_invoice(actor, data, customer, computed, now, request.origin, request.line_sources)
            )
        except FakturError as exc:
            raise InvoiceRequestFailed(index, data.customer_id, exc) from exc
    return built


def _customer(actor: Actor, request: InvoiceRequest, loaded: dict[uuid.UUID, Customer]) -> Customer:
    customer_id = request.data.customer_id
    given = request.customer
    if given is not None and given.id == customer_id and given.organisation_id == actor.organisation_id:
        return given
    customer = loaded.get(customer_id) if given is None else None
    if customer is None:
        # A customer of another organisation is "not found", whoever passed it in.
        raise NotFound(
            f"No customer {customer_id} in this organisation.",
            code="customer_not_found",
            details=[{"field": "customer_id", "reason": "unknown customer"}],
        )
    return customer


def _assign_numbers(
    session: Session,
    actor: Actor,
    built: list[tuple[Invoice, date | None]],
    numbers: Sequence[str] | None,
) -> None:
    """Number the finalized invoices, last before writing: the counter row stays locked until the
    caller commits, so concurrent numbering waits on it and the sequence has no gap."""
    finalized = [(invoice, issue_date) for invoice, issue_date in built if issue_date is not None]
    if numbers is not None:
        if len(numbers) != len(finalized):
            raise ValueError(f"{len(numbers)} numbers given for {len(finalized)} finalized invoices")
        for (invoice, _), number in zip(finalized, numbers, strict=True):
            invoice.number = number
        return
    blocks: dict[tuple[date, str], list[Invoice]] = {}
    for invoice, issue_date in finalized:
        blocks.setdefault((issue_date, invoice.series), []).append(invoice)
    for (issue_date, series), group in sorted(blocks.items(), key=lambda item: item[0]):
        block = next_invoice_numbers(session, actor.organisation, issue_date, len(group), series)
        for invoice, number in zip(group, block, strict=True):
            invoice.number = number


def _write(session: Session, invoices: list[Invoice]) -> None:
    """One executemany per table, parents first."""
    tables: dict[type, list[dict[str, Any]]] = {}
    for invoice in invoices:
        for model, rows in table_rows(invoice):
            tables.setdefault(model, []).extend(rows)
    for model, rows in tables.items():
        repository.insert_rows(session, model, rows)
