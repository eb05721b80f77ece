"""`faktur invoice pdf|ubl|cii ID -o FILE` and `faktur credit-note pdf|ubl|cii ID -o FILE`: the
documents of an invoice or a credit note from the command line.

The CLI runs beside the database with no API key, so it finds the invoice or credit note by its id
alone (ids are random UUIDs, unique across organisations) and acts for the organisation that owns it.
It goes through the same service as the API: issued documents are stored on first use, so the file
written here is byte for byte what the API serves.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from faktur.cli_database import open_engine
from faktur.credit_notes.errors import CreditNoteNotFound
from faktur.db import make_session_factory, session_scope
from faktur.documents import repository, service
from faktur.documents.profiles import Profile, Syntax
from faktur.errors import FakturError
from faktur.invoices.errors import InvoiceNotFound

invoice_app = typer.Typer(help="Invoice documents (PDF, UBL, CII)", no_args_is_help=True)
credit_note_app = typer.Typer(help="Credit note documents (PDF, UBL, CII)", no_args_is_help=True)
console = Console(stderr=True)

InvoiceId = Annotated[str, typer.Argument(help="Invoice id (UUID)")]
CreditNoteId = Annotated[str, typer.Argument(help="Credit note id (UUID)")]
Output = Annotated[Path, typer.Option("--output", "-o", help="File to write, or - for standard output")]
ProfileOption = Annotated[Profile, typer.Option(help="E-invoice profile")]
EmbedOption = Annotated[
    bool | None,
    typer.Option(
        "--embed/--no-embed",
        help="Factur-X or plain PDF",
        show_default="--embed with --profile, else as the API decides",
    ),
]


def _parse_id(value: str, noun: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not {'an' if noun[0] in 'aeiou' else 'a'} {noun} id (a UUID)"
        ) from exc


def _invoice_organisation(session: Session, invoice_id: uuid.UUID) -> uuid.UUID:
    organisation_id = repository.organisation_of_invoice(session, invoice_id)
    if organisation_id is None:
        raise InvoiceNotFound(invoice_id, in_organisation=False)
    return organisation_id


def _credit_note_organisation(session: Session, credit_note_id: uuid.UUID) -> uuid.UUID:
    organisation_id = repository.organisation_of_credit_note(session, credit_note_id)
    if organisation_id is None:
        raise CreditNoteNotFound(credit_note_id)
    return organisation_id


@dataclass(frozen=True)
class _Documents:
    """The documents of invoices or of credit notes: whose they are, and the service that serves them."""

    noun: str
    organisation_of: Callable[[Session, uuid.UUID], uuid.UUID]
    get_pdf: Callable[[Session, uuid.UUID, uuid.UUID, Profile, bool | None, datetime], service.Document]
    get_xml: Callable[[Session, uuid.UUID, uuid.UUID, Syntax, Profile, datetime], service.Document]


_INVOICES = _Documents("invoice", _invoice_organisation, service.get_pdf, service.get_xml)
_CREDIT_NOTES = _Documents(
    "credit note", _credit_note_organisation, service.get_credit_note_pdf, service.get_credit_note_xml
)


def _write(
    documents: _Documents,
    document_id: str,
    output: Path,
    fetch: Callable[[Session, uuid.UUID, uuid.UUID, datetime], service.Document],
) -> None:
    parsed = _parse_id(document_id, documents.noun)
    engine = open_engine()
    try:
        with session_scope(make_session_factory(engine)) as session:
            organisation_id = documents.organisation_of(session, parsed)
            document = fetch(session, organisation_id, parsed, datetime.now(UTC))
    except FakturError as exc:
        console.print(f"[red]{exc.code}: {exc.message}[/red]")
        for detail in exc.details:
            console.print(f"  {detail.get('field')}: {detail.get('reason')}")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    if str(output) == "-":
        sys.stdout.buffer.write(document.content)
        sys.stdout.buffer.flush()
        return
    output.write_bytes(document.content)
    digest = f", sha256 {document.sha256}" if document.sha256 else " (draft, not stored)"
    console.print(f"wrote {output} ({document.kind.value}, {len(document.content)} bytes{digest})")


def _write_pdf(
    documents: _Documents, document_id: str, output: Path, profile: Profile | None, embed: bool | None
) -> None:
    if profile is not None and embed is False:
        raise typer.BadParameter("--profile asks for a Factur-X PDF; --no-embed for a plain one: choose one")
    # A profile asked for by name is a promise to meet it: no quiet fallback to the plain PDF.
    insist = True if profile is not None else embed
    chosen = profile or Profile.EN16931
    _write(
        documents,
        document_id,
        output,
        lambda session, org, doc, now: documents.get_pdf(session, org, doc, chosen, insist, now),
    )


def _write_xml(
    documents: _Documents, document_id: str, output: Path, syntax: Syntax, profile: Profile
) -> None:
    _write(
        documents,
        document_id,
        output,
        lambda session, org, doc, now: documents.get_xml(session, org, doc, syntax, profile, now),
    )


def _pdf_profile_option(noun: str) -> typer.models.OptionInfo:
    return typer.Option(
        help=f"Insist on a Factur-X PDF in this profile: an error (what is missing) if the {noun} "
        "cannot be one",
        show_default=f"none: Factur-X en16931 when the {noun} can be one, else the plain PDF",
    )


@invoice_app.command("pdf")
def invoice_pdf(
    invoice_id: InvoiceId,
    output: Output,
    profile: Annotated[Profile | None, _pdf_profile_option("invoice")] = None,
    embed: EmbedOption = None,
) -> None:
    """Write the invoice PDF (Factur-X for EU sellers by default; drafts carry a DRAFT mark)."""
    _write_pdf(_INVOICES, invoice_id, output, profile, embed)


@invoice_app.command("ubl")
def invoice_ubl(invoice_id: InvoiceId, output: Output, profile: ProfileOption = Profile.EN16931) -> None:
    """Write the UBL 2.1 e-invoice of a finalized invoice."""
    _write_xml(_INVOICES, invoice_id, output, Syntax.UBL, profile)


@invoice_app.command("cii")
def invoice_cii(invoice_id: InvoiceId, output: Output, profile: ProfileOption = Profile.EN16931) -> None:
    """Write the UN/CEFACT CII e-invoice of a finalized invoice."""
    _write_xml(_INVOICES, invoice_id, output, Syntax.CII, profile)


@credit_note_app.command("pdf")
def credit_note_pdf(
    credit_note_id: CreditNoteId,
    output: Output,
    profile: Annotated[Profile | None, _pdf_profile_option("credit note")] = None,
    embed: EmbedOption = None,
) -> None:
    """Write the credit note PDF (Factur-X for EU sellers by default)."""
    _write_pdf(_CREDIT_NOTES, credit_note_id, output, profile, embed)


@credit_note_app.command("ubl")
def credit_note_ubl(
    credit_note_id: CreditNoteId, output: Output, profile: ProfileOption = Profile.EN16931
) -> None:
    """Write the UBL 2.1 CreditNote (type 381) of a credit note."""
    _write_xml(_CREDIT_NOTES, credit_note_id, output, Syntax.UBL, profile)


@credit_note_app.command("cii")
def credit_note_cii(
    credit_note_id: CreditNoteId, output: Output, profile: ProfileOption = Profile.EN16931
) -> None:
    """Write the UN/CEFACT CII (TypeCode 381) of a credit note."""
    _write_xml(_CREDIT_NOTES, credit_note_id, output, Syntax.CII, profile)
