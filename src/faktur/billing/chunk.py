"""One transaction of a billing run's chunk, in explicit steps that return values: plan -> check
-> write, answered as a ChunkResult. The run's lifecycle around it (transactions, the chunk's
completion, counters, the lease) is faktur.billing.runs.

1. plan (`plan`): lock the chunk's contracts, load their live invoices and unbilled usage, and
   plan every due period the transaction's budget takes (faktur.billing.service, pure computation
   through faktur.calc): an invoice, or nothing to bill (a value, not an error: the period is
   skipped and counted). A contract whose planning raises faktur's or calc's own error
   (FakturError, CalcError: its data cannot be invoiced) is a contract failure and is left out.
   Any other exception is a bug: it propagates, and the chunk's transaction rolls back.
2. check (`check`): the invoicing core computes and builds every planned invoice in memory
   (faktur.invoices.batch.check_invoices), writing nothing and taking no number. A contract whose
   invoice it refuses (e.g. the EN 16931 checks made at finalization) is a contract failure, and
   the rest is checked again without it: a `CheckedChunk`.
3. write (`write`): the checked batch is numbered from one block and written
   (faktur.invoices.batch.write_checked), and the usage it bills recorded, in a SAVEPOINT. If the
   write itself is refused by the natural key (an invoice of the same period committed meanwhile),
   the SAVEPOINT takes the rows and the number block back and ContractFailed tells the caller to
   roll back and plan again without that contract: no number is skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from faktur.billing import service
from faktur.calc.errors import CalcError
from faktur.calc.periods import Period
from faktur.context import Actor
from faktur.contracts import repository as contracts_repo
from faktur.errors import FakturError
from faktur.invoices.batch import CheckedBatch, InvoiceRequestFailed, check_invoices, write_checked
from faktur.invoices.domain import NewInvoice
from faktur.usage import billing_repository as usage


@dataclass(frozen=True)
class ContractFailure:
    """A contract the chunk did not bill: the code and message of the error that refused it."""

    contract_id: uuid.UUID
    code: str
    reason: str

    @classmethod
    def of(cls, contract_id: uuid.UUID, error: FakturError | CalcError) -> ContractFailure:
        return cls(contract_id, error.code, error.message)


@dataclass(frozen=True)
class ChunkResult:
    """What a chunk (or one transaction of it) did."""

    # Invoices written: created, finalized and numbered.
    invoices: int
    # Contracts not billed, in the order they failed (those of earlier transactions first).
    failures: tuple[ContractFailure, ...]
    # Due periods with nothing to bill (their fees went out in advance), skipped.
    nothing_to_bill: int
    # False when due periods beyond the transaction's budget remain.
    complete: bool


@dataclass(frozen=True)
class PlannedInvoice:
    period: Period
    plan: service.Plan
    body: NewInvoice


@dataclass(frozen=True)
class ContractPlan:
    """A contract's invoices to write, oldest period first."""

    state: service.ContractState
    invoices: tuple[PlannedInvoice, ...]


@dataclass(frozen=True)
class ChunkPlan:
    contracts: tuple[ContractPlan, ...]
    failures: tuple[ContractFailure, ...]
    nothing_to_bill: int
    complete: bool


@dataclass(frozen=True)
class CheckedChunk:
    """The planned invoices the core accepted, each with its contract's state, checked and built
    (nothing written yet), and the contracts whose invoice it refused."""

    owners: tuple[tuple[service.ContractState, PlannedInvoice], ...]
    batch: CheckedBatch
    refused: tuple[ContractFailure, ...]


