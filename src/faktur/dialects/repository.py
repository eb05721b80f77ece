"""SQL of the dialects: their rows about invoices, and records found by the vendor's ids."""

from __future__ import annotations

import contextlib
import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from faktur.models import Order
from faktur.models.dialect import DialectInvoice
from faktur.numbering import repository as numbering


def find_order(session: Session, organisation_id: uuid.UUID, reference: str) -> Order | None:
    """An order by its faktur id or its external reference (vendors know orders by theirs)."""
    condition = Order.external_reference == reference
    with contextlib.suppress(ValueError):  # not a UUID: only the external reference can match
        condition = or_(condition, Order.id == uuid.UUID(reference))
    stmt = select(Order).where(Order.organisation_id == organisation_id, condition)
    # An external reference that is also another order's id: the exact id wins.
    rows = list(session.execute(stmt.limit(2)).scalars())
    exact = [order for order in rows if str(order.id) == reference.lower()]
    return exact[0] if exact else (rows[0] if rows else None)


def get_by_invoice(
    session: Session, organisation_id: uuid.UUID, dialect: str, invoice_id: uuid.UUID
) -> DialectInvoice | None:
    stmt = select(DialectInvoice).where(
        DialectInvoice.organisation_id == organisation_id,
        DialectInvoice.dialect == dialect,
        DialectInvoice.invoice_id == invoice_id,
    )
    return session.execute(stmt).scalar_one_or_none()


def add(session: Session, row: DialectInvoice) -> None:
    session.add(row)
    session.flush()


def next_public_id(session: Session, organisation_id: uuid.UUID, dialect: str) -> int:
    """The next integer id of `dialect`'s invoices, from a counter row of the numbering tables
    (one UPDATE ... RETURNING in the caller's transaction, so ids are unique and gapless)."""
    return numbering.reserve(session, organisation_id, f"dialect:{dialect}", "", 1)
