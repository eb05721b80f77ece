"""On SQLite, the writing requests of one server process take turns: one at a time.

SQLite has one writer at a time, across the server's processes (faktur.sqlite_writer), so a
process gains nothing from running two writing requests at once; it loses. Python runs one thread
of a process at a time (the GIL), and sqlite3 lets go of it around every statement. While one of
the process's threads holds the database's write lock, every other thread of the process that runs
Python (authenticating the next request, building its invoice, presenting the last one) takes the
GIL at those moments and keeps it for up to Python's switch interval, so the lock is held two to
three times as long as its holder's own work (measured with eight clients: 1.2-1.5 ms alone,
2.5-4 ms median under load) and every other process waits that long too.

So a writing request waits for its turn here, on the event loop, before its unit of work opens;
reading requests (WAL readers, faktur.db.make_read_engine) and /health never wait. The other
processes' writing requests still do their work before the write lock while this one holds it.
A turn is waited for as long as the write lock is (`sqlite_write_lock_timeout_ms`), then the
request is refused with 503 `database_busy`, as a wait for the lock itself is. PostgreSQL has no
such lock: its writers run side by side and take no turns.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary

from faktur.database_faults import database_busy


class WriterTurns:
    """One writing request of this process at a time, waited for at most `timeout_ms`."""

    def __init__(self, timeout_ms: int) -> None:
        self._timeout_ms = timeout_ms
        # One lock per event loop: a server process has one, a test client may start several.
        self._locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        try:
            async with asyncio.timeout(self._timeout_ms / 1000):
                await lock.acquire()
        except TimeoutError:
            raise database_busy(self._timeout_ms) from None
        try:
            yield
        finally:
            lock.release()
