"""Database faults a client can do nothing about but wait or tell an operator, as FakturErrors.

A lock that stays taken, a full disk, an I/O error or a database that cannot be reached is not
a bug: it is answered with its own code (503, or 507 for a full disk) and the log keeps the
traceback. Drivers are recognised by what their exceptions carry (SQLite's error code, PostgreSQL's
SQLSTATE), so nothing here imports a driver.
"""

from __future__ import annotations

import errno

from sqlalchemy import exc as sa_exc

from faktur.errors import (
    DatabaseBusy,
    DatabaseCorrupt,
    DatabaseIOError,
    DatabaseUnavailable,
    FakturError,
    StorageFull,
)

# SQLite result codes (https://sqlite.org/rescode.html): primary ones are the extended code's low byte.
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26
# Enlarging the shared-memory index of the WAL failed: on a full disk this comes before SQLITE_FULL.
SQLITE_IOERR_SHMSIZE = SQLITE_IOERR | (19 << 8)

# PostgreSQL SQLSTATEs: a full disk, and waits that a retry resolves.
PG_DISK_FULL = "53100"
PG_BUSY = {"40001", "40P01"}  # serialization failure, deadlock
PG_LOCK_NOT_AVAILABLE = "55P03"  # a lock waited for longer than lock_timeout (faktur.db)

# OS errors that mean the disk, not the program, failed.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG})


def storage_full() -> StorageFull:
    return StorageFull(
        "The disk that holds faktur's database is full, so nothing was stored. Free disk space on "
        "the server (or ask its operator to), then send the request again."
    )


def database_busy(bound_ms: int) -> DatabaseBusy:
    return DatabaseBusy(
        f"The database is busy: no turn to write came within {bound_ms} ms (another writer holds "
        "the write lock, or many wait for it). Nothing was stored; retry after the time in Retry-After."
    )


def database_io_error() -> DatabaseIOError:
    return DatabaseIOError(
        "The database could not be read or written (disk I/O error); nothing was stored. Retry "
        "later; if this persists, the server's disk needs an operator's attention."
    )


def database_unavailable() -> DatabaseUnavailable:
    return DatabaseUnavailable(
        "The database cannot be reached right now; nothing was stored. Retry the request in a few seconds."
    )


def database_corrupt() -> DatabaseCorrupt:
    return DatabaseCorrupt(
        "The database file is damaged and cannot be used; nothing was stored. An operator must "
        "restore it from a backup."
    )


_AT_START = {
    "storage_full": "the disk that holds the database is full; free disk space, then start faktur again",
    "database_io_error": "the database could not be read or written (disk I/O error); check the disk",
    "database_corrupt": "the database file is damaged; restore it from a backup",
    "database_busy": "the database stayed locked by another program; stop it or retry",
    "database_unavailable": "the database cannot be reached; check that it runs and the URL is right",
}


def startup_fault_message(fault: FakturError, database: str) -> str:
    """One line for an operator whose `faktur serve` (or migrate) could not prepare the database."""
    return f"faktur cannot start: {_AT_START.get(fault.code, fault.message)} ({database})."


def database_fault(error: BaseException) -> FakturError | None:
    """The fault `error` (an SQLAlchemy or OS error) stands for, or None if it is not one
    (a programming error, which stays a 500)."""
    if isinstance(error, sa_exc.TimeoutError):  # no connection free in the pool in time
        return DatabaseBusy("Every database connection is in use; retry the request after Retry-After.")
    if isinstance(error, OSError):
        return _os_fault(error)
    if not isinstance(error, sa_exc.DBAPIError) or isinstance(error, sa_exc.IntegrityError):
        return None
    orig = error.orig
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        fault = storage_full() if sqlite_code == SQLITE_IOERR_SHMSIZE else _sqlite_fault(sqlite_code & 0xFF)
        if fault is not None:
            return fault
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == PG_DISK_FULL:
        return storage_full()
    if sqlstate in PG_BUSY:
        return DatabaseBusy("The database is busy with concurrent changes; retry the request.")
    if sqlstate == PG_LOCK_NOT_AVAILABLE:
        return DatabaseBusy(
            "Another transaction kept something this request changes locked for longer than the "
            "server waits (FAKTUR_POSTGRES_LOCK_TIMEOUT_MS); nothing was stored. Retry after the time "
            "in Retry-After; if it persists, an operator can find the transaction that holds the lock "
            "(pg_stat_activity, pg_locks)."
        )
    if error.connection_invalidated or isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return database_unavailable()
    return None


def _sqlite_fault(primary_code: int) -> FakturError | None:
    if primary_code == SQLITE_FULL:
        return storage_full()
    if primary_code == SQLITE_IOERR:
        return database_io_error()
    if primary_code in (SQLITE_BUSY, SQLITE_LOCKED):
        return DatabaseBusy("The database is locked by another program; retry the request.")
    if primary_code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return database_corrupt()
    if primary_code == SQLITE_CANTOPEN:
        return database_unavailable()
    return None


def _os_fault(error: OSError) -> FakturError:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return storage_full()
    return database_io_error()
