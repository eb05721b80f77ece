"""Delivering queued e-mails: `deliver_due_sends` takes the sends that are due, sends each over SMTP
outside any database transaction, and records what the server answered.

Each send is claimed first (a short transaction that counts the attempt and pushes its next attempt
past a lease), so a second sender (another replica, `faktur worker`) skips it, and a sender that
dies mid-way leaves it to be retried when the lease runs out: at least once, with the same
Message-ID every time. 4xx answers and connection trouble are retried with growing delays; 5xx
answers fail the send with the server's answer.

The outbox loop (faktur.outbox) calls `deliver_due_sends` as one of its drains, in the service's
thread or in `faktur worker`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from jinja2 import TemplateError
from sqlalchemy.orm import Session, sessionmaker

from faktur.calc import from_minor
from faktur.config import Settings
from faktur.db import session_scope
from faktur.documents import service as documents_service
from faktur.documents.pdf.render import Formatter
from faktur.errors import FakturError
from faktur.hosted.links import hosted_url
from faktur.hosted.service import amount_due
from faktur.models import CreditNote, Invoice, InvoiceSend, Organisation
from faktur.sending import repository, service
from faktur.sending.mailer import SmtpOutcome, Verdict, send_message
from faktur.sending.message import Attachment, build_message
from faktur.sending.smtp_url import SmtpServer, parse_smtp_url
from faktur.sending.templates import CreditNoteValues, EmailValues, render_credit_note_email, render_email

logger = logging.getLogger("faktur.sending")

# After the n-th temporary refusal the send is retried after RETRY_DELAYS[n-1]; past the last, it fails.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=24),
)
# A claimed send is someone's for this long; then it is due again (its sender died).
CLAIM_LEASE = timedelta(minutes=10)
_MAX_ANSWER = 2000
# A send is found by (organisation_id, id), its primary key.
SendKey = tuple[uuid.UUID, uuid.UUID]


@dataclass(frozen=True)
class DeliveryConfig:
    server: SmtpServer
    smtp_from: str | None
    public_url: str


@dataclass(frozen=True)
class Content:
    """What the e-mail of one document says and carries."""

    subject: str
    body: str
    seller: str
    documents: list[documents_service.Document]


@dataclass(frozen=True)
class Prepared:
    send_id: uuid.UUID
    message: EmailMessage
    recipients: list[str]


def delivery_config(settings: Settings) -> DeliveryConfig | None:
    """How to deliver, from the settings; None without FAKTUR_SMTP_URL (an invalid one raises)."""
    if not settings.smtp_url:
        return None
    public_url = settings.public_url or f"http://{settings.host}:{settings.port}"
    return DeliveryConfig(parse_smtp_url(settings.smtp_url), settings.smtp_from, public_url)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _claim(factory: sessionmaker[Session], now: datetime, limit: int) -> list[SendKey]:
    with session_scope(factory) as session:
        due = repository.lock_due(session, now, limit)
        for send in due:
            send.attempts += 1
            send.next_attempt_at = now + CLAIM_LEASE
            send.updated_at = now
        return [(send.organisation_id, send.id) for send in due]


def _values(invoice: Invoice, organisation: Organisation, config: DeliveryConfig) -> EmailValues:
    buyer = invoice.customer_snapshot
    locale = str(buyer.get("locale") or "en").replace("-", "_")
    fmt = Formatter(locale, invoice.currency)
    return EmailValues(
        number=invoice.number or "",
        seller=_seller(invoice, organisation),
        customer=str(buyer.get("name") or ""),
        amount_due=fmt.money(amount_due(invoice)),
        due_date=fmt.date(invoice.due_date) if invoice.due_date else "",
        link=hosted_url(invoice.organisation_id, invoice.hosted_token or "", base_url=config.public_url),
    )


def _seller(invoice: Invoice, organisation: Organisation) -> str:
    seller = invoice.seller_snapshot or {}
    return str(seller.get("trading_name") or seller.get("legal_name") or organisation.legal_name)


def _credit_note_values(
    credit_note: CreditNote, invoice: Invoice, organisation: Organisation
) -> CreditNoteValues:
    """The parties and language are those frozen for the invoice it corrects, as on its PDF."""
    buyer = invoice.customer_snapshot
    locale = str(buyer.get("locale") or "en").replace("-", "_")
    fmt = Formatter(locale, credit_note.currency)
    return CreditNoteValues(
        title=fmt["full_cancellation" if credit_note.full_cancellation else "credit_note"],
        number=credit_note.number or "",
        invoice_number=invoice.number or "",
        seller=_seller(invoice, organisation),
        customer=str(buyer.get("name") or ""),
        total=fmt.money(from_minor(credit_note.total_minor, credit_note.currency)),
    )


def _content(
    session: Session, send: InvoiceSend, organisation: Organisation, config: DeliveryConfig, now: datetime
) -> Content:
    """What the e-mail of the send's invoice or credit note; FakturError when its
    documents cannot be rendered, TemplateError when the organisation's texts cannot."""
    if send.credit_note_id is not None:
        credit_note = session.get(CreditNote, (send.organisation_id, send.credit_note_id))
        assert credit_note is not None  # foreign key, ON DELETE CASCADE
        invoice = session.get(Invoice, (send.organisation_id, credit_note.invoice_id))
        assert invoice is not None
        documents = service.credit_note_documents(session, credit_note, invoice, now)
        locale = str(invoice.customer_snapshot.get("locale") or "en")
        cn_values = _credit_note_values(credit_note, invoice, organisation)
        subject, body = render_credit_note_email(locale, cn_values)
        return Content(subject, body, cn_values.seller, documents)
    invoice = session.get(Invoice, (send.organisation_id, send.invoice_id))
    assert invoice is not None  # foreign key, ON DELETE CASCADE
    documents = service.invoice_documents(session, invoice, now)
    values = _values(invoice, organisation, config)
    locale = str(invoice.customer_snapshot.get("locale") or "en")
    subject, body = render_email(locale, values, organisation.email_subject, organisation.email_body)
    return Content(subject, body, values.seller, documents)


