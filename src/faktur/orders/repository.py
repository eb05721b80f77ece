"""SQL for orders, always scoped by organisation.

Invoiced quantities are read from the live invoice lines that reference an order's lines
(source_kind 'order_line'), less what credit notes credited of those lines (credit_note_lines
.credited_quantity, with the discount share their pro-rata allowances took back): a credited
quantity is invoiceable again. A line credited in full is no longer live (like a voided
invoice's), so its credit notes are not subtracted twice. Quantities are summed in Python
because SQLite stores exact decimals as text, which SQL's SUM would turn into floats.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, and_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from faktur.models import CreditNoteLine, Customer, InvoiceLine, Order, OrderLine
from faktur.paging import Cursor
from faktur.sql import newest_first

SOURCE_KIND = "order_line"
# Keeps IN lists far below SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 1000


def _chunks(ids: Sequence[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


@dataclass
class Billed:
    """What live invoices bill of one order line, less what credit notes credited of it: the
    quantity, and the sum of the discount shares (the line allowances faktur put on those invoice
    lines, less the shares the credit notes' pro-rata allowances took back) in the order currency."""

    quantity: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)


def get(session: Session, organisation_id: uuid.UUID, order_id: uuid.UUID) -> Order | None:
    stmt = select(Order).where(Order.organisation_id == organisation_id, Order.id == order_id)
    order = session.execute(stmt).scalar_one_or_none()
    if order is not None:
        _load_lines(session, organisation_id, [order])
    return order


def lock_for_invoicing(
    session: Session, organisation_id: uuid.UUID, order_id: uuid.UUID
) -> tuple[Order, Customer] | None:
    """The order, locked, with its lines and its customer, in one statement: invoicing an order
    needs all three, and on PostgreSQL each statement is a round trip. The order row is the lock
    that serialises invoicing of one order on PostgreSQL (FOR UPDATE OF orders; SQLite holds the
    database write lock already): remaining quantities are read after it is held."""
    stmt = (
        select(Order, Customer, OrderLine)
        .join(Customer, and_(Customer.organisation_id == organisation_id, Customer.id == Order.customer_id))
        .outerjoin(
            OrderLine, and_(OrderLine.organisation_id == organisation_id, OrderLine.order_id == Order.id)
        )
        .where(Order.organisation_id == organisation_id, Order.id == order_id)
        .order_by(OrderLine.position)
        .with_for_update(of=Order)
        .execution_options(populate_existing=True)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return None
    order, customer = rows[0][0], rows[0][1]
    set_committed_value(order, "lines", [line for _, _, line in rows if line is not None])
    return order, customer


def _load_lines(session: Session, organisation_id: uuid.UUID, orders: Sequence[Order]) -> None:
    """Load the lines of `orders` with one query that filters on the organisation, so it uses the
    (organisation_id, order_id) index; selectinload would filter on order_id alone and scan."""
    by_order: dict[uuid.UUID, list[OrderLine]] = {order.id: [] for order in orders}
    for chunk in _chunks(list(by_order)):
        stmt = (
            select(OrderLine)
            .where(OrderLine.organisation_id == organisation_id, OrderLine.order_id.in_(chunk))
            .order_by(OrderLine.order_id, OrderLine.position)
        )
        for line in session.execute(stmt).scalars():
            by_order[line.order_id].append(line)
    for order in orders:
        set_committed_value(order, "lines", by_order[order.id])


def list_page(
    session: Session,
    organisation_id: uuid.UUID,
    limit: int,
    cursor: Cursor | None,
    customer_id: uuid.UUID | None,
) -> list[Order]:
    stmt = select(Order).where(Order.organisation_id == organisation_id)
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    stmt = newest_first(stmt, Order, cursor, limit)
    orders = list(session.execute(stmt).scalars())
    _load_lines(session, organisation_id, orders)
    return orders


def external_reference_taken(session: Session, organisation_id: uuid.UUID, reference: str) -> bool:
    stmt = select(Order.id).where(
        Order.organisation_id == organisation_id, Order.external_reference == reference
    )
    return session.execute(stmt.limit(1)).first() is not None


# source_id, quantity, allowances, invoice_id, created_at of an invoice line billing an order line.
_LiveLine = Row[uuid.UUID, Decimal, list[dict[str, Any]], uuid.UUID, datetime]


def _live_lines(
    session: Session, organisation_id: uuid.UUID, line_ids: Sequence[uuid.UUID], *, live_only: bool
) -> Iterator[_LiveLine]:
    """Invoice lines billing the given order lines, looked up through the
    (organisation_id, source_kind, source_id) index."""
    for chunk in _chunks(line_ids):
        stmt = select(
            InvoiceLine.source_id,
            InvoiceLine.quantity,
            InvoiceLine.allowances,
            InvoiceLine.invoice_id,
            InvoiceLine.created_at,
        ).where(
            InvoiceLine.organisation_id == organisation_id,
            InvoiceLine.source_kind == SOURCE_KIND,
            InvoiceLine.source_id.in_(chunk),
        )
        if live_only:
            stmt = stmt.where(InvoiceLine.live == True)  # noqa: E712
        # source_id is nullable, but not on the lines of these order lines (source_id IN chunk).
        yield from cast(Iterator[_LiveLine], session.execute(stmt))


# source_id, credited quantity, allowances, charges of a credit note line crediting an order's line.
_CreditedLine = Row[uuid.UUID, Decimal, list[dict[str, Any]], list[dict[str, Any]]]


def _credited_lines(
    session: Session, organisation_id: uuid.UUID, line_ids: Sequence[uuid.UUID]
) -> Iterator[_CreditedLine]:
    """Credit note lines crediting the live invoice lines of the given order lines (through the
    (organisation_id, invoice_line_id) index of credit note lines)."""
    for chunk in _chunks(line_ids):
        stmt = (
            select(
                InvoiceLine.source_id,
                CreditNoteLine.credited_quantity,
                CreditNoteLine.allowances,
                CreditNoteLine.charges,
            )
            .join(
                CreditNoteLine,
                and_(
                    CreditNoteLine.organisation_id == organisation_id,
                    CreditNoteLine.invoice_line_id == InvoiceLine.id,
                ),
            )
            .where(
                InvoiceLine.organisation_id == organisation_id,
                InvoiceLine.source_kind == SOURCE_KIND,
                InvoiceLine.source_id.in_(chunk),
                InvoiceLine.live == True,  # noqa: E712
            )
        )
        yield from cast(Iterator[_CreditedLine], session.execute(stmt))


def _amounts(adjustments: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(a["amount"]) for a in adjustments if a.get("amount")), Decimal(0))


