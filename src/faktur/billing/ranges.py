"""Invoices of a contract for a range of days that is not one of its billing periods.

The range is cut at the contract's cycle boundaries into periods (partial where they cover part
of a cycle) and each is planned by the billing planner exactly as a billing run plans a partial
period: flat fees prorated by days (faktur.calc.proration), usage priced by its charge model with
a prorated minimum, one-off fees when the range starts with the contract. The invoice bills the
whole range once: its days may not lie in any other live invoice of the contract, and billing
runs skip a period that such an invoice overlaps. Services flush, never commit.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from faktur.billing import lines as planner
from faktur.billing import service as billing
from faktur.billing.errors import (
    PeriodOverlapsInvoice,
    RangeNotCompleted,
    RangeOfInAdvanceContract,
    RangeOutsideContract,
)
from faktur.calc.periods import Period
from faktur.context import Actor
from faktur.contracts import repository as contracts_repo
from faktur.contracts import service as contracts
from faktur.invoices import service as invoices
from faktur.models import Contract, Invoice
from faktur.usage import billing_repository as usage


def pieces(contract: Contract, start: date, end: date) -> list[Period]:
    """[start, end) cut at the contract's cycle boundaries; a ValueError if a day of it lies
    outside the contract."""
    found: list[Period] = []
    day = start
    while day < end:
        period = billing.contract_period(contract, day)
        piece_end = min(period.end, end)
        cycle = period.cycle
        whole = (day, piece_end) == (cycle.start, cycle.end)
        found.append(Period(day, piece_end, None if whole else cycle))
        day = piece_end
    return found


def overlapping(
    live: dict[tuple[date, date], uuid.UUID], start: date, end: date
) -> dict[tuple[date, date], uuid.UUID]:
    """The live invoices among `live` whose period shares a day with [start, end)."""
    return {span: invoice_id for span, invoice_id in live.items() if span[0] < end and start < span[1]}


def invoice_contract_range(
    session: Session,
    actor: Actor,
    contract_id: uuid.UUID,
    start: date,
    end: date,
    now: datetime,
    *,
    bill_for_date: date | None = None,
    finalize: bool = False,
) -> Invoice:
    """The invoice of `contract_id` for the days [start, end), which is not one of its periods."""
    contract = contracts.get_contract(session, actor.organisation_id, contract_id, for_update=True)
    try:
        cut = pieces(contract, start, end)
    except ValueError:
        raise RangeOutsideContract(contract, start, end) from None
    if end > now.date():
        raise RangeNotCompleted(start, end, now.date())
    if contract.billing_timing == "in_advance":
        # A cycle's flat fees are billed whole, in advance, by the invoice of the period before it:
        # an invoice for some of its days would bill them twice.
        raise RangeOfInAdvanceContract(contract, start, planner.span_text(cut[0].cycle))
    live = contracts_repo.live_invoice_periods(session, actor.organisation_id, [contract.id])[contract.id]
    for span, invoice_id in overlapping(live, start, end).items():
        if span == (start, end):
            raise billing.duplicate_period(contract, Period(start, end), invoice_id)
        raise PeriodOverlapsInvoice(contract, start, end, span, invoice_id)
    states, metrics = billing.load_states(session, actor.organisation_id, [contract], end, {contract.id: cut})
    state = states[contract.id]
    plans = [billing.plan_period(session, state, metrics, piece, bill_for_date) for piece in cut]
    whole = Period(start, end)
    lines = [line for plan in plans for line in plan.lines]
    if not lines:
        raise billing.nothing_to_bill(contract, whole)
    merged = billing.Plan(lines, (billing.midnight(start), billing.midnight(end)), None, [], 0)
    command = billing.period_invoice(contract, merged, whole, finalize=finalize)
    try:
        with session.begin_nested():
            invoice = invoices.create_invoice(session, actor, command, now)
            usage.mark_billed(
                session,
                contract.organisation_id,
                [plan.billed_usage(contract, invoice.id) for plan in plans],
                now,
            )
    except IntegrityError:
        duplicate = billing.duplicate_of(session, contract, whole)
        if duplicate is None:
            raise
        raise duplicate from None
    return invoice
