"""Invoice and credit-note documents as served: rendered once per (document, kind, profile), stored,
then served as stored.

Rendering is lazy: the first request for a document of a finalized invoice renders it from the invoice's
frozen snapshots and stores the bytes with their SHA-256; every later request (on any replica) serves
those bytes. Lazy rather than at finalization because most invoices are only ever fetched in one or two
of the eight kind/profile combinations, and a billing run should not spend its time drawing PDFs nobody
reads. A concurrent first request is settled by the table's unique key (insert-or-get). Credit notes
are served the same way (their own table, credit_note_documents): rendered at the first request from
the credit note's stored rows and the parties frozen for the invoice it corrects, then kept.

Drafts are rendered from the live organisation and customer and never stored; they have only a PDF
(with a DRAFT mark and no number), kept in memory until the draft changes (documents.draft_cache).
Services only flush; the route commits.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.orm import Session

from faktur.credit_notes import service as credit_notes
from faktur.customers import service as customers
from faktur.documents import repository
from faktur.documents.cii.builder import render_cii
from faktur.documents.draft_cache import DraftPdfCache
from faktur.documents.errors import (
    CurrencyNotSupported,
    DocumentDataMissing,
    DocumentTextNotRepresentable,
    InvoiceNotFinal,
)
from faktur.documents.facturx import render_facturx
from faktur.documents.pdf.render import render_pdf
from faktur.documents.profiles import MissingField, Profile, Syntax, missing_fields, unrepresentable_text
from faktur.documents.snapshot import InvoiceSnapshot
from faktur.documents.snapshots_from_credit_note import snapshot_from_credit_note
from faktur.documents.snapshots_from_invoice import party_problems, seller_is_in_eu, snapshot_from_invoice
from faktur.documents.ubl.builder import render_ubl
from faktur.invoices import service as invoices
from faktur.invoices.snapshots import customer_snapshot, seller_snapshot
from faktur.models import CreditNote, Invoice
from faktur.organisations import repository as organisations
from faktur.organisations.errors import OrganisationNotFound


class DocumentKind(StrEnum):
    PDF = "pdf"
    FACTURX = "facturx"
    UBL = "ubl"
    CII = "cii"


CONTENT_TYPES = {
    DocumentKind.PDF: "application/pdf",
    DocumentKind.FACTURX: "application/pdf",
    DocumentKind.UBL: "application/xml",
    DocumentKind.CII: "application/xml",
}
# The plain PDF does not depend on the e-invoice profile: it is stored once, under this name.
PLAIN_PDF_PROFILE = "none"
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Document:
    """Bytes to serve and how to label them; `sha256` is None for a draft (never stored)."""

    kind: DocumentKind
    profile: str
    content: bytes
    content_type: str
    filename: str
    sha256: str | None


class StoredDocumentCorrupted(RuntimeError):
    """A stored document no longer matches its SHA-256: serve nothing rather than altered bytes."""


class StoredRow(Protocol):
    """A stored document row (invoice_documents or credit_note_documents)."""

    content: bytes
    sha256: str


@dataclass(frozen=True)
class Owner:
    """The issued document whose files are stored: an invoice, or a credit note (its own table).

    `load` finds a stored (kind, profile) of it, `insert` stores one unless it exists (the table's
    unique key settles concurrent first renders); `column` names the owner in a stored row.
    """

    noun: str
    organisation_id: uuid.UUID
    id: uuid.UUID
    number: str | None
    column: str
    load: Callable[[Session, str, str], StoredRow | None]
    insert: Callable[[Session, dict[str, Any]], bool]


def invoice_owner(invoice: Invoice) -> Owner:
    return Owner(
        "invoice",
        invoice.organisation_id,
        invoice.id,
        invoice.number,
        "invoice_id",
        lambda session, kind, profile: repository.get(
            session, invoice.organisation_id, invoice.id, kind, profile
        ),
        repository.insert_if_absent,
    )


def _filename(owner: Owner, kind: DocumentKind) -> str:
    extension = "xml" if kind in (DocumentKind.UBL, DocumentKind.CII) else "pdf"
    if owner.number is None:
        return f"draft-{owner.id}.{extension}"
    # Number formats are the organisation's own ("INV/2026/7" is legal): keep file names portable.
    return f"{_UNSAFE_FILENAME.sub('_', owner.number)}.{extension}"


def _is_draft(invoice: Invoice) -> bool:
    return invoice.status == "draft"


def _require_final(invoice: Invoice, what: str) -> None:
    if _is_draft(invoice):
        raise InvoiceNotFinal(invoice.id, what)


def _raise_unrepresentable(problems: list[MissingField], what: str) -> None:
    """Text stored before input refused control characters: no e-invoice, but never a 500."""
    if problems:
        raise DocumentTextNotRepresentable(what, [{"field": p.field, "reason": p.reason} for p in problems])


def _raise_missing(problems: list[MissingField], what: str) -> None:
    if not problems:
        return
    details = [{"field": p.field, "reason": p.reason} for p in problems]
    currency = next((p for p in problems if p.field == "currency"), None)
    if currency is not None:
        raise CurrencyNotSupported(what, currency.reason, details)
    raise DocumentDataMissing(what, details)


def _parties(session: Session, invoice: Invoice) -> tuple[dict[str, Any], dict[str, Any]]:
    """The frozen copies for a finalized invoice; the current details for a draft (as finalizing would)."""
    if not _is_draft(invoice):
        return invoice.seller_snapshot or {}, invoice.customer_snapshot
    organisation = organisations.get(session, invoice.organisation_id)
    if organisation is None:
        raise OrganisationNotFound(invoice.organisation_id)
    customer = customers.get_customer(session, invoice.organisation_id, invoice.customer_id)
    return seller_snapshot(organisation), customer_snapshot(customer)


def _snapshot(session: Session, invoice: Invoice, now: datetime, what: str) -> InvoiceSnapshot:
    seller, buyer = _parties(session, invoice)
    _raise_missing(party_problems(seller, buyer), what)
    return snapshot_from_invoice(invoice, seller, buyer, draft_issue_date=now.date())


def _served(owner: Owner, kind: DocumentKind, profile: str, content: bytes, sha256: str) -> Document:
    if hashlib.sha256(content).hexdigest() != sha256:
        raise StoredDocumentCorrupted(
            f"The stored {kind.value} ({profile}) of {owner.noun} {owner.id} does not match its SHA-256."
        )
    return Document(kind, profile, content, CONTENT_TYPES[kind], _filename(owner, kind), sha256)


def _stored(session: Session, owner: Owner, kind: DocumentKind, profile: str) -> Document | None:
    row = owner.load(session, kind.value, profile)
    return None if row is None else _served(owner, kind, profile, row.content, row.sha256)


def _store(
    session: Session,
    owner: Owner,
    kind: DocumentKind,
    profile: str,
    render: Callable[[], bytes],
    now: datetime,
) -> Document:
    """Serve the stored document, or render, store and serve it; the first stored copy always wins."""
    stored = _stored(session, owner, kind, profile)
    if stored is not None:
        return stored
    content = render()
    sha256 = hashlib.sha256(content).hexdigest()
    inserted = owner.insert(
        session,
        {
            "id": uuid.uuid4(),
            "organisation_id": owner.organisation_id,
            owner.column: owner.id,
            "created_at": now,
            "kind": kind.value,
            "profile": profile,
            "content": content,
            "sha256": sha256,
            "content_type": CONTENT_TYPES[kind],
        },
    )
    if inserted:
        return _served(owner, kind, profile, content, sha256)
    # Another request stored it first (renders are deterministic, but serve its bytes regardless).
    winner = _stored(session, owner, kind, profile)
    if winner is None:  # pragma: no cover - the conflicting row cannot vanish inside our transaction
        raise RuntimeError(f"document {kind.value} of {owner.noun} {owner.id} conflicted but is not stored")
    return winner


def stored_xml(
    session: Session,
    owner: Owner,
    snapshot: Callable[[str], InvoiceSnapshot],
    syntax: Syntax,
    profile: Profile,
    now: datetime,
) -> Document:
    """The stored UBL or CII of an issued document, rendered from `snapshot(what)` and stored first
    when it is asked for the first time (422 when the profile needs what the snapshot lacks)."""
    kind = DocumentKind(Syntax(syntax).value)
    what = f"A {kind.value.upper()} e-invoice ({profile.value})"
    stored = _stored(session, owner, kind, profile.value)
    if stored is not None:
        return stored
    frozen = snapshot(what)
    _raise_unrepresentable(unrepresentable_text(frozen), what)
    _raise_missing(missing_fields(frozen, profile, syntax), what)
    render = render_ubl if kind == DocumentKind.UBL else render_cii
    return _store(session, owner, kind, profile.value, lambda: render(frozen, profile), now)


def stored_pdf(
    session: Session,
    owner: Owner,
    snapshot: Callable[[str], InvoiceSnapshot],
    seller_in_eu: bool,
    profile: Profile,
    embed: bool | None,
    now: datetime,
) -> Document:
    """The stored PDF of an issued document: Factur-X (the stored `profile` CII embedded) or plain,
    chosen as `get_pdf` describes; rendered and stored at the first request."""
    what = f"A Factur-X PDF ({profile.value})"
    frozen = None
    if embed or (embed is None and seller_in_eu):
        stored = _stored(session, owner, DocumentKind.FACTURX, profile.value)
        if stored is not None:
            return stored
        frozen = snapshot(what)
        unrepresentable = unrepresentable_text(frozen)
        problems = missing_fields(frozen, profile, Syntax.CII)
        if embed or not (unrepresentable or problems):
            _raise_unrepresentable(unrepresentable, what)
            _raise_missing(problems, what)
            facturx = frozen
            cii = _store(
                session, owner, DocumentKind.CII, profile.value, lambda: render_cii(facturx, profile), now
            )
            return _store(
                session,
                owner,
                DocumentKind.FACTURX,
                profile.value,
                # The embedded XML is the stored CII, byte for byte: the two can never disagree.
                lambda: render_facturx(facturx, cii.content, profile),
                now,
            )
    stored = _stored(session, owner, DocumentKind.PDF, PLAIN_PDF_PROFILE)
    if stored is not None:
        return stored
    plain = frozen or snapshot("A PDF")
    return _store(session, owner, DocumentKind.PDF, PLAIN_PDF_PROFILE, lambda: render_pdf(plain), now)


def get_xml(
    session: Session,
    organisation_id: uuid.UUID,
    invoice_id: uuid.UUID,
    syntax: Syntax,
    profile: Profile,
    now: datetime,
) -> Document:
    """The UBL or CII e-invoice of a finalized invoice in `profile`."""
    invoice = invoices.get_invoice(session, organisation_id, invoice_id)
    _require_final(invoice, f"A {Syntax(syntax).value.upper()} e-invoice ({profile.value})")
    return stored_xml(
        session,
        invoice_owner(invoice),
        lambda what: _snapshot(session, invoice, now, what),
        syntax,
        profile,
        now,
    )


def get_pdf(
    session: Session,
    organisation_id: uuid.UUID,
    invoice_id: uuid.UUID,
    profile: Profile,
    embed: bool | None,
    now: datetime,
    draft_pdfs: DraftPdfCache | None = None,
) -> Document:
    """The invoice PDF: Factur-X (the `profile` CII embedded) or plain.

    `embed=None` picks Factur-X for a finalized invoice of an EU seller when the invoice can be
    expressed in `profile` as CII, and the plain PDF otherwise (drafts, other sellers, KWD, data the
    profile needs but the frozen invoice lacks). `embed=True` insists: 409 for a draft, 422 listing
    what is missing. `embed=False` is always the plain PDF, the same for every profile. A draft's PDF
    comes from `draft_pdfs` when it was laid out before and has not changed since.
    """
    invoice = invoices.get_invoice(session, organisation_id, invoice_id)
    if embed:
        _require_final(invoice, f"A Factur-X PDF ({profile.value})")
    if _is_draft(invoice):
        draft = _snapshot(session, invoice, now, "A draft PDF")
        content = draft_pdfs.get_or_render(draft, render_pdf) if draft_pdfs else render_pdf(draft)
        return Document(
            DocumentKind.PDF,
            PLAIN_PDF_PROFILE,
            content,
            CONTENT_TYPES[DocumentKind.PDF],
            _filename(invoice_owner(invoice), DocumentKind.PDF),
            None,
        )
    return stored_pdf(
        session,
        invoice_owner(invoice),
        lambda what: _snapshot(session, invoice, now, what),
        seller_is_in_eu(invoice.seller_snapshot or {}),
        profile,
        embed,
        now,
    )


def credit_note_owner(credit_note: CreditNote) -> Owner:
    return Owner(
        "credit note",
        credit_note.organisation_id,
        credit_note.id,
        credit_note.number,
        "credit_note_id",
        lambda session, kind, profile: repository.get_credit_note_document(
            session, credit_note.organisation_id, credit_note.id, kind, profile
        ),
        repository.insert_credit_note_document_if_absent,
    )


def _credit_note(
    session: Session, organisation_id: uuid.UUID, credit_note_id: uuid.UUID
) -> tuple[CreditNote, Invoice]:
    credit_note = credit_notes.get_credit_note(session, organisation_id, credit_note_id)
    return credit_note, invoices.get_invoice(session, organisation_id, credit_note.invoice_id)


def credit_note_snapshot(credit_note: CreditNote, invoice: Invoice, what: str) -> InvoiceSnapshot:
    """The credit note's snapshot: its stored rows, the parties frozen for the invoice it corrects."""
    seller, buyer = invoice.seller_snapshot or {}, invoice.customer_snapshot
    _raise_missing(party_problems(seller, buyer), what)
    return snapshot_from_credit_note(credit_note, invoice, seller, buyer)


