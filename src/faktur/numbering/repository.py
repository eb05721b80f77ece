"""SQL for number series: the counter row and its atomic increment."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from faktur.models import NumberSeries
from faktur.sql import insert_ignoring_conflicts

_ADVANCE = (
    update(NumberSeries)
    .where(
        NumberSeries.organisation_id == bindparam("b_organisation_id"),
        NumberSeries.series == bindparam("b_series"),
        NumberSeries.period_key == bindparam("b_period_key"),
    )
    .values(next_value=NumberSeries.next_value + bindparam("b_count"))
    .returning(NumberSeries.next_value)
    .execution_options(synchronize_session=False)
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
        insert_ignoring_conflicts(
            session,
            NumberSeries,
            {"organisation_id": organisation_id, "series": series, "period_key": period_key, "next_value": 1},
        )
        after = session.execute(_ADVANCE, params).scalar_one()
    return after - count
