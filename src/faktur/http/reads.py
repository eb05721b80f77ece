"""Reads a writing request makes before its first write, outside SQLite's one write lock.

On an SQLite file a writing unit of work holds the database's write lock from its first statement
to COMMIT (faktur.sqlite_writer), and the server's processes take turns on it. Reads that decide
nothing the write must hold under a lock (the API key, the customer of a new invoice: PostgreSQL
reads them at the statement, unlocked, under READ COMMITTED) go through a WAL reader instead, so
the lock is taken at the first write. Elsewhere (PostgreSQL, an in-memory database, a read-only
route) they use the request's own session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from fastapi import Request
from sqlalchemy.orm import Session

Row = TypeVar("Row")


@contextmanager
def before_writing(request: Request, session: Session) -> Iterator[Session]:
    """The session to read with before `session` writes: a WAL reader's, closed on leaving, on an
    SQLite file; `session` itself elsewhere. What it loads joins `session` through `adopt`."""
    reader = getattr(request.app.state, "read_session_factory", None)
    if reader is None or reader.kw.get("bind") is session.get_bind():
        yield session
        return
    with reader() as read_session:
        yield read_session


def adopt(session: Session, row: Row) -> Row:
    """`row`, loaded by `before_writing`'s session, as a row of `session` (without a statement)."""
    return row if row in session else session.merge(row, load=False)
