"""SQL for pending invoice items, always scoped by organisation.

An item is attachable while no live invoice line bills it (source_kind 'invoice_item'); the
partial unique index uq_invoice_lines_live_item answers that question and keeps it true.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

from sqlalchemy import Exists, delete, exists, select
from sqlalchemy.orm import Session

from faktur.models import InvoiceItem, InvoiceLine
from faktur.paging import Cursor
from faktur.sql import newest_first

SOURCE_KIND = "invoice_item"
# Keeps IN lists far below SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 1000


def _chunks(ids: Sequence[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _attached() -> Exists:
    # `live = true` (not `live IS true`) so PostgreSQL can use the partial unique index.
    return exists().where(
        InvoiceLine.organisation_id == InvoiceItem.organisation_id,
        InvoiceLine.source_kind == SOURCE_KIND,
        InvoiceLine.source_id == InvoiceItem.id,
        InvoiceLine.live == True,  # noqa: E712
    )


def get(
    session: Session, organisation_id: uuid.UUID, item_id: uuid.UUID, *, for_update: bool = False
) -> InvoiceItem | None:
    stmt = select(InvoiceItem).where(
        InvoiceItem.organisation_id == organisation_id, InvoiceItem.id == item_id
    )
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.execute(stmt).scalar_one_or_none()


def list_page(
    session: Session,
    organisation_id: uuid.UUID,
    limit: int,
    cursor: Cursor | None,
    *,
    customer_id: uuid.UUID | None,
    contract_id: uuid.UUID | None,
    attachable: bool | None,
) -> list[InvoiceItem]:
    stmt = select(InvoiceItem).where(InvoiceItem.organisation_id == organisation_id)
    if customer_id is not None:
        stmt = stmt.where(InvoiceItem.customer_id == customer_id)
    if contract_id is not None:
        stmt = stmt.where(InvoiceItem.contract_id == contract_id)
    if attachable is not None:
        stmt = stmt.where(~_attached() if attachable else _attached())
    stmt = newest_first(stmt, InvoiceItem, cursor, limit)
    return list(session.execute(stmt).scalars())


def existing_ids(session: Session, organisation_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for chunk in _chunks(ids):
        stmt = select(InvoiceItem.id).where(
            InvoiceItem.organisation_id == organisation_id, InvoiceItem.id.in_(chunk)
        )
        found.update(session.execute(stmt).scalars())
    return found


def live_invoices(
    session: Session, organisation_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Item id -> the live invoice billing it, for the given items that are invoiced."""
    found: dict[uuid.UUID, uuid.UUID] = {}
    for chunk in _chunks(ids):
        stmt = select(InvoiceLine.source_id, InvoiceLine.invoice_id).where(
            InvoiceLine.organisation_id == organisation_id,
            InvoiceLine.source_kind == SOURCE_KIND,
            InvoiceLine.live == True,  # noqa: E712
            InvoiceLine.source_id.in_(chunk),
        )
        rows = session.execute(stmt)
        found.update({source_id: invoice_id for source_id, invoice_id in rows if source_id is not None})
    return found


def lock_attachable(
    session: Session,
    organisation_id: uuid.UUID,
    *,
    customer_id: uuid.UUID | None,
    contract_id: uuid.UUID | None,
    ids: Sequence[uuid.UUID] | None,
) -> list[InvoiceItem]:
    """Lock the items in scope that look attachable, in id order.

    The order is what keeps concurrent gathers from deadlocking: each waits for the first row the
    other holds instead of both holding part. A waiter gets its rows once the other commits, so
    the caller must re-check attachability after this returns (live_invoices).
    """
    stmt = select(InvoiceItem).where(InvoiceItem.organisation_id == organisation_id, ~_attached())
    if customer_id is not None:
        stmt = stmt.where(InvoiceItem.customer_id == customer_id)
    if contract_id is not None:
        stmt = stmt.where(InvoiceItem.contract_id == contract_id)
    if ids is not None:
        stmt = stmt.where(InvoiceItem.id.in_(list(ids)))
    stmt = (
        stmt.order_by(InvoiceItem.id)
        .with_for_update(of=InvoiceItem)
        .execution_options(populate_existing=True)
    )
    return list(session.execute(stmt).scalars())


def add(session: Session, item: InvoiceItem) -> None:
    session.add(item)
    session.flush()


def delete_item(session: Session, organisation_id: uuid.UUID, item_id: uuid.UUID) -> None:
    session.execute(
        delete(InvoiceItem).where(InvoiceItem.organisation_id == organisation_id, InvoiceItem.id == item_id)
    )
