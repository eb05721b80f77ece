"""SQL for customers, always scoped by organisation."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from faktur.http.pagination import Cursor
from faktur.models import Customer


def get(session: Session, organisation_id: uuid.UUID, customer_id: uuid.UUID) -> Customer | None:
    return session.execute(
        select(Customer).where(Customer.organisation_id == organisation_id, Customer.id == customer_id)
    ).scalar_one_or_none()


def list_page(
    session: Session, organisation_id: uuid.UUID, limit: int, cursor: Cursor | None, email: str | None = None
) -> list[Customer]:
    stmt = select(Customer).where(Customer.organisation_id == organisation_id)
    if email is not None:
        stmt = stmt.where(Customer.email == email)
    if cursor is not None:
        stmt = stmt.where(
            or_(
                Customer.created_at < cursor.created_at,
                and_(Customer.created_at == cursor.created_at, Customer.id < cursor.id),
            )
        )
    stmt = stmt.order_by(Customer.created_at.desc(), Customer.id.desc()).limit(limit + 1)
    return list(session.execute(stmt).scalars())


def add(session: Session, customer: Customer) -> None:
    session.add(customer)
    session.flush()