def billed(session: Session, organisation_id: uuid.UUID, orders: Iterable[Order]) -> dict[uuid.UUID, Billed]:
    """Per order line id: quantity and discount shares on live invoice lines, less what credit
    notes credited of those lines."""
    line_ids = [line.id for order in orders for line in order.lines]
    result: dict[uuid.UUID, Billed] = defaultdict(Billed)
    for source_id, quantity, allowances, _invoice, _created in _live_lines(
        session, organisation_id, line_ids, live_only=True
    ):
        entry = result[source_id]
        entry.quantity += quantity
        entry.discount += _amounts(allowances)
    # Two statements: on PostgreSQL a credit note may commit between them (credit notes lock the
    # invoice, not the order). It can only make this answer too high (a line read live, then no
    # longer live, with its credits no longer subtracted), never too low: invoicing an order
    # never takes more than was ordered.
    for source_id, credited, allowances, charges in _credited_lines(session, organisation_id, line_ids):
        entry = result[source_id]
        entry.quantity -= credited
        # A quantity credit takes back its share of the discount as an allowance (a charge when
        # rounding went the other way); a price reduction credits no quantity and no share.
        entry.discount -= _amounts(allowances) - _amounts(charges)
    return result


def invoice_ids(
    session: Session, organisation_id: uuid.UUID, orders: Iterable[Order]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Per order id: the invoices billing any of its lines (void ones too), oldest first."""
    order_of = {line.id: order.id for order in orders for line in order.lines}
    rows = sorted(
        (created, invoice_id, order_of[source_id])
        for source_id, _q, _a, invoice_id, created in _live_lines(
            session, organisation_id, list(order_of), live_only=False
        )
    )
    result: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for _created, invoice_id, order_id in rows:
        if invoice_id not in result[order_id]:
            result[order_id].append(invoice_id)
    return result


def add(session: Session, order: Order) -> None:
    session.add(order)
    session.flush()
