"""One SQLite writer at a time, across the threads and the processes of faktur.

SQLite lets one connection write at a time. Left to itself, a waiting connection polls in its
busy handler with sleeps of up to 100 ms, so under load late comers overtake early ones and
tail latency explodes. faktur's connections queue here instead before `BEGIN IMMEDIATE`:
threads of one process on a lock, processes (several server workers, a CLI beside the server)
on an exclusive `flock` of a file beside the database, which the kernel hands to the next
waiter the moment it is released, and releases by itself if its holder dies.
"""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: threads still queue, processes poll as before
    fcntl = None  # type: ignore[assignment]


def lock_path_for(database: str) -> Path:
    return Path(f"{database}-writer.lock")


class WriterLock:
    """Acquire before the write transaction begins, release when it ends.

    `database` is the SQLite file, or None for an in-memory database (threads only). The wait
    for another process has no time limit, like a PostgreSQL row lock: the holder releases
    it when its transaction ends or its process exits.
    """

    def __init__(self, database: str | None) -> None:
        self._threads = threading.Lock()
        self._path = lock_path_for(database) if database and fcntl is not None else None
        self._fd: int | None = None
        self._pid = 0
        self.holder: Any = None  # the DBAPI connection whose transaction holds the lock

    def acquire(self, timeout: float) -> bool:  # float-ok: seconds
        if not self._threads.acquire(timeout=timeout):
            return False
        try:
            if self._path is not None:
                fcntl.flock(self._file(), fcntl.LOCK_EX)  # blocks without holding the GIL
        except BaseException:
            self._threads.release()
            raise
        return True

    def release(self) -> None:
        try:
            if self._path is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _file(self) -> int:
        # One descriptor per process: a forked child shares its parent's open file, and with it
        # the flock, so it opens its own.
        if self._fd is None or self._pid != os.getpid():
            assert self._path is not None
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
            weakref.finalize(self, os.close, self._fd)  # closed with the engine that owns this lock
        return self._fd


def queue_writers(engine: Engine, database: str | None, timeout: float) -> WriterLock:  # float-ok: seconds
    """Make every transaction of `engine` take the writer lock, then `BEGIN IMMEDIATE`, and give
    the lock back once its COMMIT or ROLLBACK has completed (SQLAlchemy's commit and rollback
    events fire before them, and the next writer would find the database still locked)."""
    writer = WriterLock(database)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if not writer.acquire(timeout=timeout):
            raise TimeoutError("timed out waiting for the SQLite write lock")
        dbapi_connection = conn.connection.dbapi_connection
        writer.holder = dbapi_connection
        try:
            # Take the write lock up front: a deferred transaction that later writes can fail
            # with SQLITE_BUSY without waiting, which would turn contention into errors.
            # Sent on the DBAPI connection: SQLAlchemy is still beginning this transaction.
            dbapi_connection.execute("BEGIN IMMEDIATE")
        except BaseException:
            _release_if_held(dbapi_connection)
            raise

    def _release_if_held(dbapi_connection: Any) -> None:
        if dbapi_connection is not None and writer.holder is dbapi_connection:
            writer.holder = None
            writer.release()

    dialect = engine.dialect
    for name in ("do_commit", "do_rollback", "do_close"):
        _release_after(dialect, name, _release_if_held)
    return writer


def _release_after(dialect: Any, name: str, release: Any) -> None:
    ends_transaction = getattr(dialect, name)

    def wrapper(connection: Any) -> None:
        try:
            ends_transaction(connection)
        finally:
            # The pool's proxy (commit, rollback) or the DBAPI connection itself (close).
            release(getattr(connection, "dbapi_connection", connection))

    setattr(dialect, name, wrapper)
