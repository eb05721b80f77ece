"""Billing runs: invoice every contract of an organisation with completed, uninvoiced periods.

A run is split into chunks of contracts (ordered by id), stored on the run's first start
(`billing_run_chunks`). Each chunk is executed in transactions of at most
PERIODS_PER_TRANSACTION due periods (a contract years behind is caught up over several); each:

1. locks the chunk's contracts, loads their live invoices and unbilled events;
2. plans the due periods it takes (pure computation through faktur.calc); a contract whose plan
   fails is recorded as a failure and left out, the chunk goes on;
3. creates and finalizes the planned invoices in one batch (faktur.invoices.batch.create_invoices:
   every invoice is checked before anything is written; one block of numbers for exactly the
   batch; one executemany per table), in a SAVEPOINT, and records the usage they bill (one
   coverage row per invoice, marks only on late events; faktur.models.usage); a contract whose
   invoice the batch refuses is recorded as a failure and the batch built again without it;
4. moves the run's counters by increments and renews the executor's lease (faktur.billing.leases);
   the chunk's last transaction also marks the chunk done, records its failures and completes
   the run when it was the last chunk.

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
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from faktur.billing import leases, repository, service
from faktur.billing import presenters as run_events
from faktur.billing.leases import Lease, LeaseLost
from faktur.calc.periods import Period
from faktur.contracts import repository as contracts_repo
from faktur.db import session_scope
from faktur.errors import FakturError, NotFound, Unprocessable
from faktur.invoices import service as invoices
from faktur.invoices.batch import InvoiceRequestFailed, create_invoices, cyclic_gc_paused
from faktur.invoices.schemas import InvoiceCreate
from faktur.models import BillingRun, BillingRunFailure, Organisation
from faktur.outages import Outage, Stopped, retrying
from faktur.usage import billing_repository as usage

DEFAULT_CHUNK_SIZE = 100
# The most due periods one transaction invoices. Runs over current contracts bill one or two
# periods per contract; a contract years behind is caught up over several transactions, so no
# transaction (on SQLite: the database's write lock) is held for long.
PERIODS_PER_TRANSACTION = 500
logger = logging.getLogger("faktur.billing")


@dataclass
class ChunkOutcome:
    invoices: int = 0
    failures: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)
    # False when due periods beyond this transaction's budget remain.
    complete: bool = True


# Per contract with due periods: its state and, per period, the plan and the invoice body.
Planned = list[tuple[service.ContractState, list[tuple[Period, service.Plan, InvoiceCreate]]]]


class ContractFailed(Exception):
    """Storing a contract's invoices failed after the number block was reserved: retry without it."""

    def __init__(self, contract_id: uuid.UUID, code: str, reason: str) -> None:
        super().__init__(reason)
        self.contract_id, self.code, self.reason = contract_id, code, reason


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


def _describe(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, FakturError):
        return exc.code, exc.message
    code = getattr(exc, "code", None)
    return (code if isinstance(code, str) else type(exc).__name__), str(exc)[:2000]


EARLIEST_AS_OF = date(1970, 1, 1)


def check_as_of(as_of: date, today: date) -> None:
    """A run bills periods completed by `as_of`: from 1970 (no contract starts earlier) to today
    (a period is billed once it is over). This also bounds a run's work: no contract has more
    periods due than lie between 1970 and today."""
    if not EARLIEST_AS_OF <= as_of <= today:
        raise Unprocessable(
            f"as_of {as_of.isoformat()} is outside {EARLIEST_AS_OF.isoformat()} to today "
            f"({today.isoformat()}, UTC): a billing run invoices periods that are over; run it again "
            "once the period has ended.",
            code="as_of_out_of_range",
            details=[
                {"field": "as_of", "reason": f"must lie between {EARLIEST_AS_OF.isoformat()} and today"}
            ],
        )


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


