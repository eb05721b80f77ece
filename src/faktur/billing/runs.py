"""Billing runs: invoice every contract of an organisation with completed, uninvoiced periods.

A run is split into chunks of contracts (ordered by id), stored on the run's first start
(`billing_run_chunks`). Each chunk is executed in transactions of at most
PERIODS_PER_TRANSACTION due periods (a contract years behind is caught up over several); each
transaction, in order:

1. bills the chunk (faktur.billing.chunk.bill: plan -> check -> write, returning a ChunkResult):
   locks the chunk's contracts, plans their due periods (pure computation through faktur.calc;
   a period with nothing to bill is skipped and counted), has the invoicing core check every
   planned invoice, then creates, finalizes and numbers them in one batch (one block of numbers
   for exactly the batch; one executemany per table) in a SAVEPOINT, and records the usage they
   bill (one coverage row per invoice, marks only on late events; faktur.models.usage). A
   contract whose planning or invoice faktur or calc refuses with its own error is a contract
   failure, left out while the chunk goes on; any other exception is a bug that fails the chunk
   loudly (its transaction rolls back, the chunk stays pending, and the executor stops as after
   any crash);
2. records the transaction explicitly, as its last statements (`_record_transaction`; no
   commit hook): moves the run's counters by increments and renews the executor's lease
   (faktur.billing.leases); the chunk's last transaction also marks the chunk done, records its
   failures and completes the run when it was the last chunk.

Exactly once and gapless by design, also when the process is killed at any point: the database's
natural key (one live invoice per contract and period) makes a second invoice impossible, and a
transaction that did not commit left nothing behind - no invoice, no consumed number (the counter
row is updated inside it). Running a chunk again (a resumed run, a retried job) invoices only what
is still due, and a chunk already marked done rolls back (ChunkAlreadyDone): counters and failures
count once. If writing the batch fails after the block was reserved (a concurrent invoice of the
same period), the SAVEPOINT takes the rows and the numbers back and the chunk is retried without
that contract, which is recorded as a failure: no number is skipped.

One executor drives a run at a time (its lease on the run row): this module executes the chunks
one after another in this process (run_in_process); on PostgreSQL `faktur worker` processes may
take them from a queue instead (billing.queue, billing.tasks), with the same execute_chunk.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from faktur.billing import chunk, leases, repository
from faktur.billing import presenters as run_events
from faktur.billing.chunk import ChunkResult, ContractFailure
from faktur.billing.errors import AsOfOutOfRange, BillingRunNotFound
from faktur.billing.leases import Lease, LeaseLost
from faktur.context import Actor
from faktur.contracts import repository as contracts_repo
from faktur.db import session_scope
from faktur.models import BillingRun, BillingRunFailure, Organisation
from faktur.outages import Outage, Stopped, retrying

DEFAULT_CHUNK_SIZE = 100
# The most due periods one transaction invoices. Runs over current contracts bill one or two
# periods per contract; a contract years behind is caught up over several transactions, so no
# transaction (on SQLite: the database's write lock) is held for long: 200 invoices with their
# events take well under a second, a few seconds on a loaded machine, far inside the time other
# writers wait for their turn (FAKTUR_SQLITE_WRITE_LOCK_TIMEOUT_MS, 10 s).
PERIODS_PER_TRANSACTION = 200
logger = logging.getLogger("faktur.billing")


class ChunkAlreadyDone(Exception):
    """Another execution of this chunk committed first; this one must leave no trace."""


class AlreadyRunning(Exception):
    """Another executor holds the run's lease."""

    def __init__(self, run: BillingRun) -> None:
        super().__init__(f"billing run {run.id} is already running (executor {run.executor})")
        self.run_id = run.id
        self.executor = run.executor
        self.heartbeat_at = run.heartbeat_at
        self.lease_expires_at = run.lease_expires_at


EARLIEST_AS_OF = date(1970, 1, 1)


def check_as_of(as_of: date, today: date) -> None:
    """A run bills periods completed by `as_of`: from 1970 (no contract starts earlier) to today
    (a period is billed once it is over). This also bounds a run's work: no contract has more
    periods due than lie between 1970 and today."""
    if not EARLIEST_AS_OF <= as_of <= today:
        raise AsOfOutOfRange(as_of, EARLIEST_AS_OF, today)


def start_run(session: Session, organisation_id: uuid.UUID, as_of: date, now: datetime) -> BillingRun:
    """Resume the organisation's unfinished run for `as_of` (one killed midway), or start one.

    Nobody executes a new run until an executor claims its lease (leases.claim)."""
    existing = repository.running_run(session, organisation_id, as_of)
    if existing is not None:
        return existing
    run = BillingRun(
        id=uuid.uuid4(),
        organisation_id=organisation_id,
        created_at=now,
        updated_at=now,
        as_of=as_of,
        status="running",
        contracts_total=0,
        chunks_total=0,
        chunks_done=0,
        contracts_done=0,
        invoices_created=0,
        failures_count=0,
    )
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:
        # Another start of the same run committed first (one running run per as_of): resume it.
        existing = repository.running_run(session, organisation_id, as_of)
        if existing is None:
            raise
        return existing
    return run


