"""SQL for number series: the counter row and its atomic increment."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from faktur.models import Invoice, NumberSeries
from faktur.models.base import table_of
from faktur.sql import insert_ignoring_conflicts

# Table-level statements, built once: they run on every numbering, and the ORM's bulk UPDATE
# path (an ORM-enabled update(NumberSeries)) costs more than the statement itself.
_SERIES = table_of(NumberSeries)
_ADVANCE = (
    _SERIES.update()
    .where(
        _SERIES.c.organisation_id == bindparam("b_organisation_id"),
        _SERIES.c.series == bindparam("b_series"),
        _SERIES.c.period_key == bindparam("b_period_key"),
    )
    .values(next_value=_SERIES.c.next_value + bindparam("b_count"))
    .returning(_SERIES.c.next_value)
)


def reserve(session: Session, organisation_id: uuid.UUID, series: str, period_key: str, count: int) -> int:
    """Reserve `count` consecutive values; return the first.

    One UPDATE ... RETURNING in the caller's transaction: the row lock serialises concurrent
    finalizations, and a rollback gives the values back, so the sequence stays gapless.
    """
    params = {
        "b_organisation_id": organisation_id,
        "b_series": series,
        "b_period_key": period_key,
        "b_count": count,
    }
    after = session.execute(_ADVANCE, params).scalar_one_or_none()
    if after is None:
        create_series(session, organisation_id, series, period_key)
        after = session.execute(_ADVANCE, params).scalar_one()
    return after - count


_INVOICES = table_of(Invoice)
# Table-level, so a list of parameters is a plain executemany (not the ORM's bulk UPDATE by key).
_SET_NUMBERS = (
    _INVOICES.update()
    .where(_INVOICES.c.organisation_id == bindparam("b_organisation_id"), _INVOICES.c.id == bindparam("b_id"))
    .values(number=bindparam("b_number"))
)


def write_number(session: Session, organisation_id: uuid.UUID, invoice_id: uuid.UUID, number: str) -> None:
    session.execute(
        _SET_NUMBERS, {"b_organisation_id": organisation_id, "b_id": invoice_id, "b_number": number}
    )


def write_numbers(
    session: Session, organisation_id: uuid.UUID, numbered: list[tuple[uuid.UUID, str]]
) -> None:
    """Write (invoice id, number) pairs with one executemany."""
    if numbered:
        session.execute(
            _SET_NUMBERS,
            [{"b_organisation_id": organisation_id, "b_id": i, "b_number": n} for i, n in numbered],
        )


# PostgreSQL: advance the counter and write the number it gives on the invoice in one statement.
# The number is the format's text before {SEQ}, the value zero-padded to the width, the text after.
_ADVANCE_AND_WRITE = text(
    """
    WITH advanced AS (
        UPDATE number_series SET next_value = next_value + 1
        WHERE organisation_id = :organisation_id AND series = :series AND period_key = :period_key
        RETURNING next_value - 1 AS value
    )
    UPDATE invoices
    SET number = :prefix || lpad(advanced.value::text, greatest(:width, length(advanced.value::text)), '0')
        || :suffix
    FROM advanced
    WHERE invoices.organisation_id = :organisation_id AND invoices.id = :invoice_id
    RETURNING advanced.value, invoices.number
    """
)


def advance_and_write(
    session: Session,
    organisation_id: uuid.UUID,
    series: str,
    period_key: str,
    invoice_id: uuid.UUID,
    parts: tuple[str, int, str],
) -> tuple[int, str] | None:
    """PostgreSQL only: the value taken and the number written, or None if the series has no
    counter row yet (nothing was changed then)."""
    prefix, width, suffix = parts
    row = session.execute(
        _ADVANCE_AND_WRITE,
        {
            "organisation_id": organisation_id,
            "series": series,
            "period_key": period_key,
            "invoice_id": invoice_id,
            "prefix": prefix,
            "width": width,
            "suffix": suffix,
        },
    ).first()
    return (row[0], row[1]) if row else None


def create_series(session: Session, organisation_id: uuid.UUID, series: str, period_key: str) -> None:
    insert_ignoring_conflicts(
        session,
        NumberSeries,
        {"organisation_id": organisation_id, "series": series, "period_key": period_key, "next_value": 1},
    )


def advance_to(
    session: Session, organisation_id: uuid.UUID, series: str, period_key: str, next_value: int
) -> None:
    """Move the counter forward to `next_value` (never backward), creating it if needed."""
    create_series(session, organisation_id, series, period_key)
    session.execute(
        update(NumberSeries)
        .where(
            NumberSeries.organisation_id == organisation_id,
            NumberSeries.series == series,
            NumberSeries.period_key == period_key,
            NumberSeries.next_value < next_value,
        )
        .values(next_value=next_value)
        .execution_options(synchronize_session=False)
    )


def numbers_in_use(session: Session, organisation_id: uuid.UUID) -> list[str]:
    """Every invoice number of the organisation (issued, imported or voided: numbers are never reused)."""
    return list(
        session.scalars(
            select(Invoice.number).where(
                Invoice.organisation_id == organisation_id, Invoice.number.is_not(None)
            )
        )
    )
