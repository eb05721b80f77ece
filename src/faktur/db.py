"""Engine factory, the request unit of work and session_scope() for the CLI and jobs.

Services only flush; whoever opened the session commits or rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from faktur.sqlite_checkpoints import BACKSTOP_PAGES, Checkpointer
from faktur.sqlite_writer import queue_writers, read_only

DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 30_000
DEFAULT_SQLITE_WRITE_LOCK_TIMEOUT_MS = 10_000
# PostgreSQL: how long a statement waits for a lock another transaction holds (a row, a table),
# and how long a transaction may sit idle between its statements before the server ends it.
DEFAULT_POSTGRES_LOCK_TIMEOUT_MS = 10_000
DEFAULT_POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000


class Access(Enum):
    """What a unit of work does: on SQLite a reader never waits for the write lock, a writer
    holds it from its first statement (so what it reads to decide is read under the lock; the
    request's API key and organisation are read before it, as faktur.auth says)."""

    READ = "read"
    WRITE = "write"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use psycopg 3 for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(
    url: str,
    *,
    pool_size: int = 20,
    busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
    write_lock_timeout_ms: int = DEFAULT_SQLITE_WRITE_LOCK_TIMEOUT_MS,
    lock_timeout_ms: int = DEFAULT_POSTGRES_LOCK_TIMEOUT_MS,
    idle_in_transaction_timeout_ms: int = DEFAULT_POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS,
) -> Engine:
    """The engine of writing units of work (and of everything outside a request)."""
    url = normalise_url(url)
    if is_sqlite(url):
        return _make_sqlite_engine(url, busy_timeout_ms, write_lock_timeout_ms)
    # JIT compilation pays off for long analytic queries, not for faktur's: a billing chunk's
    # usage query (its cost estimate crosses jit_above_cost) spent ~18 ms compiling, half its time.
    # Sessions run in UTC, so timestamps arrive already in UTC (models.types.UtcDateTime).
    # Every wait is bounded, as SQLite's are: a statement waits for a lock at most lock_timeout,
    # then fails (55P03, answered 503 database_busy; background work retries it), so a
    # transaction that keeps a row locked cannot pile up every request that needs the row, each
    # holding a thread and a connection; and a transaction left idle by its client (a process
    # stopped or hung mid-transaction) is ended by the server after
    # idle_in_transaction_session_timeout, which frees its locks.
    given = make_url(url).query.get("options", "")
    session_settings = (
        f"-c jit=off -c TimeZone=UTC -c lock_timeout={lock_timeout_ms} "
        f"-c idle_in_transaction_session_timeout={idle_in_transaction_timeout_ms}"
    )
    options = " ".join([*(given if isinstance(given, tuple) else [given]), session_settings]).strip()
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"options": options},
    )


def make_read_engine(engine: Engine, *, busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """The engine of read-only units of work beside `engine`: on an SQLite file a second engine
    whose transactions are WAL readers (they never wait for, nor take, the write lock); `engine`
    itself elsewhere (PostgreSQL readers never wait for writers; an in-memory SQLite database is
    one connection's own)."""
    url = engine.url.render_as_string(hide_password=False)
    if _sqlite_file(url) is None:
        return engine
    reader = _sqlite_engine(url, busy_timeout_ms)
    read_only(reader)
    return reader


def make_checkpointer(engine: Engine) -> Checkpointer | None:
    """The thread that checkpoints `engine`'s SQLite file (not started); None elsewhere."""
    database = _sqlite_file(engine.url.render_as_string(hide_password=False))
    return Checkpointer(database) if database else None


def _sqlite_file(url: str) -> str | None:
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    return database if database and database != ":memory:" else None


def _make_sqlite_engine(url: str, busy_timeout_ms: int, write_lock_timeout_ms: int) -> Engine:
    database = _sqlite_file(url)
    if database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = _sqlite_engine(url, busy_timeout_ms)
    # SQLite has one writer at a time: faktur's threads and processes queue on a lock instead
    # of SQLite's busy handler, which polls with sleeps of up to 100 ms and lets late comers win.
    queue_writers(engine, database, write_lock_timeout_ms / 1000)

    # A COMMIT checkpoints only as a backstop: the server's thread does it (faktur.sqlite_checkpoints).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")

    return engine


def _sqlite_engine(url: str, busy_timeout_ms: int) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (sqlite_writer's begin events).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction for a CLI command or a job: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
