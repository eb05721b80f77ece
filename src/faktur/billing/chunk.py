"""One transaction of a billing run's chunk, in explicit steps that return values: plan -> check
-> write, answered as a ChunkResult. The run's lifecycle around it (transactions, the chunk's
completion, counters, the lease) is faktur.billing.runs.

1. plan (`plan`): lock the chunk's contracts, load their live invoices and unbilled usage, and
   plan every due period the transaction's budget takes (faktur.billing.service, pure computation
   through faktur.calc): an invoice, or nothing to bill (a value, not an error: the period is
   skipped and counted). A contract whose planning raises faktur's or calc's own error
   (FakturError, CalcError: its data cannot be invoiced) is a contract failure and is left out.
   Any other exception is a bug: it propagates, and the chunk's transaction rolls back.
2. check and 3. write (`write`): the invoicing core checks every planned invoice before it writes
   or numbers anything (faktur.invoices.batch.create_invoices, all or nothing). A contract whose
   invoice it refuses (e.g. the EN 16931 checks made at finalization) is a contract failure, and
   the batch is checked again without it. The checked batch is then numbered from one block and
   written, and the usage it bills recorded, in a SAVEPOINT. If the write itself is refused by the
   natural key (an invoice of the same period committed meanwhile), the SAVEPOINT takes the rows
   and the number block back and ContractFailed tells the caller to roll back and plan again
   without that contract: no number is skipped.
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
from faktur.invoices.batch import InvoiceRequestFailed, create_invoices
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
class Written:
    invoices: int
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
    written = write(session, actor, planned.contracts, now)
    return ChunkResult(
        invoices=written.invoices,
        failures=planned.failures + written.refused,
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


def write(
    session: Session, actor: Actor, contracts: Sequence[ContractPlan], now: datetime
) -> Written:
    """Check the planned invoices, leaving out the contracts whose invoice the core refuses, then
    number and write them in one batch and record the usage they bill (see the module docstring)."""
    refused: list[ContractFailure] = []
    remaining = list(contracts)
    while remaining:
        owners = [(contract.state, planned) for contract in remaining for planned in contract.invoices]
        requests = [
            service.period_request(state, planned.period, planned.plan, planned.body)
            for state, planned in owners
        ]
        try:
            with session.begin_nested():
                created = create_invoices(session, actor, requests, now)
                billed = [
                    planned.plan.billed_usage(state.contract, invoice.id)
                    for (state, planned), invoice in zip(owners, created, strict=True)
                ]
                usage.mark_billed(session, actor.organisation_id, billed, now)
        except InvoiceRequestFailed as failed:
            contract = owners[failed.index][0].contract
            refused.append(ContractFailure.of(contract.id, failed.error))
            remaining = [planned for planned in remaining if planned.state.contract.id != contract.id]
            continue
        except IntegrityError as exc:
            for state, planned in owners:
                duplicate = service.duplicate_of(session, state.contract, planned.period)
                if duplicate is not None:
                    raise ContractFailed(ContractFailure.of(state.contract.id, duplicate)) from exc
            raise
        return Written(len(created), tuple(refused))
    return Written(0, tuple(refused))
