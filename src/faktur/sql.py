"""Small statement builders that differ by dialect (kept here so repositories stay portable)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from faktur.models.base import Base, table_of
from faktur.paging import Cursor


def insert_ignoring_conflicts(session: Session, model: type[Base], values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted.

    On PostgreSQL a concurrent insert of the same key waits for the other transaction, so the
    caller learns the outcome only after the winner committed or rolled back.
    """
    stmt = _insert_ignoring(session.get_bind().dialect.name, model)
    # RETURNING, not rowcount: drivers disagree on the rowcount of a skipped conflict.
    return session.execute(stmt, values).first() is not None


@cache
def _insert_ignoring(dialect: str, model: type[Base]) -> Any:
    """Built once per model (Idempotency-Key claims run on every keyed POST)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing().returning(*table_of(model).primary_key.columns)


def numbered(
    session: Session, column: InstrumentedAttribute[int], rows: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rows to INSERT, numbered in `column` after its highest number on SQLite; as they are on
    PostgreSQL, where the column's sequence (its default) numbers them.

    SQLite numbers only a single-column INTEGER PRIMARY KEY itself, and the keys of tenant tables
    start with organisation_id. The highest number is safe to take: a SQLite write transaction
    holds the database's write lock from its first statement, so nothing is numbered meanwhile.
    """
    if session.get_bind().dialect.name == "postgresql":
        return list(rows)
    highest = session.execute(_highest(column)).scalar_one() or 0
    return [{**row, column.key: highest + i} for i, row in enumerate(rows, start=1)]


@cache
def _highest(column: InstrumentedAttribute[int]) -> Select[Any]:
    """Built once per column: every event written on SQLite asks it."""
    return select(func.max(column))


def newest_first(stmt: Select[Any], model: type[Any], cursor: Cursor | None, limit: int) -> Select[Any]:
    """Keyset page of a newest-first list ordered by (created_at, id): the rows after `cursor`,
    one more than `limit` so the caller can tell whether another page follows.

    The cursor is one row-value comparison, which PostgreSQL and SQLite both use as a bound of
    an (organisation_id, created_at, id) index; the equivalent `created_at < x OR (created_at = x
    AND id < y)` is only a filter, so page 500 would read and drop the 10,000 newer rows first."""
    if cursor is not None:
        stmt = stmt.where(tuple_(model.created_at, model.id) < tuple_(cursor.created_at, cursor.id))
    return stmt.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)
