"""Period invoices of contracts: which periods are due, what their invoices bill, creating them.

What an invoice for the period P of a contract bills:

* usage of P (always in arrears), priced by each usage component's charge model;
* flat fees in arrears: for P; flat fees in advance: for the period after P (when the contract
  still runs then), and on the first invoice also for P itself, which nothing billed before;
  partial periods are prorated by days;
* one-off fees: on the first invoice (P starts on the contract start);
* late usage: events of earlier periods that arrived after those periods were invoiced, as one
  adjustment line per (period, component).

The invoice's natural key (contract, P) is enforced by the database index
uq_invoices_live_contract_period; a second live invoice is refused with 409 duplicate_period.
Services flush, never commit.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from faktur.billing import errors
from faktur.billing import lines as planner
from faktur.billing.errors import (
    DuplicatePeriod,
    InvalidPeriodInvoice,
    NoCompletedPeriod,
    NoRunningPeriod,
    NotAContractPeriod,
    PeriodNotCompleted,
)
from faktur.billing.lines import ComponentTerms, MetricTerms, PlannedLine
from faktur.calc.periods import Period, last_completed_period, period_containing, periods_between
from faktur.context import Actor
from faktur.contracts import repository as contracts_repo
from faktur.contracts import service as contracts
from faktur.errors import Conflict, Unprocessable
from faktur.invoices import service as invoices
from faktur.invoices.batch import InvoiceRequest
from faktur.invoices.domain import InvoiceOrigin, NewInvoice
from faktur.models import Contract, ContractComponent, Invoice
from faktur.usage import billing_repository as usage
from faktur.usage import repository as usage_records


@dataclass
class ContractState:
    """What billing one contract needs, loaded once per request or chunk."""

    contract: Contract
    # (period_start, period_end) -> live invoice id; invoices created meanwhile are added.
    invoiced: dict[tuple[date, date], uuid.UUID]
    # The periods to bill, and the unbilled usage grouped by the database: per metric within
    # each of those periods (keyed by its start), and per metric and UTC day outside them.
    periods: list[Period]
    usage_groups: list[tuple[date | None, usage.UsageGroup]]
    # More periods are due than were loaded (a run's transaction takes a bounded number).
    more_due: bool = False
    consumed: set[int] = field(default_factory=set)
    # Indexes built once, so planning n periods costs O(n) rather than O(n^2): the loaded
    # periods, the groups of each period (by start), the day groups by day (late usage), and
    # how many of those every period planned so far has gone past.
    _loaded: set[Period] = field(init=False, repr=False)
    _by_span: dict[date, list[int]] = field(init=False, repr=False)
    _late_days: list[date] = field(init=False, repr=False)
    _late: list[int] = field(init=False, repr=False)
    _late_seen: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._loaded = set(self.periods)
        self._by_span = defaultdict(list)
        late: list[tuple[date, int]] = []
        for index, (span_start, group) in enumerate(self.usage_groups):
            if span_start is not None:
                self._by_span[span_start].append(index)
            elif group.day is not None:
                late.append((group.day, index))
        late.sort()
        self._late_days = [day for day, _ in late]
        self._late = [index for _, index in late]

    def loaded(self, period: Period) -> bool:
        return period in self._loaded

    def groups_of(self, period: Period) -> list[int]:
        """Indexes of the usage groups within `period`."""
        return self._by_span.get(period.start, [])

    def day_groups_before(self, day: date) -> list[int]:
        """Indexes of the day groups before `day` that no earlier planned period went past."""
        return self._late[self._late_seen : bisect_left(self._late_days, day)]

    def consume(self, plan: Plan, period: Period) -> None:
        """The plan of `period` is kept: its usage is not billed again by another period."""
        self.consumed.update(plan.consumed)
        if plan.included_late:
            # Day groups before the period were billed now, or can never be (their period is
            # not invoiced, or lies outside the contract): later periods need not look at them.
            self._late_seen = max(self._late_seen, bisect_left(self._late_days, period.start))


def midnight(day: date) -> datetime:
    """Periods are calendar days in UTC: an event belongs to the period containing its UTC date."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def contract_period(contract: Contract, day: date) -> Period:
    return period_containing(
        contract.start_date,
        contract.billing_cycle_start_day,
        contract.billing_interval,
        day,
        contract.end_date,
    )


def completed_periods(contract: Contract, until: date) -> list[Period]:
    return periods_between(
        contract.start_date,
        contract.end_date,
        contract.billing_cycle_start_day,
        contract.billing_interval,
        until,
    )


