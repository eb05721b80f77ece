"""The task a billing worker runs: one chunk of a queued run (runs.execute_chunk), counted once.

A queued chunk may run more than once: procrastinate gives a job to another worker when the one
that had it stopped sending heartbeats, which also happens when that worker died *after* the
chunk committed but before the queue heard of it. Invoices cannot double (the natural key on
(contract, period) and the periods already invoiced are not due any more), but the run's counters
would: so the chunk's row is marked done in the chunk's own transaction, and a transaction that
finds it already marked rolls back. The same transaction completes the run when its chunk is the
last one (`chunks_done` is incremented under the run row's lock, so exactly one chunk sees it
reach `chunks_total`).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from procrastinate import App, JobContext, RetryStrategy
from sqlalchemy import event
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from faktur.billing import repository, runs
from faktur.db import session_scope
from faktur.errors import NotFound
from faktur.models import BillingRunChunk

QUEUE = "billing"
TASK_NAME = "faktur.billing.bill_chunk"
# Lost connections and deadlocks are worth another try; any other error is a bug to look at (the
# job fails and the chunk stays pending: starting the run again queues it again).
RETRY = RetryStrategy(max_attempts=5, exponential_wait=1, retry_exceptions={OperationalError, InterfaceError})


class ChunkAlreadyDone(Exception):
    """Another execution of this chunk committed first; this one must leave no trace."""


def get_chunk(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID, seq: int) -> BillingRunChunk:
    chunk = repository.get_chunk(session, organisation_id, run_id, seq)
    if chunk is None:
        raise NotFound(f"No chunk {seq} in billing run {run_id}.", code="billing_run_chunk_not_found")
    return chunk


def _mark_done(
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    seq: int,
    worker: str,
    clock: Callable[[], datetime],
    session: Session,
) -> None:
    """before_commit of the chunk's transaction: claim the chunk, complete the run if it was last."""
    if session.in_nested_transaction():
        # Releasing a SAVEPOINT inside the chunk fires before_commit too; only the real commit counts.
        return
    done_at = clock()
    if not repository.mark_chunk_done(session, organisation_id, run_id, seq, done_at, worker):
        raise ChunkAlreadyDone(f"chunk {seq} of run {run_id} was committed by another execution")
    repository.complete_if_every_chunk_done(session, organisation_id, run_id, done_at)


def bill_queued_chunk(
    factory: sessionmaker[Session],
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    seq: int,
    now: datetime,
    *,
    worker: str,
    clock: Callable[[], datetime],
) -> runs.ChunkOutcome | None:
    """Execute chunk `seq` of a queued run; None when it had already been done (nothing changes).

    `now` is the run's time (issue dates, as for an in-process run); `clock` tells when it committed.
    """
    with session_scope(factory) as session:
        chunk = get_chunk(session, organisation_id, run_id, seq)
        if chunk.done_at is not None:
            return None
        as_of = runs.get_run(session, organisation_id, run_id).as_of
        contract_ids = [uuid.UUID(value) for value in chunk.contract_ids]
    # execute_chunk opens its transactions from the factory it is given: a factory of its own
    # carries the hook into exactly this chunk's transaction (and into its retries without a
    # failed contract), and nowhere else.
    chunk_factory: sessionmaker[Session] = sessionmaker(**factory.kw)
    event.listen(
        chunk_factory,
        "before_commit",
        functools.partial(_mark_done, organisation_id, run_id, seq, worker, clock),
    )
    try:
        return runs.execute_chunk(chunk_factory, organisation_id, run_id, contract_ids, as_of, now)
    except ChunkAlreadyDone:
        return None


def _bill_chunk(context: JobContext, organisation_id: str, run_id: str, seq: int, now: str) -> int:
    """The procrastinate task: the number of invoices the chunk created (0 if already done)."""
    outcome = bill_queued_chunk(
        context.additional_context["session_factory"],
        uuid.UUID(organisation_id),
        uuid.UUID(run_id),
        seq,
        datetime.fromisoformat(now),
        worker=context.additional_context["worker_name"],
        clock=lambda: datetime.now(UTC),
    )
    return 0 if outcome is None else outcome.invoices


def register(app: App) -> None:
    """Register the billing tasks on `app` (one App per process and database, see queue.make_app)."""
    app.task(name=TASK_NAME, queue=QUEUE, pass_context=True, retry=RETRY)(_bill_chunk)
