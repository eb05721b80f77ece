"""The service's executor of in-process billing runs (always on SQLite; on PostgreSQL unless runs
are queued for `faktur worker`, whose processes do this themselves): it executes the runs started
over HTTP, and resumes runs nobody executes any more (their executor's lease expired: a server or
a `faktur bill` died midway).

One explicit thread per service process, started and stopped with the application
(app.create_app's lifespan): it executes submitted runs, looks for expired ones at start and then
every half lease, executes each run to the end (one at a time), and waits out database outages.
Stopping it (SIGTERM) ends the run in hand between two chunks and releases its lease, so the
server stops promptly and the next one resumes the run. Several processes may look at once:
taking the lease is one conditional UPDATE, so exactly one of them executes a run.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from faktur.billing import leases, repository, runs
from faktur.db import session_scope
from faktur.outages import Outage, Stopped, is_transient, retrying

logger = logging.getLogger("faktur.billing.recovery")


class RunRecovery:
    def __init__(
        self,
        factory: sessionmaker[Session],
        lease_seconds: float = leases.DEFAULT_SECONDS,  # float-ok: seconds
    ) -> None:
        self.factory = factory
        self.lease_seconds = lease_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._submitted: list[tuple[uuid.UUID, uuid.UUID, datetime, leases.Lease]] = []
        self._submitted_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._outage = Outage("billing run recovery", logger.warning)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="faktur-billing-run-recovery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:  # float-ok: seconds
        """Stop between two chunks (a run in hand is released for another process to resume)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def submit(
        self, organisation_id: uuid.UUID, run_id: uuid.UUID, now: datetime, lease: leases.Lease
    ) -> None:
        """Execute a run started over HTTP (after its request committed and gave `lease` the run).
        Without a started thread (an application used without its lifespan) it runs here."""
        if self._thread is None:
            runs.dispatch(self.factory, organisation_id, run_id, now, lease)
            return
        with self._submitted_lock:
            self._submitted.append((organisation_id, run_id, now, lease))
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._execute_submitted()
                self.resume_expired()
            except Stopped:
                return
            except Exception as exc:
                if not is_transient(exc):
                    logger.exception("executing or resuming billing runs failed; trying again later")
            self._wake.wait(self.lease_seconds / 2)

    def _execute_submitted(self) -> None:
        with self._submitted_lock:
            submitted, self._submitted = self._submitted, []
        for organisation_id, run_id, now, lease in submitted:
            if self._stop.is_set():
                return  # their leases expire; the next process resumes them
            runs.dispatch(self.factory, organisation_id, run_id, now, lease, stop=self._stop)

    def _expired(self) -> list[tuple[uuid.UUID, uuid.UUID]]:
        with session_scope(self.factory) as session:
            return repository.runs_with_expired_lease(session, datetime.now(UTC))

    def resume_expired(self) -> int:
        """Execute every run whose lease expired to the end; how many were taken over here."""
        taken = 0
        for organisation_id, run_id in retrying(self._expired, self._outage, self._stop):
            if self._stop.is_set():
                break
            lease = leases.Lease(leases.new_executor("serve"), self.lease_seconds)
            try:
                completed = runs.run_in_process(
                    self.factory,
                    organisation_id,
                    run_id,
                    datetime.now(UTC),
                    lease=lease,
                    outage=self._outage,
                    stop=self._stop,
                )
            except (runs.AlreadyRunning, leases.LeaseLost):
                continue  # another process took it first
            except Stopped:
                raise
            except Exception:
                # A bug to look at; the run is tried again once this lease expired.
                logger.exception("resuming billing run %s failed", run_id)
                continue
            taken += 1
            logger.warning(
                "billing run %s had no live executor: resumed by %s%s",
                run_id,
                lease.executor,
                "" if completed else " (stopped before its end; released)",
            )
        return taken