def not_invoiced(periods: Iterable[Period], live: Iterable[tuple[date, date]]) -> list[Period]:
    """The periods (in order) of which no live invoice bills any day: a whole-period invoice, or
    one for a range of days (faktur.billing.ranges). One pass over both, sorted: linear in periods."""
    spans = sorted(live)
    due: list[Period] = []
    first = 0
    for period in periods:
        # A span that ends before this period starts cannot overlap a later period either.
        while first < len(spans) and spans[first][1] <= period.start:
            first += 1
        # The remaining span that starts first overlaps the period if any remaining span does.
        if first == len(spans) or spans[first][0] >= period.end:
            due.append(period)
    return due


def load_states(
    session: Session,
    organisation_id: uuid.UUID,
    contracts_: Sequence[Contract],
    until: date,
    periods: dict[uuid.UUID, list[Period]] | None = None,
    *,
    period_budget: int | None = None,
) -> tuple[dict[uuid.UUID, ContractState], dict[uuid.UUID, MetricTerms]]:
    """Live invoices and unbilled usage (before `until`) of the contracts, and their metrics.

    The periods to bill are `periods[contract id]`, by default every due one (completed by
    `until`, without a live invoice), oldest first and at most `period_budget` of them over all
    the contracts (a state with more due periods says so: `more_due`); planning another period
    is an error."""
    ids = [c.id for c in contracts_]
    invoiced = contracts_repo.live_invoice_periods(session, organisation_id, ids)
    wanted: dict[uuid.UUID, list[Period]] = {}
    more_due: set[uuid.UUID] = set()
    spans: list[tuple[uuid.UUID, datetime, datetime]] = []
    span_starts: list[date] = []
    for contract in contracts_:
        if periods is not None:
            chosen = periods.get(contract.id, [])
        else:
            live = invoiced.get(contract.id, {})
            chosen = not_invoiced(completed_periods(contract, until), live)
            if period_budget is not None:
                if len(chosen) > period_budget:
                    chosen = chosen[:period_budget]
                    more_due.add(contract.id)
                period_budget -= len(chosen)
        wanted[contract.id] = chosen
        for period in chosen:
            spans.append((contract.id, midnight(period.start), midnight(period.end)))
            span_starts.append(period.start)
    grouped: dict[uuid.UUID, list[tuple[date | None, usage.UsageGroup]]] = defaultdict(list)
    for group in usage.usage_groups(session, organisation_id, ids, midnight(until), spans):
        grouped[group.contract_id].append((None if group.span is None else span_starts[group.span], group))
    metric_ids = {c.metric_id for contract in contracts_ for c in contract.components if c.metric_id}
    metrics = {
        m.id: MetricTerms(m.id, m.code, m.aggregation, m.property)
        for m in usage_records.metrics_by_id(session, organisation_id, metric_ids).values()
    }
    states = {
        c.id: ContractState(c, invoiced.get(c.id, {}), wanted[c.id], grouped.get(c.id, []), c.id in more_due)
        for c in contracts_
    }
    return states, metrics


def _terms(components: Sequence[ContractComponent]) -> list[ComponentTerms]:
    return [
        ComponentTerms(c.id, c.kind, c.name, c.amount, c.metric_id, c.charge_model, c.tax_rate_id, c.tax)
        for c in components
    ]


def _next_period(contract: Contract, period: Period) -> Period | None:
    if contract.end_date is not None and period.end >= contract.end_date:
        return None
    return contract_period(contract, period.end)


@dataclass
class Plan:
    lines: list[PlannedLine]
    # The events this invoice bills (faktur.models.usage): the period's unmarked ones up to
    # max_seq by coverage of `span`; by mark, late ones of invoiced periods and the period's
    # ones that carry the mark of a voided invoice.
    span: tuple[datetime, datetime]
    max_seq: int | None
    marked: list[usage.EventKey]
    late_events: int
    # The state's usage groups this plan bills (ContractState.consume), and whether it looked
    # at late usage.
    consumed: list[int] = field(default_factory=list)
    included_late: bool = False

    def billed_usage(self, contract: Contract, invoice_id: uuid.UUID) -> usage.BilledUsage:
        return usage.BilledUsage(invoice_id, contract.id, self.span, self.max_seq, self.marked)