def run_chunk(
    session: Session,
    organisation: Organisation,
    run_id: uuid.UUID,
    contract_ids: Sequence[uuid.UUID],
    as_of: date,
    now: datetime,
    excluded: dict[uuid.UUID, tuple[str, str]] | None = None,
    period_budget: int = PERIODS_PER_TRANSACTION,
) -> ChunkOutcome:
    """Invoice up to `period_budget` of the chunk's due periods in the caller's transaction (see
    the module docstring); the outcome says whether any stayed due (`complete`)."""
    excluded = excluded or {}
    actor = invoices.Actor(organisation, f"billing_run:{run_id}")
    outcome = ChunkOutcome(failures=[(cid, code, reason) for cid, (code, reason) in excluded.items()])
    contracts = contracts_repo.get_many(session, organisation.id, contract_ids, for_update=True)
    billable = [contract for contract in contracts if contract.id not in excluded]
    states, metrics = service.load_states(
        session, organisation.id, billable, as_of, period_budget=period_budget
    )
    planned: Planned = []
    for contract in billable:
        state = states[contract.id]
        outcome.complete = outcome.complete and not state.more_due
        try:
            invoices_of_contract = _plan_contract(session, state, metrics)
        except Exception as exc:
            if not service.is_failure(exc):
                raise
            outcome.failures.append((contract.id, *_describe(exc)))
            continue
        if invoices_of_contract:
            planned.append((state, invoices_of_contract))
    outcome.invoices = _store(session, actor, planned, now, outcome)
    return outcome


def _store(
    session: Session, actor: invoices.Actor, planned: Planned, now: datetime, outcome: ChunkOutcome
) -> int:
    """Create, finalize and number the chunk's planned invoices in one batch and mark the events
    they bill; returns how many were stored.

    The batch checks every invoice before it writes or numbers anything: a contract whose invoice
    is refused (e.g. the EN 16931 checks made at finalization) is recorded as a failure and the
    batch is built again without it. If the write itself fails (a concurrent invoice of the same
    period), the SAVEPOINT takes the rows and the number block back and the chunk is retried
    without that contract (ContractFailed), so the sequence never has a gap.
    """
    while planned:
        owners = [(state, period, plan) for state, items in planned for period, plan, _ in items]
        requests = [
            service.period_request(state, period, plan, body)
            for state, items in planned
            for period, plan, body in items
        ]
        try:
            with session.begin_nested():
                created = create_invoices(session, actor, requests, now)
                billed = [
                    plan.billed_usage(state.contract, invoice.id)
                    for (state, _, plan), invoice in zip(owners, created, strict=True)
                ]
                usage.mark_billed(session, actor.organisation_id, billed, now)
        except InvoiceRequestFailed as failed:
            contract = owners[failed.index][0].contract
            outcome.failures.append((contract.id, *_describe(failed.error)))
            planned = [(state, items) for state, items in planned if state.contract.id != contract.id]
            continue
        except IntegrityError as exc:
            for state, period, _ in owners:
                duplicate = service.duplicate_of(session, state.contract, period)
                if duplicate is not None:
                    raise ContractFailed(state.contract.id, *_describe(duplicate)) from exc
            raise
        return len(created)
    return 0


def _plan_contract(
    session: Session,
    state: service.ContractState,
    metrics: dict[uuid.UUID, service.MetricTerms],
) -> list[tuple[Period, service.Plan, InvoiceCreate]]:
    """Plan every due period the state was loaded for, oldest first."""
    items = []
    for period in state.periods:
        try:
            plan, body = service.build_period_invoice(session, state, metrics, period, finalize=True)
        except FakturError as exc:
            # A period whose fees all went out in advance has nothing left to bill; not a failure.
            if exc.code == "nothing_to_bill":
                continue
            raise
        items.append((period, plan, body))
    return items


