"""SQL for customers, always scoped by organisation."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from faktur.models import Customer, CustomerBalance
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


# Whether the customer holds credit in any currency (faktur.balance), read with the customer by
# those who issue invoices: for a customer without any, applying the balance then needs no
# statement of its own (faktur.balance.service.apply_to_new_invoices).
_HOLDS_CREDIT = (
    exists()
    .where(
        CustomerBalance.organisation_id == Customer.organisation_id,
        CustomerBalance.customer_id == Customer.id,
        CustomerBalance.balance_minor > 0,
    )
    .label("holds_credit")
)
_ONE_FOR_INVOICING = select(Customer, _HOLDS_CREDIT).where(
    Customer.organisation_id == bindparam("organisation_id"), Customer.id == bindparam("customer_id")
)


def get_for_invoicing(
    session: Session, organisation_id: uuid.UUID, customer_id: uuid.UUID
) -> tuple[Customer, bool] | None:
    """The customer and whether it holds credit now, in one statement."""
    row = session.execute(
        _ONE_FOR_INVOICING, {"organisation_id": organisation_id, "customer_id": customer_id}
    ).first()
    return (row[0], bool(row[1])) if row else None


def get_many_for_invoicing(
    session: Session, organisation_id: uuid.UUID, customer_ids: Iterable[uuid.UUID]
) -> tuple[dict[uuid.UUID, Customer], set[uuid.UUID]]:
    """The organisation's customers among `customer_ids`, by id (others' ids are simply absent),
    and the ids of those that hold credit now."""
    wanted = sorted(set(customer_ids))
    found: dict[uuid.UUID, Customer] = {}
    holding: set[uuid.UUID] = set()
    # In slices, so a large batch stays under the databases' bound-parameter limits.
    for first in range(0, len(wanted), 5000):
        stmt = select(Customer, _HOLDS_CREDIT).where(
            Customer.organisation_id == organisation_id, Customer.id.in_(wanted[first : first + 5000])
        )
        for customer, holds_credit in session.execute(stmt):
            found[customer.id] = customer
            if holds_credit:
                holding.add(customer.id)
    return found, holding


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
