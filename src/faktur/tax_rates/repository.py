"""SQL for tax rates, always scoped by organisation."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from faktur.http.pagination import Cursor
from faktur.models import TaxRate


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
    if cursor is not None:
        stmt = stmt.where(
            or_(
                TaxRate.created_at < cursor.created_at,
                and_(TaxRate.created_at == cursor.created_at, TaxRate.id < cursor.id),
            )
        )
    stmt = stmt.order_by(TaxRate.created_at.desc(), TaxRate.id.desc()).limit(limit + 1)
    return list(session.execute(stmt).scalars())


def add(session: Session, rate: TaxRate) -> None:
    session.add(rate)
    session.flush()
