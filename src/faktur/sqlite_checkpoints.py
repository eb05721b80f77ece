"""WAL checkpoints of an SQLite file, taken off the write path by a thread of the server.

In WAL mode SQLite appends every COMMIT to the `-wal` file and, by default, the COMMIT that takes
that file past 1,000 pages copies them into the database and syncs both files (a checkpoint).
That COMMIT runs while its writer still holds faktur's write lock (faktur.sqlite_writer, given back
when the connection returns to its pool), so every other writer waits for the copy: measured with
eight clients creating invoices, one COMMIT in a hundred took 5-15 ms longer and the write lock's
95th percentile hold doubled.

So faktur's writers checkpoint only as a backstop (`BACKSTOP_PAGES`, for a process that writes
without the thread: the CLI on its own), and the server checkpoints from a thread of its own every
`INTERVAL_SECONDS`, on a connection of its own. A PASSIVE checkpoint never waits for, and never
blocks, readers or writers: it copies what the readers no longer need, and the next writer after a
complete one starts the `-wal` file again from its beginning.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

logger = logging.getLogger("faktur.sqlite_checkpoints")

BACKSTOP_PAGES = 10_000  # about 40 MB of WAL before a writer checkpoints itself
INTERVAL_SECONDS = 0.5


class Checkpointer:
    """A daemon thread checkpointing `database` (an SQLite file in WAL mode) until stopped."""

    def __init__(self, database: str, interval: float = INTERVAL_SECONDS) -> None:  # float-ok: seconds
        self._database = database
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="faktur-sqlite-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        failing = False
        try:
            while not self._stopping.wait(self._interval):
                try:
                    if connection is None:
                        connection = sqlite3.connect(self._database, isolation_level=None)
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    # A full disk or an I/O error: the writers meet it too and answer it, and the
                    # backstop still checkpoints. Said once; tried again, on a new connection.
                    if not failing:
                        logger.exception("checkpointing %s failed; trying again", self._database)
                    failing = True
                    if connection is not None:
                        connection.close()
                        connection = None
                    continue
                if failing:
                    logger.warning("checkpointing %s works again", self._database)
                    failing = False
        finally:
            if connection is not None:
                connection.close()
