"""HTTP endpoints: POST /v1/invoices/{id}/send, GET /v1/invoices/{id}/sends, and the same for
credit notes (POST /v1/credit-notes/{id}/send, GET /v1/credit-notes/{id}/sends)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import APIRouter, Body, Request
from sqlalchemy.orm import Session

from faktur.auth import CurrentPrincipal
from faktur.context import Principal
from faktur.http.deps import NowDep, SessionDep
from faktur.http.routing import TransactionalRoute
from faktur.models import InvoiceSend, Organisation
from faktur.sending import service
from faktur.sending.schemas import SendIn, SendList, SendOut

router = APIRouter(prefix="/v1/invoices", tags=["e-mail"], route_class=TransactionalRoute)
credit_note_router = APIRouter(prefix="/v1/credit-notes", tags=["e-mail"], route_class=TransactionalRoute)


_NOT_SENDABLE = {
    "description": "`email_recipient_missing`, `email_sender_missing`, a document that cannot be "
    "rendered (`document_data_missing`), or invalid addresses"
}


class RequestSend(Protocol):
    """service.request_send (of an invoice) or service.request_credit_note_send."""

    def __call__(
        self,
        session: Session,
        organisation: Organisation,
        document_id: uuid.UUID,
        command: service.SendCommand,
        now: datetime,
        /,
        *,
        email_configured: bool,
        smtp_from: str | None,
    ) -> InvoiceSend: ...


def _command(body: SendIn | None) -> service.SendCommand:
    body = body or SendIn()
    return service.SendCommand(to=tuple(body.to) if body.to else None, cc=tuple(body.cc))


def _send(
    request_send: RequestSend,
    document_id: uuid.UUID,
    request: Request,
    principal: Principal,
    session: Session,
    now: datetime,
    body: SendIn | None,
) -> SendOut:
    """Queue the e-mail of an invoice or a credit note (`request_send` of the service) with the
    server's e-mail settings."""
    settings = request.app.state.settings
    send = request_send(
        session,
        principal.organisation,
        document_id,
        _command(body),
        now,
        email_configured=bool(settings.smtp_url),
        smtp_from=settings.smtp_from,
    )
    return SendOut.of(send)


def _send_list(sends: Sequence[InvoiceSend]) -> SendList:
    return SendList(data=[SendOut.of(send) for send in sends])


@router.post(
    "/{invoice_id}/send",
    status_code=202,
    response_model=SendOut,
    responses={
        409: {"description": "`email_not_configured` (no FAKTUR_SMTP_URL) or `invoice_not_final` (a draft)"},
        422: _NOT_SENDABLE,
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
    return _send(service.request_send, invoice_id, request, principal, session, now, body)


@router.get("/{invoice_id}/sends", response_model=SendList, summary="The e-mails of an invoice")
def list_sends(invoice_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> SendList:
    return _send_list(service.list_sends(session, principal.organisation_id, invoice_id))


@credit_note_router.post(
    "/{credit_note_id}/send",
    status_code=202,
    response_model=SendOut,
    responses={
        409: {"description": "`email_not_configured` (no FAKTUR_SMTP_URL)"},
        422: _NOT_SENDABLE,
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
    return _send(service.request_credit_note_send, credit_note_id, request, principal, session, now, body)


@credit_note_router.get(
    "/{credit_note_id}/sends", response_model=SendList, summary="The e-mails of a credit note"
)
def list_credit_note_sends(
    credit_note_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> SendList:
    return _send_list(service.list_credit_note_sends(session, principal.organisation_id, credit_note_id))
