"""HTTP endpoints of credit notes: issuing one for an invoice (and voiding a finalized invoice,
which issues one), reading them. Thin wrappers over credit_notes.service."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query

from faktur.auth import CurrentPrincipal
from faktur.credit_notes import commands, service
from faktur.credit_notes.presenters import present_credit_note, present_preview
from faktur.credit_notes.repository import CreditNoteFilters
from faktur.credit_notes.schemas import CreditNoteCreate, CreditNoteOut, CreditNotePreviewOut, VoidIn
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
from faktur.http.routing import ComputingRoute, TransactionalRoute
from faktur.invoices.presenters import present_invoice
from faktur.invoices.schemas import InvoiceOut

invoice_router = APIRouter(prefix="/v1/invoices", tags=["credit notes"], route_class=TransactionalRoute)
router = APIRouter(prefix="/v1/credit-notes", tags=["credit notes"], route_class=TransactionalRoute)
routers = (invoice_router, router)


@invoice_router.post(
    "/{invoice_id}/credit-notes",
    status_code=201,
    response_model=CreditNoteOut,
    summary="Issue a credit note for a finalized invoice (whole, by line quantity or amount, custom lines)",
)
def issue_credit_note(
    invoice_id: uuid.UUID,
    body: CreditNoteCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
) -> CreditNoteOut:
    command = commands.new_credit_note(body)
    note, invoice = service.issue_credit_note(session, principal.as_actor(), invoice_id, command, now)
    return present_credit_note(note, invoice)


def preview_credit_note(
    invoice_id: uuid.UUID,
    body: CreditNoteCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
) -> CreditNotePreviewOut:
    command = commands.new_credit_note(body)
    note, invoice, unsettled = service.preview_credit_note(
        session, principal.as_actor(), invoice_id, command, now
    )
    return present_preview(note, invoice, unsettled)


# Stores nothing: reads (never waits for SQLite's write lock) and claims no Idempotency-Key.
invoice_router.add_api_route(
    "/{invoice_id}/credit-notes/preview",
    preview_credit_note,
    methods=["POST"],
    response_model=CreditNotePreviewOut,
    summary="Compute a credit note without storing anything",
    route_class_override=ComputingRoute,
)


@invoice_router.post(
    "/{invoice_id}/void",
    response_model=InvoiceOut,
    summary="Void an invoice: a finalized one by a full cancellation credit note (paid part refunded "
    "or credited to the balance as the body says)",
)
def void_invoice(
    invoice_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    body: Annotated[VoidIn | None, Body()] = None,
) -> InvoiceOut:
    reason = body.reason if body else None
    command = commands.cancellation(body)
    return present_invoice(
        service.void_invoice(session, principal.as_actor(), invoice_id, command, now, reason)
    )


@router.get("", response_model=Page[CreditNoteOut], summary="List credit notes, newest first")
def list_credit_notes(
    principal: CurrentPrincipal,
    session: SessionDep,
    invoice_id: Annotated[uuid.UUID | None, Query(description="Only this invoice's")] = None,
    customer_id: Annotated[uuid.UUID | None, Query(description="Only this customer's")] = None,
    created_from: CreatedFromQuery = None,
    created_before: CreatedBeforeQuery = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[CreditNoteOut]:
    filters = CreditNoteFilters(
        invoice_id=invoice_id,
        customer_id=customer_id,
        created_from=created_from,
        created_before=created_before,
    )
    rows, has_more = service.list_credit_notes(
        session, principal.organisation_id, filters, limit, after(cursor)
    )
    return page(rows, has_more, [present_credit_note(note, note.invoice) for note in rows])


@router.get("/{credit_note_id}", response_model=CreditNoteOut, summary="Get a credit note")
def get_credit_note(
    credit_note_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> CreditNoteOut:
    note = service.get_credit_note(session, principal.organisation_id, credit_note_id)
    return present_credit_note(note, note.invoice)
