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


def _parse_id(value: str, noun: str = "invoice") -> uuid.UUID:
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


def _write(
    document_id: str,
    output: Path,
    fetch: Callable[[Session, uuid.UUID, uuid.UUID, datetime], service.Document],
    owner: Callable[[Session, uuid.UUID], uuid.UUID] = _invoice_organisation,
    noun: str = "invoice",
) -> None:
    parsed = _parse_id(document_id, noun)
    engine = open_engine()
    try:
        with session_scope(make_session_factory(engine)) as session:
            organisation_id = owner(session, parsed)
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


@invoice_app.command("pdf")
def invoice_pdf(
    invoice_id: InvoiceId,
    output: Output,
    profile: Annotated[
        Profile | None,
        typer.Option(
            help="Insist on a Factur-X PDF in this profile: an error (what is missing) if the invoice "
            "cannot be one",
            show_default="none: Factur-X en16931 when the invoice can be one, else the plain PDF",
        ),
    ] = None,
    embed: Annotated[
        bool | None,
        typer.Option(
            "--embed/--no-embed",
            help="Factur-X or plain PDF",
            show_default="--embed with --profile, else as the API decides",
        ),
    ] = None,
) -> None:
    """Write the invoice PDF (Factur-X for EU sellers by default; drafts carry a DRAFT mark)."""
    if profile is not None and embed is False:
        raise typer.BadParameter("--profile asks for a Factur-X PDF; --no-embed for a plain one: choose one")
    # A profile asked for by name is a promise to meet it: no quiet fallback to the plain PDF.
    insist = True if profile is not None else embed
    chosen = profile or Profile.EN16931
    _write(
        invoice_id,
        output,
        lambda session, org, inv, now: service.get_pdf(session, org, inv, chosen, insist, now),
    )


@invoice_app.command("ubl")
def invoice_ubl(invoice_id: InvoiceId, output: Output, profile: ProfileOption = Profile.EN16931) -> None:
    """Write the UBL 2.1 e-invoice of a finalized invoice."""
    _write(
        invoice_id,
        output,
        lambda session, org, inv, now: service.get_xml(session, org, inv, Syntax.UBL, profile, now),
    )


@invoice_app.command("cii")
def invoice_cii(invoice_id: InvoiceId, output: Output, profile: ProfileOption = Profile.EN16931) -> None:
    """Write the UN/CEFACT CII e-invoice of a finalized invoice."""
    _write(
        invoice_id,
        output,
        lambda session, org, inv, now: service.get_xml(session, org, inv, Syntax.CII, profile, now),
    )


def _write_credit_note(
    credit_note_id: str,
    output: Path,
    fetch: Callable[[Session, uuid.UUID, uuid.UUID, datetime], service.Document],
) -> None:
    _write(credit_note_id, output, fetch, _credit_note_organisation, "credit note")


@credit_note_app.command("pdf")
def credit_note_pdf(
    credit_note_id: CreditNoteId,
    output: Output,
    profile: Annotated[
        Profile | None,
        typer.Option(
            help="Insist on a Factur-X PDF in this profile: an error (what is missing) if the credit note "
            "cannot be one",
            show_default="none: Factur-X en16931 when the credit note can be one, else the plain PDF",
        ),
    ] = None,
    embed: Annotated[
        bool | None,
        typer.Option(
            "--embed/--no-embed",
            help="Factur-X or plain PDF",
            show_default="--embed with --profile, else as the API decides",
        ),
    ] = None,
) -> None:
    """Write the credit note PDF (Factur-X for EU sellers by default)."""
    if profile is not None and embed is False:
        raise typer.BadParameter("--profile asks for a Factur-X PDF; --no-embed for a plain one: choose one")
    insist = True if profile is not None else embed
    chosen = profile or Profile.EN16931
    _write_credit_note(
        credit_note_id,
        output,
        lambda session, org, note, now: service.get_credit_note_pdf(session, org, note, chosen, insist, now),
    )


@credit_note_app.command("ubl")
def credit_note_ubl(
    credit_note_id: CreditNoteId, output: Output, profile: ProfileOption = Profile.EN16931
) -> None:
    """Write the UBL 2.1 CreditNote (type 381) of a credit note."""
    _write_credit_note(
        credit_note_id,
        output,
        lambda session, org, note, now: service.get_credit_note_xml(
            session, org, note, Syntax.UBL, profile, now
        ),
    )


@credit_note_app.command("cii")
def credit_note_cii(
    credit_note_id: CreditNoteId, output: Output, profile: ProfileOption = Profile.EN16931
) -> None:
    """Write the UN/CEFACT CII (TypeCode 381) of a credit note."""
    _write_credit_note(
        credit_note_id,
        output,
        lambda session, org, note, now: service.get_credit_note_xml(
            session, org, note, Syntax.CII, profile, now
        ),
    )