def get_credit_note_xml(
    session: Session,
    organisation_id: uuid.UUID,
    credit_note_id: uuid.UUID,
    syntax: Syntax,
    profile: Profile,
    now: datetime,
) -> Document:
    """The UBL 2.1 CreditNote or the CII (TypeCode 381) of a credit note in `profile`, stored at
    the first request like an invoice's."""
    credit_note, invoice = _credit_note(session, organisation_id, credit_note_id)
    return stored_xml(
        session,
        credit_note_owner(credit_note),
        lambda what: credit_note_snapshot(credit_note, invoice, what),
        syntax,
        profile,
        now,
    )


def get_credit_note_pdf(
    session: Session,
    organisation_id: uuid.UUID,
    credit_note_id: uuid.UUID,
    profile: Profile,
    embed: bool | None,
    now: datetime,
) -> Document:
    """The credit note PDF, Factur-X or plain, chosen as for invoices (`get_pdf`): a credit note is
    issued, so there is no draft."""
    credit_note, invoice = _credit_note(session, organisation_id, credit_note_id)
    return stored_pdf(
        session,
        credit_note_owner(credit_note),
        lambda what: credit_note_snapshot(credit_note, invoice, what),
        seller_is_in_eu(invoice.seller_snapshot or {}),
        profile,
        embed,
        now,
    )
