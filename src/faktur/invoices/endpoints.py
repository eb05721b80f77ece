"""HTTP endpoints of /v1/invoices: thin wrappers over invoices.service."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body

from faktur.auth import CurrentPrincipal
from faktur.customers import service as customers
from faktur.http.deps import NowDep, SessionDep
from faktur.http.pagination import (
    CreatedBeforeQuery,
    CreatedFromQuery,
    CursorQuery,
    LimitQuery,
    Page,
    after,
    page,
)
from faktur.http.reads import adopt, before_writing
from faktur.http.routing import ComputingRoute, TransactionalRoute, UnitOfWorkDep
from faktur.invoices import commands, payments, service
from faktur.invoices.presenters import present_invoice, present_preview
from faktur.invoices.repository import InvoiceFilters
from faktur.invoices.schemas import (
    InvoiceCreate,
    InvoiceOut,
    InvoicePreviewOut,
    InvoiceStatus,
    InvoiceUpdate,
    PaymentCreate,
    TransitionIn,
)
from faktur.invoices.snapshots import customer_snapshot

router = APIRouter(prefix="/v1/invoices", tags=["invoices"], route_class=TransactionalRoute)


@router.post(
    "",
    status_code=201,
    response_model=InvoiceOut,
    summary="Create an invoice (a draft, or issued at once with finalize: true)",
)
def create_invoice(
    body: InvoiceCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    uow: UnitOfWorkDep,
    now: NowDep,
) -> InvoiceOut:
    actor, command = principal.as_actor(), commands.new_invoice(body)
    with before_writing(uow.request, session) as reads:
        customer, holds_credit = customers.get_customer_for_invoicing(
            reads, actor.organisation_id, command.customer_id
        )
    issuing = service.create_invoice_numbered_last(
        session, actor, command, now, customer=adopt(session, customer), customer_holds_credit=holds_credit
    )
    uow.before_commit(issuing.take_number)
    return issuing.presented


def preview_invoice(
    body: InvoiceCreate, principal: CurrentPrincipal, session: SessionDep
) -> InvoicePreviewOut:
    customer, computed = service.preview_invoice(session, principal.as_actor(), commands.new_invoice(body))
    return present_preview(customer, computed, customer_snapshot(customer))


# Stores nothing: reads (never waits for SQLite's write lock) and claims no Idempotency-Key.
router.add_api_route(
    "/preview",
    preview_invoice,
    methods=["POST"],
    response_model=InvoicePreviewOut,
    summary="Compute an invoice without storing anything",
    route_class_override=ComputingRoute,
)


@router.get("", response_model=Page[InvoiceOut], summary="List invoices, newest first")
def list_invoices(
    principal: CurrentPrincipal,
    session: SessionDep,
    customer_id: uuid.UUID | None = None,
    status: InvoiceStatus | None = None,
    created_from: CreatedFromQuery = None,
    created_before: CreatedBeforeQuery = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[InvoiceOut]:
    filters = InvoiceFilters(
        customer_id=customer_id,
        status=status.value if status else None,
        created_from=created_from,
        created_before=created_before,
    )
    rows, has_more = service.list_invoices(session, principal.organisation_id, filters, limit, after(cursor))
    return page(rows, has_more, [present_invoice(i) for i in rows])


@router.get("/{invoice_id}", response_model=InvoiceOut, summary="Get an invoice")
def get_invoice(invoice_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> InvoiceOut:
    return present_invoice(service.get_invoice(session, principal.organisation_id, invoice_id))


@router.patch("/{invoice_id}", response_model=InvoiceOut, summary="Edit a draft invoice")
def update_invoice(
    invoice_id: uuid.UUID, body: InvoiceUpdate, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> InvoiceOut:
    edit = commands.invoice_edit(body)
    return present_invoice(service.update_invoice(session, principal.as_actor(), invoice_id, edit, now))


@router.post("/{invoice_id}/finalize", response_model=InvoiceOut, summary="Number and issue a draft")
def finalize_invoice(
    invoice_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    uow: UnitOfWorkDep,
    now: NowDep,
) -> InvoiceOut:
    issuing = service.finalize_invoice_numbered_last(session, principal.as_actor(), invoice_id, now)
    uow.before_commit(issuing.take_number)
    return issuing.presented


@router.post(
    "/{invoice_id}/mark-uncollectible",
    response_model=InvoiceOut,
    summary="Mark an open invoice uncollectible",
)
def mark_uncollectible(
    invoice_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    body: Annotated[TransitionIn | None, Body()] = None,
) -> InvoiceOut:
    reason = body.reason if body else None
    return present_invoice(service.mark_uncollectible(session, principal.as_actor(), invoice_id, now, reason))


@router.post(
    "/{invoice_id}/payments",
    status_code=201,
    response_model=InvoiceOut,
    summary="Record a payment (partial and over-payments allowed)",
)
def record_payment(
    invoice_id: uuid.UUID, body: PaymentCreate, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> InvoiceOut:
    payment = commands.new_payment(body)
    return present_invoice(payments.record_payment(session, principal.as_actor(), invoice_id, payment, now))
