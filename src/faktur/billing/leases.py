"""The lease of a billing run: exactly one executor drives a run at a time.

The executor's id, its last heartbeat and the lease's expiry live on the run row. An executor
claims the lease when it is free or expired, renews it in every transaction of the run (each one
is short: see runs.PERIODS_PER_TRANSACTION), and in-process executors fence with it: a chunk
transaction whose executor no longer holds the lease rolls back (LeaseLost), so a run taken over
by another executor is never driven by two. A queued run's executor is `queue` (the `faktur worker`
processes together); every worker that commits a chunk of it renews the lease.

Who takes an expired lease over: a `faktur worker` (it queues the run's unfinished chunks), the
service when runs execute in-process (at start and periodically), and a `faktur bill` that follows
a run whose executor died.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from faktur.billing import repository

QUEUE = "queue"
DEFAULT_SECONDS = 60.0  # float-ok: seconds


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_executor(kind: str) -> str:
    """A unique executor id saying what and where it is: `bill@host:pid:1a2b3c4d`."""
    return f"{kind}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:120]


@dataclass(frozen=True)
class Lease:
    executor: str
    seconds: float = DEFAULT_SECONDS  # float-ok: seconds
    clock: Callable[[], datetime] = field(default=utc_now, compare=False)

    def expires_at(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.seconds)


class LeaseLost(Exception):
    """Another executor took the run over (this one was silent longer than the lease)."""


def claim(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, lease: Lease) -> bool:
    """Take the run's lease if it is free or expired; False while another executor holds it."""
    now = lease.clock()
    return repository.claim_lease(
        session, organisation_id, run_id, lease.executor, now, lease.expires_at(now)
    )


def renew(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, lease: Lease) -> bool:
    """Renew the lease; False if another executor holds it now."""
    now = lease.clock()
    return repository.renew_lease(
        session, organisation_id, run_id, lease.executor, now, lease.expires_at(now)
    )


def keep(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, lease: Lease) -> None:
    """Renew the lease in the caller's transaction, or raise LeaseLost (which rolls it back)."""
    if not renew(session, organisation_id, run_id, lease):
        raise LeaseLost(f"billing run {run_id} is executed by another executor now")


def release(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, lease: Lease) -> None:
    """Stop executing an unfinished run: the lease expires now, so another executor can take it."""
    repository.release_lease(session, organisation_id, run_id, lease.executor, lease.clock())