def _fail(send: InvoiceSend, answer: str, now: datetime) -> None:
    send.status = repository.FAILED
    send.server_answer = answer[:_MAX_ANSWER]
    send.updated_at = now


def _prepare(
    factory: sessionmaker[Session], key: SendKey, config: DeliveryConfig, now: datetime
) -> Prepared | None:
    """Build the message in its own transaction (documents are stored on first use); a send whose
    invoice or credit note cannot be put in an e-mail fails here, with the reason."""
    with session_scope(factory) as session:
        send = repository.get(session, *key)
        if send is None or send.status != repository.QUEUED:
            return None
        organisation = session.get(Organisation, send.organisation_id)
        assert organisation is not None  # foreign key, ON DELETE CASCADE
        sender = service.sender_address(organisation, config.smtp_from)
        if sender is None:
            _fail(send, "no sender address: set the organisation's email or FAKTUR_SMTP_FROM", now)
            return None
        try:
            content = _content(session, send, organisation, config, now)
        except FakturError as exc:
            _fail(send, f"{exc.code}: {exc.message}", now)
            return None
        except TemplateError as exc:  # templates are checked when saved; this is the last guard
            _fail(send, f"the organisation's e-mail template cannot be rendered: {exc}", now)
            return None
        attachments = [Attachment(d.filename, d.content_type, d.content) for d in content.documents]
        send.subject = content.subject[:1000]
        send.attachments = [
            {"kind": d.kind.value, "profile": d.profile, "filename": d.filename, "sha256": d.sha256}
            for d in content.documents
        ]
        message = build_message(
            sender=sender,
            sender_name=content.seller,
            reply_to=organisation.email,
            to=send.to_addresses,
            cc=send.cc_addresses,
            subject=content.subject,
            body=content.body,
            message_id=send.message_id,
            date=now,
            attachments=attachments,
        )
        return Prepared(send.id, message, [*send.to_addresses, *send.cc_addresses])


def _record(factory: sessionmaker[Session], key: SendKey, outcome: SmtpOutcome, now: datetime) -> None:
    with session_scope(factory) as session:
        send = repository.get(session, *key)
        assert send is not None
        send.server_answer = outcome.answer[:_MAX_ANSWER]
        send.updated_at = now
        if outcome.verdict is Verdict.ACCEPTED:
            send.status = repository.SENT
            send.sent_at = now
        elif outcome.verdict is Verdict.PERMANENT or send.attempts > len(RETRY_DELAYS):
            send.status = repository.FAILED
        else:
            send.next_attempt_at = now + RETRY_DELAYS[send.attempts - 1]


def deliver_due_sends(
    session_factory: sessionmaker[Session],
    config: DeliveryConfig,
    clock: Callable[[], datetime] = _utcnow,
    limit: int = 20,
) -> int:
    """Send every queued e-mail that is due (up to `limit`); returns how many were attempted."""
    claimed = _claim(session_factory, clock(), limit)
    for key in claimed:
        prepared = _prepare(session_factory, key, config, clock())
        if prepared is None:
            continue
        outcome = send_message(config.server, prepared.message, prepared.recipients)
        _record(session_factory, key, outcome, clock())
        logger.info("send %s: %s (%s)", key[1], outcome.verdict.value, outcome.answer)
    return len(claimed)
