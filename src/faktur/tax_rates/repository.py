"""SQL for tax rates, always scoped by organisation."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from faktur.models import TaxRate
from faktur.paging import Cursor
from faktur.sql import newest_first


def get_many(
    session: Session, organisation_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, TaxRate]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(TaxRate).where(TaxRate.organisation_id == organisation_id, TaxRate.id.in_(wanted))
    ).scalars()
    return {row.id: row for row in rows}


def list_page(
    session: Session, organisation_id: uuid.UUID, limit: int, cursor: Cursor | None
) -> list[TaxRate]:
    stmt = select(TaxRate).where(TaxRate.organisation_id == organisation_id)
    stmt = newest_first(stmt, TaxRate, cursor, limit)
    return list(session.execute(stmt).scalars())


def add(session: Session, rate: TaxRate) -> None:
    session.add(rate)
    session.flush()
