"""HTTP endpoints of /v1/customers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from faktur.auth import CurrentPrincipal
from faktur.customers import service
from faktur.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate
from faktur.fields import Text
from faktur.http.deps import NowDep, SessionDep
from faktur.http.pagination import CursorQuery, LimitQuery, Page, after, page
from faktur.http.routing import TransactionalRoute

EmailFilter = Annotated[str, Text(254)]

router = APIRouter(prefix="/v1/customers", tags=["customers"], route_class=TransactionalRoute)


@router.post("", status_code=201, response_model=CustomerOut, summary="Create a customer")
def create_customer(
    body: CustomerCreate, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> CustomerOut:
    return CustomerOut.of(service.create_customer(session, principal.organisation_id, body, now))


@router.get("", response_model=Page[CustomerOut], summary="List customers, newest first")
def list_customers(
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    email: Annotated[EmailFilter | None, Query()] = None,
) -> Page[CustomerOut]:
    rows, has_more = service.list_customers(session, principal.organisation_id, limit, after(cursor), email)
    return page(rows, has_more, [CustomerOut.of(c) for c in rows])


@router.get("/{customer_id}", response_model=CustomerOut, summary="Get a customer")
def get_customer(customer_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> CustomerOut:
    return CustomerOut.of(service.get_customer(session, principal.organisation_id, customer_id))


@router.patch("/{customer_id}", response_model=CustomerOut, summary="Update a customer")
def update_customer(
    customer_id: uuid.UUID,
    body: CustomerUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
) -> CustomerOut:
    return CustomerOut.of(service.update_customer(session, principal.organisation_id, customer_id, body, now))
