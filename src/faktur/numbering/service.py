"""Assign invoice numbers at finalization, singly or in blocks for batch runs."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from faktur.models import Organisation
from faktur.numbering import repository
from faktur.numbering.format import render_number

DEFAULT_SERIES = "default"


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
