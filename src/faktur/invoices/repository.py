"""SQL for invoices, always scoped by organisation (except the outbox loop's look for overdue invoices,
which works across organisations)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Insert, delete, exists, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from faktur.events.types import EventType
from faktur.invoices.domain import InvoiceStatus
from faktur.models import Event, Invoice, InvoiceEvent, InvoiceLine, InvoiceTaxGroup, Payment
from faktur.models.base import Base, table_of
from faktur.paging import Cursor
from faktur.sql import newest_first

_FULL = (
    selectinload(Invoice.lines),
    selectinload(Invoice.tax_groups),
    selectinload(Invoice.events),
    selectinload(Invoice.payments),
    selectinload(Invoice.credit_notes),
)


@dataclass(frozen=True)
class InvoiceFilters:
    customer_id: uuid.UUID | None = None
    status: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None


def get(
    session: Session, organisation_id: uuid.UUID, invoice_id: uuid.UUID, *, for_update: bool = False
) -> Invoice | None:
    stmt = (
        select(Invoice)
        .where(Invoice.organisation_id == organisation_id, Invoice.id == invoice_id)
        .options(*_FULL)
    )
    if for_update:
        # Row lock on PostgreSQL (SQLite already holds the database write lock): concurrent
        # finalizations or payments of one invoice run one after the other.
        stmt = stmt.with_for_update(of=Invoice).execution_options(populate_existing=True)
    return session.execute(stmt).scalar_one_or_none()


def get_many(session: Session, organisation_id: uuid.UUID, invoice_ids: Sequence[uuid.UUID]) -> list[Invoice]:
    """The organisation's invoices among `invoice_ids` with lines, tax groups, events and payments."""
    found: dict[uuid.UUID, Invoice] = {}
    ids = list(invoice_ids)
    # In slices, so a large batch stays under the databases' bound-parameter limits.
    for first in range(0, len(ids), 5000):
        stmt = (
            select(Invoice)
            .where(Invoice.organisation_id == organisation_id, Invoice.id.in_(ids[first : first + 5000]))
            .options(*_FULL)
        )
        found.update((invoice.id, invoice) for invoice in session.execute(stmt).scalars())
    return [found[i] for i in ids if i in found]


def list_page(
    session: Session, organisation_id: uuid.UUID, filters: InvoiceFilters, limit: int, cursor: Cursor | None
) -> list[Invoice]:
    stmt = select(Invoice).where(Invoice.organisation_id == organisation_id).options(*_FULL)
    if filters.customer_id is not None:
        stmt = stmt.where(Invoice.customer_id == filters.customer_id)
    if filters.status is not None:
        stmt = stmt.where(Invoice.status == filters.status)
    if filters.created_from is not None:
        stmt = stmt.where(Invoice.created_at >= filters.created_from)
    if filters.created_before is not None:
        stmt = stmt.where(Invoice.created_at < filters.created_before)
    stmt = newest_first(stmt, Invoice, cursor, limit)
    return list(session.execute(stmt).scalars())


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


def number_taken(session: Session, organisation_id: uuid.UUID, number: str) -> bool:
    stmt = select(Invoice.id).where(Invoice.organisation_id == organisation_id, Invoice.number == number)
    return session.execute(stmt.limit(1)).first() is not None


@cache
def _insert_into(model: type[Base]) -> Insert:
    return table_of(model).insert()


def insert_rows(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """One table-level executemany of column-keyed rows (bulk writes of new invoices)."""
    if rows:
        session.execute(_insert_into(model), rows)


def delete_lines_and_tax_groups(session: Session, organisation_id: uuid.UUID, invoice_id: uuid.UUID) -> None:
    for model in (InvoiceLine, InvoiceTaxGroup):
        session.execute(
            delete(model).where(model.organisation_id == organisation_id, model.invoice_id == invoice_id)
        )


_COLUMN_KEYS: dict[type, tuple[tuple[str, str], ...]] = {}


def _column_keys(model: type) -> tuple[tuple[str, str], ...]:
    """(column name, attribute name) of a mapped class; looked up once per class."""
    keys = _COLUMN_KEYS.get(model)
    if keys is None:
        mapper: Mapper[Any] = sa_inspect(model)
        keys = _COLUMN_KEYS[model] = tuple((attr.columns[0].key, attr.key) for attr in mapper.column_attrs)
    return keys


def _row(obj: object) -> dict[str, Any]:
    """Column name -> value of a new mapped object, for a table-level INSERT."""
    values = obj.__dict__  # loaded attributes of a new object: every column was set on it
    return {column: values.get(attr) for column, attr in _column_keys(type(obj))}


def insert_new(session: Session, invoices: Sequence[Invoice]) -> None:
    """Write new invoices built in memory (faktur.invoices.rows) with their lines, tax groups,
    status events and payments (from the customer's balance): one executemany per table,
    parents first. Nothing enters the session."""
    tables: dict[type, list[dict[str, Any]]] = {
        Invoice: [],
        InvoiceLine: [],
        InvoiceTaxGroup: [],
        InvoiceEvent: [],
        Payment: [],
    }
    for invoice in invoices:
        tables[Invoice].append(_row(invoice))
        tables[InvoiceLine] += [_row(line) for line in invoice.lines]
        tables[InvoiceTaxGroup] += [_row(group) for group in invoice.tax_groups]
        tables[InvoiceEvent] += [_row(event) for event in invoice.events]
        tables[Payment] += [_row(payment) for payment in invoice.payments]
    for model, rows in tables.items():
        insert_rows(session, model, rows)


def attach(session: Session, invoice: Invoice) -> None:
    """Put a new invoice written by insert_new (and its children) into the session as persistent
    rows, so later changes to it are flushed as UPDATEs. The unit of work would otherwise spend
    more time on these few rows than everything else in creating an invoice."""
    for row in (invoice, *invoice.lines, *invoice.tax_groups, *invoice.events, *invoice.payments):
        make_transient_to_detached(row)
    session.add(invoice)


def replace_lines(
    session: Session, invoice: Invoice, lines: list[InvoiceLine], tax_groups: list[InvoiceTaxGroup]
) -> None:
    """Store a draft's new lines and tax groups with one bulk INSERT each, then hand the same
    objects to the invoice as its loaded collections."""
    for old in [*invoice.lines, *invoice.tax_groups]:
        session.expunge(old)
    delete_lines_and_tax_groups(session, invoice.organisation_id, invoice.id)
    insert_rows(session, InvoiceLine, [_row(line) for line in lines])
    insert_rows(session, InvoiceTaxGroup, [_row(group) for group in tax_groups])
    set_committed_value(invoice, "lines", lines)
    set_committed_value(invoice, "tax_groups", tax_groups)


def overdue_unannounced(session: Session, today: date, limit: int) -> list[Invoice]:
    """Up to `limit` open invoices of any organisation due before `today` without an
    invoice.overdue event yet, the longest overdue first (off the partial index
    ix_invoices_open_due: the open invoices only, not every invoice)."""
    # One probe of the partial unique index uq_events_overdue_object per candidate.
    announced = exists().where(
        Event.organisation_id == Invoice.organisation_id,
        Event.object_id == Invoice.id,
        Event.type == EventType.INVOICE_OVERDUE.value,
    )
    stmt = (
        select(Invoice)
        .where(Invoice.status == InvoiceStatus.OPEN.value, Invoice.due_date < today, ~announced)
        .order_by(Invoice.due_date, Invoice.id)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())