def plan_period(
    session: Session,
    state: ContractState,
    metrics: dict[uuid.UUID, MetricTerms],
    period: Period,
    bill_for_date: date | None = None,
    *,
    include_late: bool = True,
) -> Plan:
    """The lines of the invoice for `period` (one the state was loaded for); the usage it bills is
    listed in the plan (`consumed`), for ContractState.consume once the invoice is kept."""
    contract = state.contract
    if not state.loaded(period):
        raise ValueError(f"usage of {period} was not loaded for contract {contract.id}")
    currency = contract.currency
    components = _terms(contracts.components_on(contract, bill_for_date or period.start))
    first = period.start == contract.start_date
    lines: list[PlannedLine] = []
    in_advance = contract.billing_timing == "in_advance"
    flat_periods = [period] if (not in_advance or first) else []
    if in_advance:
        upcoming = _next_period(contract, period)
        if upcoming is not None:
            flat_periods.append(upcoming)
    for flat_period in flat_periods:
        flat_terms = components
        if flat_period is not period and bill_for_date is None:
            flat_terms = _terms(contracts.components_on(contract, flat_period.start))
        for component in flat_terms:
            if component.kind == "flat":
                lines.append(planner.flat_line(component, flat_period, currency, in_advance=in_advance))
    if first:
        lines += [planner.one_off_line(c, period) for c in components if c.kind == "one_off"]

    start, end = midnight(period.start), midnight(period.end)
    by_metric: dict[uuid.UUID, list[Any]] = defaultdict(list)
    late: dict[tuple[date, date], list[int]] = defaultdict(list)
    marked: list[usage.EventKey] = []
    max_seq: int | None = None
    consumed: list[int] = []
    for index in state.groups_of(period):
        if index in state.consumed:
            continue
        group = state.usage_groups[index][1]
        by_metric[group.metric_id] += group.values
        marked += group.keys
        if group.max_seq is not None and (max_seq is None or group.max_seq > max_seq):
            max_seq = group.max_seq
        consumed.append(index)
    for index in state.day_groups_before(period.start) if include_late else []:
        if index in state.consumed:
            continue
        group = state.usage_groups[index][1]
        assert group.day is not None
        try:
            home = contract_period(contract, group.day)
        except ValueError:
            continue  # outside a contract shortened after the event arrived: never billable
        if (home.start, home.end) in state.invoiced:
            late[(home.start, home.end)].append(index)
    for component in components:
        if component.kind == "usage" and component.metric_id in metrics:
            metric = metrics[component.metric_id]
            lines += planner.usage_lines(component, metric, period, by_metric.get(metric.id, []), currency)

    late_count = 0
    for (home_start, home_end), indexes in sorted(late.items()):
        home = contract_period(contract, home_start)
        billed: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for metric_id, value in usage.billed_events(
            session, contract.organisation_id, contract.id, midnight(home_start), midnight(home_end)
        ):
            billed[metric_id].append(value)
        late_by_metric: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for index in indexes:
            group = state.usage_groups[index][1]
            late_by_metric[group.metric_id] += group.values
            marked += group.keys
            late_count += len(group.values)
            consumed.append(index)
        home_terms = _terms(contracts.components_on(contract, home.start))
        for component in home_terms:
            late_metric = metrics.get(component.metric_id) if component.metric_id else None
            if component.kind == "usage" and late_metric is not None and late_by_metric.get(late_metric.id):
                lines.append(
                    planner.late_usage_line(
                        component,
                        late_metric,
                        home,
                        billed[late_metric.id],
                        late_by_metric[late_metric.id],
                        currency,
                    )
                )
    return Plan(lines, (start, end), max_seq, marked, late_count, consumed, include_late)


# As many lines as an invoice created over the API may have (InvoiceCreate.lines).
MAX_LINES = 2000


def period_invoice(contract: Contract, plan: Plan, period: Period, *, finalize: bool = False) -> NewInvoice:
    """The invoicing core's command for a period's invoice: its origin (the contract period, the
    natural key) and the planned lines, each billing its component."""
    if len(plan.lines) > MAX_LINES:
        raise InvalidPeriodInvoice(
            contract, planner.span_text(period), f"{len(plan.lines)} lines, at most {MAX_LINES}"
        )
    return NewInvoice(
        customer_id=contract.customer_id,
        currency=contract.currency,
        payment_terms_days=contract.payment_terms_days,
        lines=tuple(line.line for line in plan.lines),
        metadata={
            "contract_id": str(contract.id),
            "payment_mode": contract.payment_mode,
            "period": f"{period.start.isoformat()}/{period.end.isoformat()}",
        },
        finalize=finalize,
        origin=InvoiceOrigin(
            source="contract", contract_id=contract.id, period_start=period.start, period_end=period.end
        ),
    )


def duplicate_period(contract: Contract, period: Period, invoice_id: uuid.UUID) -> DuplicatePeriod:
    return DuplicatePeriod(contract, planner.span_text(period), invoice_id)


def nothing_to_bill(contract: Contract, period: Period) -> errors.NothingToBill:
    return errors.NothingToBill(contract, planner.span_text(period))


@dataclass(frozen=True)
class NothingToBill:
    """The plan of a period without a line: its flat fees went out in advance and it has no usage
    components. A billing run skips the period; a request to invoice that one period answers it
    with 422 nothing_to_bill (`error`)."""

    contract: Contract
    period: Period

    def error(self) -> Unprocessable:
        return nothing_to_bill(self.contract, self.period)


