"""Operations of e-mailing invoices and credit notes (services flush, never commit): ask for a send,
queue the sends of finalized invoices and issued credit notes (from their committed
invoice.finalized and credit_note.issued events), list sends, and gather what a send carries.
Nothing is sent here: a send is a row written in the caller's transaction, delivered afterwards by
faktur.sending.delivery."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from faktur.credit_notes import service as credit_notes
from faktur.customers import service as customers
from faktur.documents import service as documents
from faktur.documents.profiles import Profile, Syntax
from faktur.events.types import EventType
from faktur.invoices import service as invoices
from faktur.models import CreditNote, Invoice, InvoiceSend, Organisation
from faktur.sending import repository
from faktur.sending.errors import EmailNotConfigured, RecipientMissing, SenderMissing, SendOfDraft

REQUESTED = "request"
ON_FINALIZATION = "finalized"
# invoice.finalized and credit_note.issued events checked per pass of the outbox loop (one transaction).
FINALIZED_BATCH = 200
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


def credit_note_documents(
    session: Session, credit_note: CreditNote, invoice: Invoice, now: datetime
) -> list[documents.Document]:
    """As `invoice_documents`, for a credit note: its PDF (Factur-X where the invoice's would be)
    and, for xrechnung and peppol customers, its UBL CreditNote; stored on first use."""
    organisation_id = credit_note.organisation_id
    pdf = documents.get_credit_note_pdf(session, organisation_id, credit_note.id, Profile.EN16931, None, now)
    customer = customers.get_customer(session, organisation_id, invoice.customer_id)
    if customer.einvoice_profile not in XML_PROFILES:
        return [pdf]
    profile = Profile(customer.einvoice_profile)
    xml = documents.get_credit_note_xml(session, organisation_id, credit_note.id, Syntax.UBL, profile, now)
    return [pdf, xml]


def _new_send(
    organisation_id: uuid.UUID,
    invoice_id: uuid.UUID | None,
    to: Sequence[str],
    cc: Sequence[str],
    trigger: str,
    sender: str | None,
    now: datetime,
    credit_note_id: uuid.UUID | None = None,
) -> InvoiceSend:
    send_id = uuid.uuid4()
    return InvoiceSend(
        id=send_id,
        organisation_id=organisation_id,
        invoice_id=invoice_id,
        credit_note_id=credit_note_id,
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


def _recipients(
    session: Session, organisation: Organisation, customer_id: uuid.UUID, command: SendCommand
) -> tuple[str, ...]:
    if command.to is not None:
        return command.to
    customer = customers.get_customer(session, organisation.id, customer_id)
    if not customer.email:
        raise RecipientMissing()
    return (customer.email,)


def _sender(organisation: Organisation, smtp_from: str | None) -> str:
    sender = sender_address(organisation, smtp_from)
    if sender is None:
        raise SenderMissing()
    return sender


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
    sender = _sender(organisation, smtp_from)
    to = _recipients(session, organisation, invoice.customer_id, command)
    send = _new_send(invoice.organisation_id, invoice.id, to, command.cc, REQUESTED, sender, now)
    repository.add(session, send)
    invoice_documents(session, invoice, now)
    return send


def request_credit_note_send(
    session: Session,
    organisation: Organisation,
    credit_note_id: uuid.UUID,
    command: SendCommand,
    now: datetime,
    *,
    email_configured: bool,
    smtp_from: str | None,
) -> InvoiceSend:
    """Queue an e-mail of a credit note (always issued), by the rules of `request_send`: to the
    customer of the invoice it corrects unless `to` is given; documents rendered and stored now."""
    credit_note = credit_notes.get_credit_note(session, organisation.id, credit_note_id)
    if not email_configured:
        raise EmailNotConfigured()
    invoice = invoices.get_invoice(session, organisation.id, credit_note.invoice_id)
    sender = _sender(organisation, smtp_from)
    to = _recipients(session, organisation, invoice.customer_id, command)
    send = _new_send(
        organisation.id, None, to, command.cc, REQUESTED, sender, now, credit_note_id=credit_note.id
    )
    repository.add(session, send)
    credit_note_documents(session, credit_note, invoice, now)
    return send


def wants_email_on_finalization(organisation_setting: bool, customer_setting: bool | None) -> bool:
    return organisation_setting if customer_setting is None else customer_setting


def _invoice_sends(
    session: Session, invoice_ids: set[uuid.UUID], smtp_from: str | None, now: datetime
) -> tuple[list[InvoiceSend], set[uuid.UUID]]:
    """The sends of these finalized invoices, and the invoices that were voided meanwhile."""
    sends: list[InvoiceSend] = []
    voided: set[uuid.UUID] = set()
    for row in repository.finalization_recipients(session, invoice_ids) if invoice_ids else ():
        invoice_id, organisation_id, status, email, customer_wants, organisation_wants, own_email = row
        # A draft cannot have been finalized; an invoice voided meanwhile is not sent.
        if status == "void":
            voided.add(invoice_id)
        if status in ("draft", "void") or not email:
            continue
        if not wants_email_on_finalization(organisation_wants, customer_wants):
            continue
        sender = smtp_from or own_email
        sends.append(_new_send(organisation_id, invoice_id, [email], [], ON_FINALIZATION, sender, now))
    return sends, voided


def _credit_note_sends(
    session: Session,
    credit_note_ids: set[uuid.UUID],
    unsent_invoices: set[uuid.UUID],
    smtp_from: str | None,
    now: datetime,
) -> list[InvoiceSend]:
    """As `_invoice_sends`, under the same settings (a credit note is always issued), but for the
    credit notes of `unsent_invoices`: voided before the loop saw them, they were never e-mailed,
    and the customer gets no correction of an invoice they never got. (Only when both events fall
    in one pass, as they do unless a full batch parts them; then the correction is sent.)"""
    sends: list[InvoiceSend] = []
    for row in repository.credit_note_recipients(session, credit_note_ids) if credit_note_ids else ():
        credit_note_id, organisation_id, invoice_id, email, customer_wants, organisation_wants, own_email = (
            row
        )
        if invoice_id in unsent_invoices or not email:
            continue
        if not wants_email_on_finalization(organisation_wants, customer_wants):
            continue
        sender = smtp_from or own_email
        sends.append(
            _new_send(organisation_id, None, [email], [], ON_FINALIZATION, sender, now, credit_note_id)
        )
    return sends


def queue_finalized_sends(
    session: Session, now: datetime, *, smtp_from: str | None, limit: int = FINALIZED_BATCH
) -> int:
    """Queue the e-mails of invoices whose invoice.finalized event, and of credit notes whose
    credit_note.issued event, has committed and not been checked yet, when the customer (or else
    the organisation) asks for it and the customer has an address; every path that finalizes or
    issues records that event in its transaction. A credit note's send is the one
    `request_credit_note_send` queues with no `to`. The events are marked checked in this
    transaction, with the sends: each document is queued exactly once, by one outbox loop (the
    events are locked, other loops skip them), and a pass that dies leaves its events to the next.
    The setting and address are read now, after the finalization committed, so the finalizing
    transaction never reads the customer for it. Returns how many events were checked."""
    events = repository.lock_unchecked_events(session, limit)
    if not events:
        return 0
    invoice_ids = {object_id for _, type_, object_id in events if type_ == EventType.INVOICE_FINALIZED}
    credit_note_ids = {object_id for _, type_, object_id in events if type_ == EventType.CREDIT_NOTE_ISSUED}
    # The events of one pass are in commit order: an invoice's invoice.finalized comes before the
    # credit_note.issued of the credit note that voided it (in one transaction with the void).
    sends, voided = _invoice_sends(session, invoice_ids, smtp_from, now)
    sends += _credit_note_sends(session, credit_note_ids, voided, smtp_from, now)
    repository.add_all(session, sends)
    repository.mark_email_checked(session, [seq for seq, _, _ in events])
    return len(events)


def list_sends(session: Session, organisation_id: uuid.UUID, invoice_id: uuid.UUID) -> Sequence[InvoiceSend]:
    invoices.get_invoice(session, organisation_id, invoice_id)
    return repository.list_for_invoice(session, organisation_id, invoice_id)


def list_credit_note_sends(
    session: Session, organisation_id: uuid.UUID, credit_note_id: uuid.UUID
) -> Sequence[InvoiceSend]:
    credit_notes.get_credit_note(session, organisation_id, credit_note_id)
    return repository.list_for_credit_note(session, organisation_id, credit_note_id)
