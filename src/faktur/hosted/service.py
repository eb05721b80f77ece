"""The hosted invoice page's operations: open an issued invoice by its token, serve its documents,
rotate its token. Services flush, never commit.

What the page shows comes from the same frozen snapshot as the PDF and the XML; only the amount
still due and the status are live (payments recorded after issue).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from faktur import calc
from faktur.customers import service as customers
from faktur.documents import service as documents
from faktur.documents.giro_code import giro_code_payload
from faktur.documents.profiles import Profile, Syntax, missing_fields, unrepresentable_text
from faktur.documents.snapshot import InvoiceSnapshot
from faktur.documents.snapshots_from_invoice import party_problems, snapshot_from_invoice
from faktur.hosted import repository
from faktur.hosted.errors import HostedDocumentNotAvailable, HostedLinkOfDraft, HostedPageNotFound
from faktur.hosted_token import hosted_token_sha256, new_hosted_token, tokens_match
from faktur.invoices import service as invoices
from faktur.models import Invoice

# Tokens are 43 characters; anything much longer is not worth hashing.
_MAX_TOKEN_LENGTH = 100
# The plain PDF and the Factur-X are both "the PDF"; the XML is UBL in the customer's profile.
PDF_PROFILE = Profile.EN16931


@dataclass(frozen=True)
class HostedInvoice:
    """What the page shows: the frozen document, the live status and amount due, how to pay."""

    snapshot: InvoiceSnapshot
    status: str
    amount_paid: Decimal
    amount_due: Decimal
    giro_code_payload: str | None
    has_xml: bool


def issued_invoice_by_token(session: Session, organisation: str, token: str) -> Invoice:
    """The issued invoice of the organisation (its id as the link spells it) whose hosted token is
    `token`; HostedPageNotFound for anything else."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise HostedPageNotFound()
    try:
        organisation_id = uuid.UUID(organisation)
    except ValueError:
        raise HostedPageNotFound() from None
    invoice = repository.invoice_by_token_sha256(session, organisation_id, hosted_token_sha256(token))
    if invoice is None or invoice.status == "draft" or not tokens_match(token, invoice.hosted_token or ""):
        raise HostedPageNotFound()
    return invoice


def _xml_profile(session: Session, invoice: Invoice) -> Profile:
    customer = customers.get_customer(session, invoice.organisation_id, invoice.customer_id)
    return Profile(customer.einvoice_profile) if customer.einvoice_profile else Profile.EN16931


def _snapshot(invoice: Invoice) -> InvoiceSnapshot:
    seller, buyer = invoice.seller_snapshot or {}, invoice.customer_snapshot
    if party_problems(seller, buyer):  # issued invoices always have both countries
        raise HostedPageNotFound()
    return snapshot_from_invoice(invoice, seller, buyer, draft_issue_date=invoice.created_at.date())


def amount_due(invoice: Invoice) -> Decimal:
    """What is still to pay now: nothing for void invoices, never below zero."""
    if invoice.status == "void":
        return Decimal(0)
    due = invoice.amount_due_minor
    return calc.from_minor(due, invoice.currency)


def hosted_invoice(session: Session, organisation: str, token: str) -> HostedInvoice:
    invoice = issued_invoice_by_token(session, organisation, token)
    snapshot = _snapshot(invoice)
    due = amount_due(invoice)
    profile = _xml_profile(session, invoice)
    has_xml = not (unrepresentable_text(snapshot) or missing_fields(snapshot, profile, Syntax.UBL))
    return HostedInvoice(
        snapshot=snapshot,
        status=invoice.status,
        amount_paid=calc.from_minor(invoice.amount_paid_minor, invoice.currency),
        amount_due=due,
        giro_code_payload=giro_code_payload(snapshot, due) if invoice.status == "open" else None,
        has_xml=has_xml,
    )


def hosted_pdf(session: Session, organisation: str, token: str, now: datetime) -> documents.Document:
    """The invoice's stored PDF (Factur-X where it applies), rendered and stored on first request."""
    invoice = issued_invoice_by_token(session, organisation, token)
    return documents.get_pdf(session, invoice.organisation_id, invoice.id, PDF_PROFILE, None, now)


def hosted_xml(session: Session, organisation: str, token: str, now: datetime) -> documents.Document:
    """The invoice's stored UBL e-invoice in the customer's profile."""
    invoice = issued_invoice_by_token(session, organisation, token)
    profile = _xml_profile(session, invoice)
    snapshot = _snapshot(invoice)
    if unrepresentable_text(snapshot) or missing_fields(snapshot, profile, Syntax.UBL):
        raise HostedDocumentNotAvailable()
    return documents.get_xml(session, invoice.organisation_id, invoice.id, Syntax.UBL, profile, now)


def rotate_hosted_link(session: Session, organisation_id: uuid.UUID, invoice_id: uuid.UUID) -> Invoice:
    """Give the invoice a new token: every link handed out before opens the 404 page from now on."""
    invoice = invoices.get_invoice(session, organisation_id, invoice_id, for_update=True)
    if invoice.status == "draft":
        raise HostedLinkOfDraft(invoice_id)
    token = new_hosted_token()
    invoice.hosted_token = token
    invoice.hosted_token_sha256 = hosted_token_sha256(token)
    session.flush()
    return invoice