def build_period_invoice(
    session: Session,
    state: ContractState,
    metrics: dict[uuid.UUID, MetricTerms],
    period: Period,
    bill_for_date: date | None = None,
    *,
    finalize: bool = False,
) -> tuple[Plan, NewInvoice] | NothingToBill:
    """Plan the invoice of one period and build its command, or say there is nothing to bill;
    nothing is stored yet (the state counts the period's usage as billed, so a later period does
    not bill it again)."""
    plan = plan_period(session, state, metrics, period, bill_for_date)
    if not plan.lines:
        return NothingToBill(state.contract, period)
    command = period_invoice(state.contract, plan, period, finalize=finalize)
    state.consume(plan, period)
    return plan, command


def period_request(state: ContractState, period: Period, plan: Plan, command: NewInvoice) -> InvoiceRequest:
    """The invoicing core's request for a period's invoice."""
    return InvoiceRequest(command)


def store_period_invoice(
    session: Session,
    actor: Actor,
    state: ContractState,
    period: Period,
    plan: Plan,
    command: NewInvoice,
    now: datetime,
) -> Invoice:
    """Create (and finalize, if the command says so) the period's invoice and mark the events it
    bills, in a SAVEPOINT. The database's natural key refuses a second live invoice of the
    period; that surfaces as 409 duplicate_period naming the invoice that has it."""
    contract = state.contract
    try:
        with session.begin_nested():
            invoice = invoices.create_invoice(session, actor, command, now)
            usage.mark_billed(
                session, contract.organisation_id, [plan.billed_usage(contract, invoice.id)], now
            )
    except IntegrityError:
        duplicate = duplicate_of(session, contract, period)
        if duplicate is None:
            raise
        raise duplicate from None
    state.invoiced[(period.start, period.end)] = invoice.id
    return invoice


def duplicate_of(session: Session, contract: Contract, period: Period) -> Conflict | None:
    """After an insert was refused: 409 duplicate_period naming the live invoice that now has
    `period`, or None when the natural key was not what refused it."""
    existing = contracts_repo.live_invoice_periods(session, contract.organisation_id, [contract.id])
    invoice_id = existing.get(contract.id, {}).get((period.start, period.end))
    return None if invoice_id is None else duplicate_period(contract, period, invoice_id)


def resolve_period(contract: Contract, start: date | None, end: date | None, today: date) -> Period:
    """The requested period, checked to be one of the contract's; default the last completed one."""
    if start is None or end is None:
        found = last_completed_period(
            contract.start_date,
            contract.end_date,
            contract.billing_cycle_start_day,
            contract.billing_interval,
            today,
        )
        if found is None:
            raise NoCompletedPeriod(contract)
        return found
    try:
        period = contract_period(contract, start)
    except ValueError:
        period = None
    if period is None or (period.start, period.end) != (start, end):
        expected = (
            f" (the period containing {start} is {planner.span_text(period)}, end {period.end})"
            if period
            else ""
        )
        raise NotAContractPeriod(contract, start, end, expected)
    if period.end > today:
        raise PeriodNotCompleted(period.end, today)
    return period


def invoice_contract_period(
    session: Session,
    actor: Actor,
    contract_id: uuid.UUID,
    period_start: date | None,
    period_end: date | None,
    now: datetime,
    *,
    bill_for_date: date | None = None,
    check_duplicate: bool = True,
    finalize: bool = False,
) -> Invoice:
    contract = contracts.get_contract(session, actor.organisation_id, contract_id, for_update=True)
    period = resolve_period(contract, period_start, period_end, now.date())
    states, metrics = load_states(
        session, actor.organisation_id, [contract], period.end, {contract.id: [period]}
    )
    state = states[contract.id]
    if check_duplicate and (period.start, period.end) in state.invoiced:
        raise duplicate_period(contract, period, state.invoiced[(period.start, period.end)])
    planned = build_period_invoice(session, state, metrics, period, bill_for_date, finalize=finalize)
    if isinstance(planned, NothingToBill):
        raise planned.error()
    plan, command = planned
    return store_period_invoice(session, actor, state, period, plan, command, now)


def preview_running_period(
    session: Session, actor: Actor, contract_id: uuid.UUID, today: date
) -> tuple[Period, Any, Any]:
    """The invoice the running period would get, computed and not stored."""
    contract = contracts.get_contract(session, actor.organisation_id, contract_id)
    try:
        period = contract_period(contract, today)
    except ValueError:
        raise NoRunningPeriod(contract, today) from None
    states, metrics = load_states(
        session, actor.organisation_id, [contract], period.end, {contract.id: [period]}
    )
    plan = plan_period(session, states[contract.id], metrics, period)
    customer, computed = invoices.preview_invoice(session, actor, period_invoice(contract, plan, period))
    return period, customer, computed