def _record_progress(
    session: Session,
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    contracts: int,
    outcome: ChunkOutcome,
    now: datetime,
) -> None:
    """Count a transaction of a chunk: its invoices, and when it was the chunk's last, the chunk,
    its contracts and its failures."""
    failures = outcome.failures if outcome.complete else []
    for contract_id, code, reason in failures:
        session.add(
            BillingRunFailure(
                id=uuid.uuid4(),
                organisation_id=organisation_id,
                created_at=now,
                run_id=run_id,
                contract_id=contract_id,
                code=code[:60],
                reason=reason[:2000],
            )
        )
    # Counters move by increments in the chunk's transaction: chunks committed by several
    # processes add up, and a transaction that never committed never counted.
    repository.add_chunk_counts(
        session,
        organisation_id,
        run_id,
        chunks=1 if outcome.complete else 0,
        contracts=contracts if outcome.complete else 0,
        invoices=outcome.invoices,
        failures=len(failures),
        now=now,
    )
    session.flush()


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
) -> ChunkOutcome | None:
    """Execute chunk `seq` of a run, in as many transactions as its due periods need; None when
    another execution had done the chunk already (this one changed nothing).

    Every transaction renews `lease`; `fenced` (in-process executors) rolls it back with
    LeaseLost when another executor holds the lease now. The chunk is marked done, by `worker`
    (default: the lease's executor), in its last transaction. `now` is the run's time (issue
    dates); the lease's clock tells when each transaction committed.
    """
    excluded: dict[uuid.UUID, tuple[str, str]] = {}
    invoices_created = 0
    while True:
        try:
            with cyclic_gc_paused(), session_scope(factory) as session:
                organisation = session.get(Organisation, organisation_id)
                assert organisation is not None
                outcome = run_chunk(
                    session, organisation, run_id, contract_ids, as_of, now, excluded, period_budget
                )
                if outcome.complete and not repository.mark_chunk_done(
                    session, organisation_id, run_id, seq, lease.clock(), worker or lease.executor
                ):
                    raise ChunkAlreadyDone(f"chunk {seq} of run {run_id} was committed by another execution")
                _record_progress(session, organisation_id, run_id, len(contract_ids), outcome, now)
                if fenced:
                    leases.keep(session, organisation_id, run_id, lease)
                else:
                    leases.renew(session, organisation_id, run_id, lease)
                if outcome.complete and repository.complete_if_every_chunk_done(
                    session, organisation_id, run_id, lease.clock()
                ):
                    run_events.record_run_completed(session, organisation_id, run_id, lease.clock())
        except ContractFailed as failed:
            excluded[failed.contract_id] = (failed.code, failed.reason)
            continue
        except ChunkAlreadyDone:
            return None
        invoices_created += outcome.invoices
        if outcome.complete:
            outcome.invoices = invoices_created
            return outcome
        # More periods are due: the next transaction goes on without the contracts that failed.
        excluded.update((cid, (code, reason)) for cid, code, reason in outcome.failures)


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
        raise NotFound(f"No billing run {run_id} in this organisation.", code="billing_run_not_found")
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
    on_chunk: Callable[[int, int, ChunkOutcome | None], None] | None = None,
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
    invoices, outcome) per chunk.
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
        outcome = attempt(
            lambda seq=seq, contract_ids=contract_ids: execute_chunk(
                factory, organisation_id, run_id, seq, contract_ids, as_of, now, lease
            )
        )
        if on_chunk is not None:
            on_chunk(len(contract_ids), 0 if outcome is None else outcome.invoices, outcome)
    return True


def _release(
    factory: sessionmaker[Session], organisation_id: uuid.UUID, run_id: uuid.UUID, lease: Lease
) -> None:
    with session_scope(factory) as session:
        leases.release(session, organisation_id, run_id, lease)


def get_run(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID) -> BillingRun:
    run = repository.get_run(session, organisation_id, run_id)
    if run is None:
        raise NotFound(f"No billing run {run_id} in this organisation.", code="billing_run_not_found")
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