def plan_chunks(
    session: Session, run: BillingRun, now: datetime, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> list[list[uuid.UUID]]:
    """Split the candidate contracts into chunks and record the run's size.

    Progress counters start again from zero: they count the chunks planned here (a run left by
    a faktur version that did not store its chunks is planned again when resumed)."""
    ids = contracts_repo.ids_started_before(session, run.organisation_id, run.as_of)
    chunks = [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]
    run.contracts_total = len(ids)
    run.chunks_total = len(chunks)
    run.chunks_done = 0
    run.contracts_done = 0
    run.updated_at = now
    session.flush()
    return chunks


def pending_chunks(
    session: Session, run: BillingRun, now: datetime, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> list[tuple[int, list[uuid.UUID]]]:
    """The run's chunks not done yet, (seq, contract ids); on the run's first start they are
    planned and stored, and a run without contracts is completed at once. The caller holds the
    run row's lock (two concurrent starts plan the run once)."""
    if run.status != "running":
        return []
    if repository.chunk_states(session, run.organisation_id, run.id):
        return repository.pending_chunks(session, run.organisation_id, run.id)
    chunks = plan_chunks(session, run, now, chunk_size)
    repository.add_chunks(session, run.organisation_id, run.id, chunks, now)
    if not chunks:
        run.status, run.finished_at = "completed", now
        session.flush()
        run_events.record_run_completed(session, run.organisation_id, run.id, now)
    return list(enumerate(chunks))


def execute_chunk(
    factory: sessionmaker[Session],
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    seq: int,
    contract_ids: Sequence[uuid.UUID],
    as_of: date,
    now: datetime,
    lease: Lease,
    *,
    fenced: bool = True,
    worker: str | None = None,
    period_budget: int = PERIODS_PER_TRANSACTION,
) -> ChunkResult | None:
    """Execute chunk `seq` of a run, in as many transactions as its due periods need; what the
    whole chunk did, or None when another execution had done the chunk already (this one changed
    nothing).

    Every transaction renews `lease`; `fenced` (in-process executors) rolls it back with
    LeaseLost when another executor holds the lease now. The chunk is marked done, by `worker`
    (default: the lease's executor), in its last transaction. `now` is the run's time (issue
    dates); the lease's clock tells when each transaction committed. An exception other than
    faktur's and calc's own errors (a bug) propagates: its transaction rolls back.
    """
    failed: dict[uuid.UUID, ContractFailure] = {}
    invoices_written = nothing_to_bill = 0
    while True:
        try:
            with session_scope(factory) as session:
                organisation = session.get(Organisation, organisation_id)
                assert organisation is not None
                actor = Actor(organisation, f"billing_run:{run_id}")
                result = chunk.bill(
                    session,
                    actor,
                    contract_ids,
                    as_of,
                    now,
                    failed_before=failed,
                    period_budget=period_budget,
                )
                _record_transaction(
                    session,
                    organisation_id,
                    run_id,
                    seq,
                    len(contract_ids),
                    result,
                    now,
                    lease,
                    fenced=fenced,
                    worker=worker,
                )
        except chunk.ContractFailed as refused:
            # Its write was refused after the number block was taken: bill the chunk again without it.
            failed[refused.failure.contract_id] = refused.failure
            continue
        except ChunkAlreadyDone:
            return None
        invoices_written += result.invoices
        nothing_to_bill += result.nothing_to_bill
        if result.complete:
            return replace(result, invoices=invoices_written, nothing_to_bill=nothing_to_bill)
        # More periods are due: the next transaction goes on without the contracts that failed.
        failed.update((failure.contract_id, failure) for failure in result.failures)


def _record_transaction(
    session: Session,
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    seq: int,
    contracts: int,
    result: ChunkResult,
    now: datetime,
    lease: Lease,
    *,
    fenced: bool,
    worker: str | None,
) -> None:
    """Record one transaction of chunk `seq`, in it, after its invoices were written: its invoices
    and, when it was the chunk's last (`result.complete`), the chunk's completion - the chunk marked
    done (ChunkAlreadyDone if another execution marked it first), its contracts and failures
    counted, the run completed if every chunk is done now. Keeps (`fenced`) or renews the lease."""
    if result.complete and not repository.mark_chunk_done(
        session, organisation_id, run_id, seq, lease.clock(), worker or lease.executor
    ):
        raise ChunkAlreadyDone(f"chunk {seq} of run {run_id} was committed by another execution")
    failures = result.failures if result.complete else ()
    for failure in failures:
        session.add(
            BillingRunFailure(
                id=uuid.uuid4(),
                organisation_id=organisation_id,
                created_at=now,
                run_id=run_id,
                contract_id=failure.contract_id,
                code=failure.code[:60],
                reason=failure.reason[:2000],
            )
        )
    # Counters move by increments in the chunk's transaction: chunks committed by several
    # processes add up, and a transaction that never committed never counted.
    repository.add_chunk_counts(
        session,
        organisation_id,
        run_id,
        chunks=1 if result.complete else 0,
        contracts=contracts if result.complete else 0,
        invoices=result.invoices,
        failures=len(failures),
        now=now,
    )
    session.flush()
    if fenced:
        leases.keep(session, organisation_id, run_id, lease)
    else:
        leases.renew(session, organisation_id, run_id, lease)
    if result.complete and repository.complete_if_every_chunk_done(
        session, organisation_id, run_id, lease.clock()
    ):
        run_events.record_run_completed(session, organisation_id, run_id, lease.clock())


def _take_chunks(
    session: Session,
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    lease: Lease,
    now: datetime,
    chunk_size: int,
) -> tuple[BillingRun, list[tuple[int, list[uuid.UUID]]]]:
    run = repository.get_run(session, organisation_id, run_id, for_update=True)
    if run is None:
        raise BillingRunNotFound(run_id)
    if run.status != "running":
        return run, []
    if not (
        leases.claim(session, organisation_id, run_id, lease)
        or leases.renew(session, organisation_id, run_id, lease)
    ):
        raise AlreadyRunning(run)
    return run, pending_chunks(session, run, now, chunk_size)


def run_in_process(
    factory: sessionmaker[Session],
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    now: datetime,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    lease: Lease | None = None,
    on_plan: Callable[[int, int], None] | None = None,
    on_chunk: Callable[[int, int, ChunkResult | None], None] | None = None,
    outage: Outage | None = None,
    stop: threading.Event | None = None,
) -> bool:
    """Execute the run's pending chunks one after another in this process, as its executor.

    Takes the run's lease (free, expired, or already this executor's: `lease`, default a new
    one) or raises AlreadyRunning; raises LeaseLost if another executor takes the run over.
    With `outage`, every transaction is retried until it gets through a database outage.
    `stop` ends the execution between two chunks (the lease is released, so any executor may
    resume at once); returns whether the run was completed here.
    `on_plan` hears the contracts in the run and those already done, `on_chunk` (contracts,
    invoices, result) per chunk.
    """
    lease = lease or Lease(leases.new_executor("run"))

    def attempt(work: Callable[[], Any]) -> Any:
        return work() if outage is None else retrying(work, outage, stop)

    def take() -> tuple[int, int, date, list[tuple[int, list[uuid.UUID]]]]:
        with session_scope(factory) as session:
            run, pending = _take_chunks(session, organisation_id, run_id, lease, now, chunk_size)
            return run.contracts_total, run.contracts_done, run.as_of, pending

    total, done, as_of, pending = attempt(take)
    if on_plan is not None:
        on_plan(total, done)
    for seq, contract_ids in pending:
        if stop is not None and stop.is_set():
            attempt(lambda: _release(factory, organisation_id, run_id, lease))
            return False
        result = attempt(
            partial(execute_chunk, factory, organisation_id, run_id, seq, contract_ids, as_of, now, lease)
        )
        if on_chunk is not None:
            on_chunk(len(contract_ids), 0 if result is None else result.invoices, result)
    return True


def _release(
    factory: sessionmaker[Session], organisation_id: uuid.UUID, run_id: uuid.UUID, lease: Lease
) -> None:
    with session_scope(factory) as session:
        leases.release(session, organisation_id, run_id, lease)


def get_run(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID) -> BillingRun:
    run = repository.get_run(session, organisation_id, run_id)
    if run is None:
        raise BillingRunNotFound(run_id)
    return run


def run_failures(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID) -> list[BillingRunFailure]:
    return repository.run_failures(session, organisation_id, run_id)


def dispatch(
    factory: sessionmaker[Session],
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    now: datetime,
    lease: Lease,
    stop: threading.Event | None = None,
) -> None:
    """Execute a run started over HTTP, in this process (after the request committed the run and
    gave `lease` the run). Database outages are waited out; `stop` ends it between two chunks
    (the lease released); if this process dies, the lease expires and the service (or a
    `faktur worker`) resumes the run."""
    outage = Outage(f"billing run {run_id}", logger.warning)
    try:
        run_in_process(factory, organisation_id, run_id, now, lease=lease, outage=outage, stop=stop)
    except Stopped:
        logger.info("billing run %s stopped between two chunks; its lease is released", run_id)
    except (AlreadyRunning, LeaseLost) as exc:
        logger.info("%s; this process leaves it to that executor", exc)
    except Exception:
        logger.exception("billing run %s stopped; it is resumed once its lease expires", run_id)
