"""SQL for number series: the counter row and its atomic increment."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session

from faktur.models import NumberSeries
from faktur.sql import insert_ignoring_conflicts


def reserve(session: Session, organisation_id: uuid.UUID, series: str, period_key: str, count: int) -> int:
    """Reserve `count` consecutive values; return the first.

    One UPDATE ... RETURNING in the caller's transaction: the row lock serialises concurrent
    finalizations, and a rollback gives the values back, so the sequence stays gapless.
    """
    stmt = (
        update(NumberSeries)
        .where(
            NumberSeries.organisation_id == organisation_id,
            NumberSeries.series == series,
            NumberSeries.period_key == period_key,
        )
        .values(next_value=NumberSeries.next_value + count)
        .returning(NumberSeries.next_value)
        .execution_options(synchronize_session=False)
    )
    after = session.execute(stmt).scalar_one_or_none()
    if after is None:
        insert_ignoring_conflicts(
            session,
            NumberSeries,
            {"organisation_id": organisation_id, "series": series, "period_key": period_key, "next_value": 1},
        )
        after = session.execute(stmt).scalar_one()
    return after - count
