"""Operations of e-mailing invoices (services flush, never commit): ask for a send, queue the send
on finalization, list sends, and gather what a send carries. Nothing is sent here: a send is a row
written in the caller's transaction, delivered afterwards by faktur.sending.delivery."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from faktur.customers import service as customers
from faktur.documents import service as documents
from faktur.documents.profiles import Profile, Syntax
from faktur.invoices import service as invoices
from faktur.models import Invoice, InvoiceSend, Organisation
from faktur.sending import repository
from faktur.sending.errors import EmailNotConfigured, RecipientMissing, SenderMissing, SendOfDraft

REQUESTED = "request"
ON_FINALIZATION = "finalized"
# Customers whose e-invoice profile means they want the XML too (Peppol BIS is UBL only).
XML_PROFILES = frozenset({Profile.XRECHNUNG.value, Profile.PEPPOL.value})


@dataclass(frozen=True)
class SendCommand:
    """Who gets the e-mail: `to` None means the customer's e-mail address."""

    to: tuple[str, ...] | None = None
    cc: tuple[str, ...] = ()


def sender_address(organisation: Organisation, smtp_from: str | None) -> str | None:
    return smtp_from or organisation.email


def _message_id(send_id: uuid.UUID, sender: str | None) -> str:
    domain = sender.rsplit("@", 1)[1] if sender and "@" in sender else "faktur.invalid"
    return f"<{send_id}@{domain}>"


def invoice_documents(session: Session, invoice: Invoice, now: datetime) -> list[documents.Document]:
    """The PDF (Factur-X where it applies) and, for xrechnung and peppol customers, their UBL:
    stored on first use, so the e-mail carries the same bytes as every later download."""
    pdf = documents.get_pdf(session, invoice.organisation_id, invoice.id, Profile.EN16931, None, now)
    customer = customers.get_customer(session, invoice.organisation_id, invoice.customer_id)
    if customer.einvoice_profile not in XML_PROFILES:
        return [pdf]
    profile = Profile(customer.einvoice_profile)
    return [pdf, documents.get_xml(session, invoice.organisation_id, invoice.id, Syntax.UBL, profile, now)]


def _new_send(
    invoice: Invoice, to: Sequence[str], cc: Sequence[str], trigger: str, sender: str | None, now: datetime
) -> InvoiceSend:
    send_id = uuid.uuid4()
    return InvoiceSend(
        id=send_id,
        organisation_id=invoice.organisation_id,
        invoice_id=invoice.id,
        created_at=now,
        updated_at=now,
        status=repository.QUEUED,
        to_addresses=list(to),
        cc_addresses=list(cc),
        trigger=trigger,
        message_id=_message_id(send_id, sender),
        attachments=[],
        attempts=0,
        next_attempt_at=now,
    )


def request_send(
    session: Session,
    organisation: Organisation,
    invoice_id: uuid.UUID,
    command: SendCommand,
    now: datetime,
    *,
    email_configured: bool,
    smtp_from: str | None,
) -> InvoiceSend:
    """Queue an e-mail of an issued invoice. Its documents are rendered (and stored) now, so what
    cannot be rendered is refused here; the row and the documents commit or roll back together."""
    invoice = invoices.get_invoice(session, organisation.id, invoice_id)
    if not email_configured:
        raise EmailNotConfigured()
    if invoice.status == "draft":
        raise SendOfDraft(invoice.id)
    sender = sender_address(organisation, smtp_from)
    if sender is None:
        raise SenderMissing()
    to = command.to
    if to is None:
        customer = customers.get_customer(session, organisation.id, invoice.customer_id)
        if not customer.email:
            raise RecipientMissing()
        to = (customer.email,)
    send = _new_send(invoice, to, command.cc, REQUESTED, sender, now)
    repository.add(session, send)
    invoice_documents(session, invoice, now)
    return send


def wants_email_on_finalization(organisation: Organisation, customer_setting: bool | None) -> bool:
    return organisation.email_on_finalize if customer_setting is None else customer_setting


def queue_on_finalization(
    session: Session, organisation: Organisation, invoice: Invoice, now: datetime, *, smtp_from: str | None
) -> InvoiceSend | None:
    """Queue the e-mail of a just finalized invoice when the customer (or else the organisation)
    asks for it and the customer has an address. Its documents are rendered when it is delivered,
    outside the finalizing request."""
    customer = customers.get_customer(session, organisation.id, invoice.customer_id)
    if not customer.email or not wants_email_on_finalization(organisation, customer.email_on_finalize):
        return None
    send = _new_send(
        invoice, [customer.email], [], ON_FINALIZATION, sender_address(organisation, smtp_from), now
    )
    repository.add(session, send)
    return send


def list_sends(session: Session, organisation_id: uuid.UUID, invoice_id: uuid.UUID) -> Sequence[InvoiceSend]:
    invoices.get_invoice(session, organisation_id, invoice_id)
    return repository.list_for_invoice(session, organisation_id, invoice_id)
