"""The task a billing worker runs: one chunk of a queued run (runs.execute_chunk), counted once.

A queued chunk may run more than once: procrastinate gives a job to another worker when the one
that had it stopped sending heartbeats, which also happens when that worker died *after* the
chunk committed but before the queue heard of it, and a run whose lease expired is queued again.
Invoices cannot double (the natural key on (contract, period) and the periods already invoiced
are not due any more), and the run's counters do not either: the chunk's row is marked done in
the chunk's last transaction, and a transaction that finds it already marked rolls back. The same
transaction completes the run when its chunk is the last one (`chunks_done` is incremented under
the run row's lock, so exactly one chunk sees it reach `chunks_total`).

A database outage during a chunk is waited out inside the task (one log line when it starts, one
when it ends), so the job is neither failed nor left to procrastinate's retries.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from procrastinate import App, JobContext, RetryStrategy
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from faktur.billing import leases, repository, runs
from faktur.billing.chunk import ChunkResult
from faktur.billing.errors import BillingRunChunkNotFound
from faktur.db import session_scope
from faktur.models import BillingRunChunk
from faktur.outages import Outage, Stopped, retrying

QUEUE = "billing"
TASK_NAME = "faktur.billing.bill_chunk"
# What the task does not wait out itself (a worker asked to stop while it waits for the database,
# a lost connection) is worth another try; any other error is a bug to look at (the job fails,
# the chunk stays pending, and the run is queued again once its lease expires).
RETRY = RetryStrategy(
    max_attempts=5, exponential_wait=1, retry_exceptions={OperationalError, InterfaceError, Stopped}
)
logger = logging.getLogger("faktur.billing.worker")


def get_chunk(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, seq: int) -> BillingRunChunk:
    chunk = repository.get_chunk(session, organisation_id, run_id, seq)
    if chunk is None:
        raise BillingRunChunkNotFound(run_id, seq)
    return chunk


def bill_queued_chunk(
    factory: sessionmaker[Session],
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    seq: int,
    now: datetime,
    *,
    worker: str,
    clock: Callable[[], datetime],
    lease_seconds: float = leases.DEFAULT_SECONDS,  # float-ok: seconds
) -> ChunkResult | None:
    """Execute chunk `seq` of a queued run; None when it had already been done (nothing changes).

    `now` is the run's time (issue dates, as for an in-process run); `clock` tells when it committed.
    """
    with session_scope(factory) as session:
        chunk = get_chunk(session, organisation_id, run_id, seq)
        if chunk.done_at is not None:
            return None
        as_of = runs.get_run(session, organisation_id, run_id).as_of
        contract_ids = [uuid.UUID(value) for value in chunk.contract_ids]
    lease = leases.Lease(leases.QUEUE, lease_seconds, clock)
    return runs.execute_chunk(
        factory, organisation_id, run_id, seq, contract_ids, as_of, now, lease, fenced=False, worker=worker
    )


def _bill_chunk(context: JobContext, organisation_id: str, run_id: str, seq: int, now: str) -> int:
    """The procrastinate task: the number of invoices the chunk created (0 if already done)."""
    extra = context.additional_context
    stop: threading.Event = extra["stop"]
    in_hand: set[int] = extra["in_hand"]
    job_id = context.job.id
    assert job_id is not None
    in_hand.add(job_id)
    try:
        result = retrying(
            lambda: bill_queued_chunk(
                extra["session_factory"],
                uuid.UUID(organisation_id),
                uuid.UUID(run_id),
                seq,
                datetime.fromisoformat(now),
                worker=extra["worker_name"],
                clock=lambda: datetime.now(UTC),
                lease_seconds=extra["lease_seconds"],
            ),
            Outage(f"chunk {seq} of billing run {run_id}", logger.warning),
            stop,
        )
    finally:
        in_hand.discard(job_id)
    return 0 if result is None else result.invoices


def register(app: App) -> None:
    """Register the billing tasks on `app` (one App per process and database, see queue.make_app)."""
    app.task(name=TASK_NAME, queue=QUEUE, pass_context=True, retry=RETRY)(_bill_chunk)