class ContractFailed(Exception):
    """Writing a contract's invoices failed after the number block was reserved: roll back and
    bill the chunk again without it."""

    def __init__(self, failure: ContractFailure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


def bill(
    session: Session,
    actor: Actor,
    contract_ids: Sequence[uuid.UUID],
    as_of: date,
    now: datetime,
    *,
    failed_before: Mapping[uuid.UUID, ContractFailure],
    period_budget: int,
) -> ChunkResult:
    """Invoice up to `period_budget` of the chunk's due periods in the caller's transaction (see
    the module docstring). The contracts `failed_before` (in an earlier transaction of the chunk)
    are not billed again and stay among the result's failures."""
    planned = plan(session, actor.organisation_id, contract_ids, as_of, failed_before, period_budget)
    checked = check(session, actor, planned.contracts, now)
    return ChunkResult(
        invoices=write(session, actor, checked, now),
        failures=planned.failures + checked.refused,
        nothing_to_bill=planned.nothing_to_bill,
        complete=planned.complete,
    )


def plan(
    session: Session,
    organisation_id: uuid.UUID,
    contract_ids: Sequence[uuid.UUID],
    as_of: date,
    failed_before: Mapping[uuid.UUID, ContractFailure],
    period_budget: int,
) -> ChunkPlan:
    """Lock the chunk's contracts and plan their due periods, at most `period_budget` of them."""
    contracts = contracts_repo.get_many(session, organisation_id, contract_ids, for_update=True)
    billable = [contract for contract in contracts if contract.id not in failed_before]
    states, metrics = service.load_states(
        session, organisation_id, billable, as_of, period_budget=period_budget
    )
    planned: list[ContractPlan] = []
    failures = list(failed_before.values())
    nothing_to_bill = 0
    for contract in billable:
        state = states[contract.id]
        try:
            outcomes = [
                service.build_period_invoice(session, state, metrics, period, finalize=True)
                for period in state.periods
            ]
        except (FakturError, CalcError) as exc:
            failures.append(ContractFailure.of(contract.id, exc))
            continue
        to_write = []
        for period, outcome in zip(state.periods, outcomes, strict=True):
            if isinstance(outcome, service.NothingToBill):
                nothing_to_bill += 1
            else:
                to_write.append(PlannedInvoice(period, *outcome))
        if to_write:
            planned.append(ContractPlan(state, tuple(to_write)))
    return ChunkPlan(
        contracts=tuple(planned),
        failures=tuple(failures),
        nothing_to_bill=nothing_to_bill,
        complete=not any(states[contract.id].more_due for contract in billable),
    )


def check(session: Session, actor: Actor, contracts: Sequence[ContractPlan], now: datetime) -> CheckedChunk:
    """Check the planned invoices, leaving out the contracts whose invoice the core refuses and
    checking the rest again (see the module docstring); nothing is written."""
    refused: list[ContractFailure] = []
    remaining = list(contracts)
    while True:
        owners = tuple((contract.state, planned) for contract in remaining for planned in contract.invoices)
        requests = [
            service.period_request(state, planned.period, planned.plan, planned.body)
            for state, planned in owners
        ]
        try:
            batch = check_invoices(session, actor, requests, now)
        except InvoiceRequestFailed as failed:
            contract = owners[failed.index][0].contract
            refused.append(ContractFailure.of(contract.id, failed.error))
            remaining = [planned for planned in remaining if planned.state.contract.id != contract.id]
            continue
        return CheckedChunk(owners, batch, tuple(refused))


def write(session: Session, actor: Actor, checked: CheckedChunk, now: datetime) -> int:
    """Number and write the checked invoices in one batch and record the usage they bill, in a
    SAVEPOINT (see the module docstring); answers how many invoices were written."""
    if not checked.owners:
        return 0
    try:
        with session.begin_nested():
            written = write_checked(session, actor, checked.batch, now)
            billed = [
                planned.plan.billed_usage(state.contract, invoice.id)
                for (state, planned), invoice in zip(checked.owners, written, strict=True)
            ]
            usage.mark_billed(session, actor.organisation_id, billed, now)
    except IntegrityError as exc:
        for state, planned in checked.owners:
            duplicate = service.duplicate_of(session, state.contract, planned.period)
            if duplicate is not None:
                raise ContractFailed(ContractFailure.of(state.contract.id, duplicate)) from exc
        raise
    return len(written)
