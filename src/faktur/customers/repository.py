"""SQL for customers, always scoped by organisation."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from faktur.models import Customer
from faktur.paging import Cursor
from faktur.sql import newest_first

# Built once (looked up on every invoice request).
_ONE = select(Customer).where(
    Customer.organisation_id == bindparam("organisation_id"), Customer.id == bindparam("customer_id")
)


def get(session: Session, organisation_id: uuid.UUID, customer_id: uuid.UUID) -> Customer | None:
    return session.execute(
        _ONE, {"organisation_id": organisation_id, "customer_id": customer_id}
    ).scalar_one_or_none()


def get_many(
    session: Session, organisation_id: uuid.UUID, customer_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Customer]:
    """The organisation's customers among `customer_ids`, by id (others' ids are simply absent)."""
    wanted = sorted(set(customer_ids))
    found: dict[uuid.UUID, Customer] = {}
    # In slices, so a large batch stays under the databases' bound-parameter limits.
    for first in range(0, len(wanted), 5000):
        stmt = select(Customer).where(
            Customer.organisation_id == organisation_id, Customer.id.in_(wanted[first : first + 5000])
        )
        found.update((customer.id, customer) for customer in session.execute(stmt).scalars())
    return found


def list_page(
    session: Session, organisation_id: uuid.UUID, limit: int, cursor: Cursor | None, email: str | None = None
) -> list[Customer]:
    stmt = select(Customer).where(Customer.organisation_id == organisation_id)
    if email is not None:
        stmt = stmt.where(Customer.email == email)
    stmt = newest_first(stmt, Customer, cursor, limit)
    return list(session.execute(stmt).scalars())


def add(session: Session, customer: Customer) -> None:
    session.add(customer)
    session.flush()
