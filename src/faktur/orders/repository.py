"""SQL for orders, always scoped by organisation.

Invoiced quantities are read from the live invoice lines that reference an order's lines
(source_kind 'order_line'); they are summed in Python because SQLite stores exact decimals as
text, which SQL's SUM would turn into floats.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from faktur.http.pagination import Cursor
from faktur.models import InvoiceLine, Order, OrderLine

SOURCE_KIND = "order_line"


@dataclass
class Billed:
    """What live invoices bill of one order line: the quantity, and the sum of the discount shares
    (the line allowances faktur put on those invoice lines) in the order currency."""

    quantity: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)


def get(
    session: Session, organisation_id: uuid.UUID, order_id: uuid.UUID, *, for_update: bool = False
) -> Order | None:
    stmt = (
        select(Order)
        .where(Order.organisation_id == organisation_id, Order.id == order_id)
        .options(selectinload(Order.lines))
    )
    if for_update:
        # The order row is the lock that serialises invoicing of one order on PostgreSQL (SQLite
        # holds the database write lock already): remaining quantities are read after it is held.
        stmt = stmt.with_for_update(of=Order).execution_options(populate_existing=True)
    return session.execute(stmt).scalar_one_or_none()


def list_page(
    session: Session,
    organisation_id: uuid.UUID,
    limit: int,
    cursor: Cursor | None,
    customer_id: uuid.UUID | None,
) -> list[Order]:
    stmt = select(Order).where(Order.organisation_id == organisation_id).options(selectinload(Order.lines))
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if cursor is not None:
        stmt = stmt.where(
            or_(
                Order.created_at < cursor.created_at,
                and_(Order.created_at == cursor.created_at, Order.id < cursor.id),
            )
        )
    stmt = stmt.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit + 1)
    return list(session.execute(stmt).scalars())


def external_reference_taken(session: Session, organisation_id: uuid.UUID, reference: str) -> bool:
    stmt = select(Order.id).where(
        Order.organisation_id == organisation_id, Order.external_reference == reference
    )
    return session.execute(stmt.limit(1)).first() is not None


def _lines_of(organisation_id: uuid.UUID, order_ids: Iterable[uuid.UUID]):  # type: ignore[no-untyped-def]
    return (
        select(InvoiceLine)
        .join(OrderLine, OrderLine.id == InvoiceLine.source_id)
        .where(
            InvoiceLine.organisation_id == organisation_id,
            InvoiceLine.source_kind == SOURCE_KIND,
            OrderLine.organisation_id == organisation_id,
            OrderLine.order_id.in_(list(order_ids)),
        )
    )


def billed(
    session: Session, organisation_id: uuid.UUID, order_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Billed]:
    """Per order line id: quantity and discount shares on live invoice lines."""
    stmt = _lines_of(organisation_id, order_ids).where(InvoiceLine.live.is_(True))
    stmt = stmt.with_only_columns(InvoiceLine.source_id, InvoiceLine.quantity, InvoiceLine.allowances)
    result: dict[uuid.UUID, Billed] = defaultdict(Billed)
    for source_id, quantity, allowances in session.execute(stmt):
        entry = result[source_id]
        entry.quantity += quantity
        entry.discount += sum((Decimal(a["amount"]) for a in allowances if a.get("amount")), Decimal(0))
    return result


def invoice_ids(
    session: Session, organisation_id: uuid.UUID, order_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Per order id: the invoices billing any of its lines (void ones too), oldest first."""
    stmt = (
        _lines_of(organisation_id, order_ids)
        .with_only_columns(OrderLine.order_id, InvoiceLine.invoice_id, InvoiceLine.created_at)
        .distinct()
        .order_by(InvoiceLine.created_at, InvoiceLine.invoice_id)
    )
    result: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for order_id, invoice_id, _created in session.execute(stmt):
        if invoice_id not in result[order_id]:
            result[order_id].append(invoice_id)
    return result


def add(session: Session, order: Order) -> None:
    session.add(order)
    session.flush()
