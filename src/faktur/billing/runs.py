"""Billing runs: invoice every contract of an organisation with completed, uninvoiced periods.

A run is split into chunks of contracts (ordered by id). Each chunk is one transaction:

1. lock the chunk's contracts, load their live invoices and unbilled events;
2. plan every due period of every contract (pure computation through faktur.calc); a contract
   whose plan fails is recorded as a failure and left out, the chunk goes on;
3. create and finalize the planned invoices in one batch (faktur.invoices.batch.create_invoices:
   every invoice is checked before anything is written; one block of numbers for exactly the
   batch; one executemany per table), in a SAVEPOINT, and record the usage they bill (one
   coverage row per invoice, marks only on late events; faktur.models.usage); a
   contract whose invoice the batch refuses is recorded as a failure and the batch built again
   without it;
4. update the run's counters.

Exactly once and gapless by design, also when the process is killed at any point: the database's
natural key (one live invoice per contract and period) makes a second invoice impossible, and a
chunk that did not commit left nothing behind - no invoice, no consumed number (the counter row
is updated inside the chunk's transaction). Starting the run again resumes it: periods already
invoiced are not due any more. If writing the batch fails after the block was reserved (a
concurrent invoice of the same period), the SAVEPOINT takes the rows and the numbers back and the
chunk is retried without that contract, which is recorded as a failure: no number is skipped.

The chunk is the seam for parallelism: `run_chunk` needs only ids, so any executor can run
chunks (in-process here; on PostgreSQL several processes can take chunks concurrently, the row
locks on contracts and on the number counter keep them apart).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from faktur.billing import repository, service
from faktur.calc.periods import Period
from faktur.contracts import repository as contracts_repo
from faktur.db import session_scope
from faktur.errors import FakturError, NotFound
from faktur.invoices import service as invoices
from faktur.invoices.batch import InvoiceRequestFailed, create_invoices, cyclic_gc_paused
from faktur.invoices.schemas import InvoiceCreate
from faktur.models import BillingRun, BillingRunFailure, Organisation
from faktur.usage import billing_repository as usage

DEFAULT_CHUNK_SIZE = 100
logger = logging.getLogger("faktur.billing")


@dataclass
class ChunkOutcome:
    invoices: int = 0
    failures: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)


# Per contract with due periods: its state and, per period, the plan and the invoice body.
Planned = list[tuple[service.ContractState, list[tuple[Period, service.Plan, InvoiceCreate]]]]


class ContractFailed(Exception):
    """Storing a contract's invoices failed after the number block was reserved: retry without it."""

    def __init__(self, contract_id: uuid.UUID, code: str, reason: str) -> None:
        super().__init__(reason)
        self.contract_id, self.code, self.reason = contract_id, code, reason


def _describe(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, FakturError):
        return exc.code, exc.message
    code = getattr(exc, "code", None)
    return (code if isinstance(code, str) else type(exc).__name__), str(exc)[:2000]


def start_run(session: Session, organisation_id: uuid.UUID, as_of: date, now: datetime) -> BillingRun:
    """Resume the organisation's unfinished run for `as_of` (one killed midway), or start one."""
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
    session.add(run)
    session.flush()
    return run


