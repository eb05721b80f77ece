"""Operations on customers (services flush, never commit)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from faktur.customers import repository
from faktur.customers.errors import CustomerNotFound
from faktur.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate
from faktur.errors import FieldCannotBeCleared
from faktur.events.service import record_event
from faktur.events.types import EventType
from faktur.models import Customer
from faktur.paging import Cursor


def get_customer(session: Session, organisation_id: uuid.UUID, customer_id: uuid.UUID) -> Customer:
    customer = repository.get(session, organisation_id, customer_id)
    if customer is None:
        raise CustomerNotFound(customer_id)
    return customer


def get_customer_for_invoicing(
    session: Session, organisation_id: uuid.UUID, customer_id: uuid.UUID
) -> tuple[Customer, bool]:
    """The customer, and whether it holds credit now (for faktur.invoices.batch.InvoiceRequest)."""
    found = repository.get_for_invoicing(session, organisation_id, customer_id)
    if found is None:
        raise CustomerNotFound(customer_id)
    return found


def create_customer(
    session: Session, organisation_id: uuid.UUID, data: CustomerCreate, now: datetime
) -> Customer:
    values = data.model_dump(exclude_none=True, exclude={"metadata", "payment_means"})
    customer = Customer(
        id=uuid.uuid4(),
        organisation_id=organisation_id,
        created_at=now,
        updated_at=now,
        metadata_=data.metadata or {},
        payment_means=data.payment_means.stored() if data.payment_means else None,
        **values,
    )
    customer.locale = customer.locale or "en"
    repository.add(session, customer)
    record_event(session, organisation_id, EventType.CUSTOMER_CREATED, CustomerOut.of(customer), now=now)
    return customer


def update_customer(
    session: Session, organisation_id: uuid.UUID, customer_id: uuid.UUID, data: CustomerUpdate, now: datetime
) -> Customer:
    customer = get_customer(session, organisation_id, customer_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for required in ("name", "locale"):
        if required in changes and changes[required] is None:
            raise FieldCannotBeCleared(required)
    if "metadata" in changes:
        customer.metadata_ = changes.pop("metadata") or {}
    if "payment_means" in changes:
        changes.pop("payment_means")
        customer.payment_means = data.payment_means.stored() if data.payment_means else None
    for field, value in changes.items():
        setattr(customer, field, value)
    customer.updated_at = now
    session.flush()
    record_event(session, organisation_id, EventType.CUSTOMER_UPDATED, CustomerOut.of(customer), now=now)
    return customer


def list_customers(
    session: Session, organisation_id: uuid.UUID, limit: int, cursor: Cursor | None, email: str | None
) -> tuple[list[Customer], bool]:
    rows = repository.list_page(session, organisation_id, limit, cursor, email)
    return rows[:limit], len(rows) > limit
