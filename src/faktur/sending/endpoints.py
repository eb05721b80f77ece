"""HTTP endpoints: POST /v1/invoices/{id}/send, GET /v1/invoices/{id}/sends, and the same for
credit notes (POST /v1/credit-notes/{id}/send, GET /v1/credit-notes/{id}/sends)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Request

from faktur.auth import CurrentPrincipal
from faktur.http.deps import NowDep, SessionDep
from faktur.http.routing import TransactionalRoute
from faktur.sending import service
from faktur.sending.schemas import SendIn, SendList, SendOut

router = APIRouter(prefix="/v1/invoices", tags=["e-mail"], route_class=TransactionalRoute)
credit_note_router = APIRouter(prefix="/v1/credit-notes", tags=["e-mail"], route_class=TransactionalRoute)


def _command(body: SendIn | None) -> service.SendCommand:
    body = body or SendIn()
    return service.SendCommand(to=tuple(body.to) if body.to else None, cc=tuple(body.cc))


@router.post(
    "/{invoice_id}/send",
    status_code=202,
    response_model=SendOut,
    responses={
        409: {"description": "`email_not_configured` (no FAKTUR_SMTP_URL) or `invoice_not_final` (a draft)"},
        422: {
            "description": "`email_recipient_missing`, `email_sender_missing`, a document that cannot be "
            "rendered (`document_data_missing`), or invalid addresses"
        },
    },
    summary="E-mail an issued invoice (queued: sent after the request commits)",
)
def send_invoice(
    invoice_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    body: Annotated[SendIn | None, Body()] = None,
) -> SendOut:
    settings = request.app.state.settings
    send = service.request_send(
        session,
        principal.organisation,
        invoice_id,
        _command(body),
        now,
        email_configured=bool(settings.smtp_url),
        smtp_from=settings.smtp_from,
    )
    return SendOut.of(send)


@router.get("/{invoice_id}/sends", response_model=SendList, summary="The e-mails of an invoice")
def list_sends(invoice_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> SendList:
    sends = service.list_sends(session, principal.organisation_id, invoice_id)
    return SendList(data=[SendOut.of(send) for send in sends])


@credit_note_router.post(
    "/{credit_note_id}/send",
    status_code=202,
    response_model=SendOut,
    responses={
        409: {"description": "`email_not_configured` (no FAKTUR_SMTP_URL)"},
        422: {
            "description": "`email_recipient_missing`, `email_sender_missing`, a document that cannot be "
            "rendered (`document_data_missing`), or invalid addresses"
        },
    },
    summary="E-mail a credit note (queued: sent after the request commits)",
    description="By the rules of POST /v1/invoices/{id}/send: to `to` (and `cc`) or the customer's "
    "e-mail; the credit note's PDF attached (Factur-X where the invoice's would be) and, for "
    "xrechnung and peppol customers, its UBL CreditNote; subject and body in the customer's "
    "language, naming the credit note and the invoice it corrects.",
)
def send_credit_note(
    credit_note_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    body: Annotated[SendIn | None, Body()] = None,
) -> SendOut:
    settings = request.app.state.settings
    send = service.request_credit_note_send(
        session,
        principal.organisation,
        credit_note_id,
        _command(body),
        now,
        email_configured=bool(settings.smtp_url),
        smtp_from=settings.smtp_from,
    )
    return SendOut.of(send)


@credit_note_router.get(
    "/{credit_note_id}/sends", response_model=SendList, summary="The e-mails of a credit note"
)
def list_credit_note_sends(
    credit_note_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> SendList:
    sends = service.list_credit_note_sends(session, principal.organisation_id, credit_note_id)
    return SendList(data=[SendOut.of(send) for send in sends])
