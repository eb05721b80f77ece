"""One SQLite writer at a time, across the threads and the processes of faktur, with a bounded wait.

SQLite lets one connection write at a time. Left to itself, a waiting connection polls in its
busy handler with sleeps of up to 100 ms, so under load late comers overtake early ones and
tail latency explodes. faktur's writing connections queue here instead before `BEGIN IMMEDIATE`:
threads of one process on a lock, processes (several server workers, a CLI beside the server)
on an exclusive `flock` of a file beside the database, which the kernel hands to the next
waiter the moment it is released, and releases by itself if its holder dies.

Every wait ends by a deadline (`write_lock_timeout`): a writer that waited that long raises
`DatabaseBusy` (503 with Retry-After), so a stopped or stuck process cannot block the others
forever. Once a wait for the file lock has run out, the writers of this process that come after it
give up at once until the file lock is free again: only the first ones spend the whole wait.

Only engine events are used: `begin` takes the lock; the pool's `checkin` (after COMMIT or
ROLLBACK has completed and the connection went back to the pool), `invalidate` and
`close_detached` give it back. Giving it back at the `commit` event would be too early: that
event fires before COMMIT runs, and the next writer would find the database still locked.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError

from faktur.database_faults import database_busy, database_fault

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: threads still queue, processes poll as before
    fcntl = None  # type: ignore[assignment]  # the module is absent off POSIX; callers check for None


def lock_path_for(database: str) -> Path:
    return Path(f"{database}-writer.lock")


class _FileLock:
    """An exclusive `flock` of one file, waited for with a deadline.

    flock has no timeout, so a helper thread makes the blocking call (which the kernel ends the
    moment the holder releases) and hands the lock over to the thread that asked, if that one
    still waits; otherwise it releases it at once. Only one thread of the process asks at a time
    (the one holding the process's thread lock).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None
        self._pid = 0
        self._changed = threading.Condition()
        self._wanted = False  # a thread waits for the lock now
        self._granted = False  # the helper got the lock for that thread
        self._helper_waits = False  # the helper is in flock() (its request outlives a timed-out wait)
        self._helper_pid = 0
        self.stalled = False  # a wait ran out while the helper still waits for the holder

    def _is_wanted(self) -> bool:
        return self._wanted

    def acquire(self, deadline: float) -> bool:  # float-ok: time.monotonic() seconds
        fd = self._file()
        with self._changed:
            if not self._helper_waits:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    pass
            elif self.stalled:
                return False
            self._wanted, self._granted = True, False
            self._start_helper()
            self._changed.notify_all()
            while not self._granted:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._wanted = False
                    self.stalled = self._helper_waits
                    return False
                self._changed.wait(remaining)
            self._granted = False
            return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _start_helper(self) -> None:
        if self._helper_pid != os.getpid():  # none yet, or the parent's before a fork
            self._helper_pid = os.getpid()
            waits = self._wait_for_holders
            helper = threading.Thread(target=waits, args=(weakref.ref(self),), name="faktur-writer-lock")
            helper.daemon = True  # it may sit in flock() when the process exits
            helper.start()

    @staticmethod
    def _wait_for_holders(ref: weakref.ref[_FileLock]) -> None:
        while (lock := ref()) is not None:
            with lock._changed:
                if not lock._changed.wait_for(lock._is_wanted, timeout=5):
                    del lock
                    continue  # look again whether the lock still exists
                lock._helper_waits = True
                fd = lock._file()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # blocks without holding the GIL or the condition
            except OSError:  # the descriptor was closed: the process is exiting
                return
            with lock._changed:
                lock._helper_waits = False
                lock.stalled = False
                if lock._wanted:
                    # Handed over: the helper must not wait again for this thread (a second
                    # flock on the same descriptor would return at once and then release it).
                    lock._wanted, lock._granted = False, True
                    lock._changed.notify_all()
                else:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            del lock

    def _file(self) -> int:
        # One descriptor per process: a forked child shares its parent's open file, and with it
        # the flock, so it opens its own.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
            weakref.finalize(self, os.close, self._fd)  # closed with the engine that owns this lock
        return self._fd


class WriterLock:
    """Acquire before the write transaction begins, release when it has ended.

    `database` is the SQLite file, or None for an in-memory database (threads only). The wait,
    behind this process's threads and then behind other processes, ends after `timeout` seconds.
    """

    def __init__(self, database: str | None, timeout: float) -> None:  # float-ok: seconds
        self._threads = threading.Lock()
        self._file = _FileLock(lock_path_for(database)) if database and fcntl is not None else None
        self.timeout = timeout
        self.holder: Any = None  # the DBAPI connection whose transaction holds the lock

    def acquire(self) -> bool:
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            return False
        if self._file is None:
            return True
        try:
            if self._file.acquire(deadline):
                return True
        except BaseException:
            self._threads.release()
            raise
        self._threads.release()
        return False

    def release(self) -> None:
        try:
            if self._file is not None:
                self._file.release()
        finally:
            self._threads.release()


def queue_writers(engine: Engine, database: str | None, timeout: float) -> WriterLock:  # float-ok: seconds
    """Make every transaction of `engine` take the writer lock, then `BEGIN IMMEDIATE`, and give
    the lock back once the connection returns to the pool (its COMMIT or ROLLBACK completed)."""
    writer = WriterLock(database, timeout)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        dbapi_connection = conn.connection.dbapi_connection
        if writer.holder is not dbapi_connection:  # a connection may begin again before its checkin
            try:
                acquired = writer.acquire()
            except OSError as exc:  # the lock file cannot be created or locked (e.g. a full disk)
                fault = database_fault(exc)
                assert fault is not None
                raise fault from exc
            if not acquired:
                raise database_busy(round(writer.timeout * 1000))
            writer.holder = dbapi_connection
        # Take SQLite's write lock up front: a deferred transaction that later writes can fail with
        # SQLITE_BUSY without waiting, and everything the transaction reads is then read under it.
        _begin(dbapi_connection, "BEGIN IMMEDIATE", on_error=lambda: _release_if_held(dbapi_connection))

    def _release_if_held(dbapi_connection: Any) -> None:
        if dbapi_connection is not None and writer.holder is dbapi_connection:
            writer.holder = None
            writer.release()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        _release_if_held(dbapi_connection)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_connection: Any, _record: Any, _exception: Any) -> None:
        _release_if_held(dbapi_connection)

    @event.listens_for(engine, "close_detached")
    def _on_close_detached(dbapi_connection: Any) -> None:
        _release_if_held(dbapi_connection)

    return writer


def read_only(engine: Engine) -> None:
    """Make every transaction of `engine` a deferred one that may only read: in WAL mode it reads
    a snapshot and never waits for a writer, and a statement that would write fails loudly
    (`PRAGMA query_only`) instead of waiting for the write lock outside faktur's queue."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only=ON")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        _begin(conn.connection.dbapi_connection, "BEGIN", on_error=lambda: None)


def _begin(dbapi_connection: Any, statement: str, on_error: Any) -> None:
    # Sent on the DBAPI connection: SQLAlchemy is still beginning this transaction, and a
    # statement through it would cost more than the BEGIN itself. Its errors get SQLAlchemy's
    # wrapping here, as any statement's would, so that they are answered as the faults they are.
    try:
        dbapi_connection.execute(statement)
    except sqlite3.Error as exc:
        on_error()
        raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc
    except BaseException:
        on_error()
        raise
