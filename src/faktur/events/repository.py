"""SQL for events, always scoped by organisation (except the delivery loop's own queries)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from faktur.models import Event
from faktur.models.base import table_of
from faktur.paging import Cursor
from faktur.sql import numbered

_INSERT = insert(table_of(Event))  # built once: events are written by every change


def insert_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """One INSERT (executemany) into the table, at once; no ORM objects or ORM bulk path (events
    are written, not read back)."""
    if rows:
        session.execute(_INSERT, numbered(session, Event.seq, rows))


def get(session: Session, organisation_id: uuid.UUID, event_id: uuid.UUID) -> Event | None:
    stmt = select(Event).where(Event.organisation_id == organisation_id, Event.id == event_id)
    return session.execute(stmt).scalar_one_or_none()


def list_page(
    session: Session,
    organisation_id: uuid.UUID,
    limit: int,
    cursor: Cursor | None,
    *,
    since: datetime,
    type_: str | None = None,
    object_id: uuid.UUID | None = None,
) -> list[Event]:
    """Newest first in the order the events were written (`seq`: the events of one transaction
    share their created_at); one more than `limit`. The cursor names the last event seen."""
    stmt = select(Event).where(Event.organisation_id == organisation_id, Event.created_at >= since)
    if type_ is not None:
        stmt = stmt.where(Event.type == type_)
    if object_id is not None:
        stmt = stmt.where(Event.object_id == object_id)
    if cursor is not None:
        after = select(Event.seq).where(Event.organisation_id == organisation_id, Event.id == cursor.id)
        stmt = stmt.where(Event.seq < after.scalar_subquery())
    return list(session.execute(stmt.order_by(Event.seq.desc()).limit(limit + 1)).scalars())


def delete_older_than(session: Session, before: datetime, limit: int) -> int:
    """Delete up to `limit` events created before `before` (their deliveries and attempts go too)."""
    oldest = select(Event.seq).where(Event.created_at < before).order_by(Event.seq).limit(limit)
    seqs = list(session.execute(oldest).scalars())
    if seqs:
        session.execute(delete(Event).where(Event.seq.in_(seqs)))
    return len(seqs)
