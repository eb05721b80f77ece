"""SQL for invoices, always scoped by organisation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Insert, delete, select
from sqlalchemy.orm import Session, selectinload

from faktur.http.pagination import Cursor
from faktur.models import Invoice, InvoiceLine, InvoiceTaxGroup
from faktur.models.base import Base, table_of
from faktur.sql import newest_first

_FULL = (
    selectinload(Invoice.lines),
    selectinload(Invoice.tax_groups),
    selectinload(Invoice.events),
    selectinload(Invoice.payments),
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
