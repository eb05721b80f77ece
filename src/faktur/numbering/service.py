"""Assign invoice numbers at finalization, singly or in blocks for batch runs."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from faktur.models import Organisation
from faktur.numbering import repository
from faktur.numbering.format import parse_number, render_number, split_number_format

DEFAULT_SERIES = "default"
# The counter of credit notes: a series of its own beside the invoices' (DESIGN rule 9).
CREDIT_NOTE_SERIES = "credit_notes"


def period_key(organisation: Organisation, issue_date: date) -> str:
    return str(issue_date.year) if organisation.number_reset == "yearly" else ""


def next_invoice_numbers(
    session: Session,
    organisation: Organisation,
    issue_date: date,
    count: int = 1,
    series: str = DEFAULT_SERIES,
) -> list[str]:
    first = repository.reserve(session, organisation.id, series, period_key(organisation, issue_date), count)
    return [render_number(organisation.number_format, first + i, issue_date) for i in range(count)]


def next_invoice_number(
    session: Session, organisation: Organisation, issue_date: date, series: str = DEFAULT_SERIES
) -> str:
    return next_invoice_numbers(session, organisation, issue_date, 1, series)[0]


def next_credit_note_number(session: Session, organisation: Organisation, issue_date: date) -> str:
    """The organisation's next credit-note number, taken in the caller's transaction like an
    invoice number: the counter row stays locked until commit, and a rollback gives it back."""
    key = period_key(organisation, issue_date)
    value = repository.reserve(session, organisation.id, CREDIT_NOTE_SERIES, key, 1)
    return render_number(organisation.credit_note_number_format, value, issue_date)


def number_invoice(
    session: Session, organisation: Organisation, invoice_id: uuid.UUID, issue_date: date, series: str
) -> str:
    """Take the next number and write it on the stored invoice `invoice_id`. The counter row is
    locked from here until COMMIT and every finalization of the organisation waits for it, so
    on PostgreSQL this is one statement; elsewhere (SQLite: one writer at a time) two."""
    if session.get_bind().dialect.name != "postgresql":
        number = next_invoice_number(session, organisation, issue_date, series)
        repository.write_number(session, organisation.id, invoice_id, number)
        return number
    key = period_key(organisation, issue_date)
    parts = split_number_format(organisation.number_format, issue_date)
    taken = repository.advance_and_write(session, organisation.id, series, key, invoice_id, parts)
    if taken is None:
        repository.create_series(session, organisation.id, series, key)
        taken = repository.advance_and_write(session, organisation.id, series, key, invoice_id, parts)
    if taken is None:
        raise LookupError(f"invoice {invoice_id} of organisation {organisation.id} is not stored")
    value, number = taken
    if number != render_number(organisation.number_format, value, issue_date):  # pragma: no cover
        raise AssertionError(f"number {number!r} written for value {value} disagrees with the format")
    return number


def number_invoices(
    session: Session,
    organisation: Organisation,
    invoice_ids: list[uuid.UUID],
    issue_date: date,
    series: str = DEFAULT_SERIES,
) -> list[str]:
    """Take the next numbers for the stored invoices `invoice_ids`, in order, and write them on
    them: one invoice as number_invoice does, several from one reserved block."""
    if len(invoice_ids) == 1:
        return [number_invoice(session, organisation, invoice_ids[0], issue_date, series)]
    numbers = next_invoice_numbers(session, organisation, issue_date, len(invoice_ids), series)
    repository.write_numbers(session, organisation.id, list(zip(invoice_ids, numbers, strict=True)))
    return numbers


def continue_after_settings_change(session: Session, organisation: Organisation, today: date) -> None:
    """After a change of number_format or number_reset, move each counter past every existing
    number the new settings could render again, so numbering continues instead of colliding.

    Switching `yearly` to `never` with INV-{YYYY}-{SEQ:05} after INV-2026-00005 continues with
    INV-2026-00006, not INV-2026-00001; a new format that reads old numbers differently (from
    'INV-1{SEQ}' to 'INV-{SEQ}') starts after the highest of them. Numbers of past years are
    skipped when the format carries {YYYY}: no number of a past year is issued again.
    """
    yearly = organisation.number_reset == "yearly"
    highest: dict[str, int] = {}
    for number in repository.numbers_in_use(session, organisation.id):
        parsed = parse_number(organisation.number_format, number)
        if parsed is None:
            continue
        sequence, year = parsed
        if year is not None and year < today.year:
            continue
        key = str(year) if yearly else ""
        highest[key] = max(highest.get(key, 0), sequence)
    for key, sequence in highest.items():
        repository.advance_to(session, organisation.id, DEFAULT_SERIES, key, sequence + 1)
