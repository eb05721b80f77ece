"""Riding out database outages: which errors mean "the database cannot be reached for now", and a
wait with backoff that says once per outage what it waits for (and once when it is over).

Used by the long-running parts (`faktur worker`, `faktur bill`, the service's run recovery): they
retry a whole transaction after such an error, which is safe because every transaction they
retry is idempotent (see faktur.billing.runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
import psycopg_pool
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")

FIRST_DELAY = 0.5  # float-ok: seconds
LONGEST_DELAY = 15.0  # float-ok: seconds


def is_transient(exc: BaseException) -> bool:
    """True for errors that go away when the database is back: a lost or refused PostgreSQL
    connection, a server shutting down or starting up, an exhausted wait for a pooled connection,
    a deadlock or serialization failure; also when such an error is the cause of `exc` (e.g.
    procrastinate's ConnectorException)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (psycopg.OperationalError, psycopg_pool.PoolTimeout)):
            return True
        if isinstance(current, DBAPIError) and isinstance(current.orig, psycopg.OperationalError):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_lock_wait(exc: BaseException) -> bool:
    """A PostgreSQL statement that waited for a lock longer than lock_timeout (faktur.db)."""
    return isinstance(getattr(exc, "orig", exc), psycopg.errors.LockNotAvailable)


def describe(exc: BaseException) -> str:
    """The first line of the error, without SQLAlchemy's background link."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


class Outage:
    """Backoff between attempts while the database is unreachable; `report` hears one line when an
    outage starts (what waits, for what) and one when it is over."""

    def __init__(
        self,
        what: str,
        report: Callable[[str], None],
        *,
        first_delay: float = FIRST_DELAY,  # float-ok: seconds
        longest_delay: float = LONGEST_DELAY,  # float-ok: seconds
    ) -> None:
        self.what = what
        self.report = report
        self.first_delay = first_delay
        self.longest_delay = longest_delay
        self._delay = first_delay
        self._since: float | None = None  # float-ok: monotonic seconds

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def _next_delay(self, exc: BaseException) -> float:  # float-ok: seconds
        if self._since is None:
            self._since = time.monotonic()
            what_fails = (
                "another transaction holds a lock it needs"
                if _is_lock_wait(exc)
                else "the database cannot be reached"
            )
            self.report(
                f"{self.what}: {what_fails} ({describe(exc)}); "
                f"waiting for it, retrying every {self.first_delay:g} to {self.longest_delay:g} s"
            )
        delay = self._delay
        self._delay = min(self.longest_delay, self._delay * 2)
        return delay

    def wait(self, exc: BaseException, stop: threading.Event | None = None) -> None:
        """Sleep before the next attempt (returns early when `stop` is set)."""
        delay = self._next_delay(exc)
        if stop is not None:
            stop.wait(delay)
        else:
            time.sleep(delay)

    async def wait_async(self, exc: BaseException, stop: asyncio.Event | None = None) -> None:
        delay = self._next_delay(exc)
        if stop is None:
            await asyncio.sleep(delay)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    def over(self) -> None:
        """An attempt succeeded: report the end of the outage, if there was one."""
        if self._since is not None:
            self.report(f"{self.what}: the database is back after {time.monotonic() - self._since:.0f} s")
        self._since = None
        self._delay = self.first_delay


class Stopped(Exception):
    """Asked to stop while waiting for the database."""


def retrying(attempt: Callable[[], T], outage: Outage, stop: threading.Event | None = None) -> T:
    """Run `attempt` until it gets through a database outage (errors that are not transient are
    raised at once); Stopped if `stop` is set while waiting."""
    while True:
        try:
            result = attempt()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if stop is not None and stop.is_set():
                raise Stopped() from exc
            outage.wait(exc, stop)
            continue
        outage.over()
        return result