def plan_chunks(
    session: Session, run: BillingRun, now: datetime, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> list[list[uuid.UUID]]:
    """Split the candidate contracts into chunks and record the run's size (resets progress)."""
    ids = contracts_repo.ids_started_before(session, run.organisation_id, run.as_of)
    chunks = [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]
    run.contracts_total = len(ids)
    run.chunks_total = len(chunks)
    run.chunks_done = 0
    run.contracts_done = 0
    run.updated_at = now
    session.flush()
    return chunks


def run_chunk(
    session: Session,
    organisation: Organisation,
    run_id: uuid.UUID,
    contract_ids: Sequence[uuid.UUID],
    as_of: date,
    now: datetime,
    excluded: dict[uuid.UUID, tuple[str, str]] | None = None,
) -> ChunkOutcome:
    """Invoice the chunk's due periods in the caller's transaction (see the module docstring)."""
    excluded = excluded or {}
    actor = invoices.Actor(organisation, f"billing_run:{run_id}")
    outcome = ChunkOutcome(failures=[(cid, code, reason) for cid, (code, reason) in excluded.items()])
    contracts = contracts_repo.get_many(session, organisation.id, contract_ids, for_update=True)
    states, metrics = service.load_states(session, organisation.id, contracts, as_of)
    planned: Planned = []
    for contract in contracts:
        if contract.id in excluded:
            continue
        state = states[contract.id]
        try:
            invoices_of_contract = _plan_contract(session, state, metrics)
        except Exception as exc:
            if not service.is_failure(exc):
                raise
            outcome.failures.append((contract.id, *_describe(exc)))
            continue
        if invoices_of_contract:
            planned.append((state, invoices_of_contract))
    count = _store(session, actor, planned, now, outcome)
    outcome.invoices = count
    _record_progress(session, organisation.id, run_id, len(contract_ids), outcome, now)
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
    for contract_id, code, reason in outcome.failures:
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
    # processes add up, and a chunk that never committed never counted.
    repository.add_chunk_counts(
        session,
        organisation_id,
        run_id,
        contracts=contracts,
        invoices=outcome.invoices,
        failures=len(outcome.failures),
        now=now,
    )
    session.flush()


def execute_chunk(
    factory: sessionmaker[Session],
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    contract_ids: Sequence[uuid.UUID],
    as_of: date,
    now: datetime,
) -> ChunkOutcome:
    """Run one chunk in its own transaction, retrying without contracts whose finalization failed."""
    excluded: dict[uuid.UUID, tuple[str, str]] = {}
    while True:
        try:
            with cyclic_gc_paused(), session_scope(factory) as session:
                organisation = session.get(Organisation, organisation_id)
                assert organisation is not None
                return run_chunk(session, organisation, run_id, contract_ids, as_of, now, excluded)
        except ContractFailed as failed:
            excluded[failed.contract_id] = (failed.code, failed.reason)


def finish_run(
    factory: sessionmaker[Session], organisation_id: uuid.UUID, run_id: uuid.UUID, now: datetime
) -> None:
    with session_scope(factory) as session:
        repository.mark_completed(session, organisation_id, run_id, now)


def run_in_process(
    factory: sessionmaker[Session],
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    now: datetime,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_plan: Callable[[int], None] | None = None,
    on_chunk: Callable[[int, int, ChunkOutcome], None] | None = None,
) -> None:
    """Plan the run's chunks and execute them one after another in this process.

    `on_plan` hears the number of contracts, `on_chunk` (contracts, invoices, outcome) per chunk.
    """
    with session_scope(factory) as session:
        run = get_run(session, organisation_id, run_id)
        as_of = run.as_of
        chunks = plan_chunks(session, run, now, chunk_size)
    if on_plan is not None:
        on_plan(sum(len(chunk) for chunk in chunks))
    for chunk in chunks:
        outcome = execute_chunk(factory, organisation_id, run_id, chunk, as_of, now)
        if on_chunk is not None:
            on_chunk(len(chunk), outcome.invoices, outcome)
    finish_run(factory, organisation_id, run_id, now)


def get_run(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID) -> BillingRun:
    run = repository.get_run(session, organisation_id, run_id)
    if run is None:
        raise NotFound(f"No billing run {run_id} in this organisation.", code="billing_run_not_found")
    return run


def run_failures(session: Session, organisation_id: uuid.UUID, run_id: uuid.UUID) -> list[BillingRunFailure]:
    return repository.run_failures(session, organisation_id, run_id)


def dispatch(
    factory: sessionmaker[Session], organisation_id: uuid.UUID, run_id: uuid.UUID, now: datetime
) -> None:
    """Execute a run started over HTTP, in this process (after the request committed the run).

    A crash leaves the run `running`; starting a run for the same as_of again resumes it.
    """
    try:
        run_in_process(factory, organisation_id, run_id, now)
    except Exception:
        logger.exception("billing run %s stopped; start it again to resume", run_id)
