"""Engine factory, the request unit of work and session_scope() for the CLI and jobs.

Services only flush; whoever opened the session commits or rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from faktur.sqlite_writer import queue_writers


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use psycopg 3 for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 20, busy_timeout_ms: int = 30_000) -> Engine:
    url = normalise_url(url)
    if is_sqlite(url):
        return _make_sqlite_engine(url, busy_timeout_ms)
    # JIT compilation pays off for long analytic queries, not for faktur's: a billing chunk's
    # usage query (its cost estimate crosses jit_above_cost) spent ~18 ms compiling, half its time.
    # Sessions run in UTC, so timestamps arrive already in UTC (models.types.UtcDateTime).
    given = make_url(url).query.get("options", "")
    options = " ".join(
        [*(given if isinstance(given, tuple) else [given]), "-c jit=off -c TimeZone=UTC"]
    ).strip()
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"options": options},
    )


def _make_sqlite_engine(url: str, busy_timeout_ms: int) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    # SQLite has one writer at a time: faktur's threads and processes queue on a lock instead
    # of SQLite's busy handler, which polls with sleeps of up to 100 ms and lets late comers win.
    queue_writers(engine, database if database and database != ":memory:" else None, busy_timeout_ms / 1000)
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
