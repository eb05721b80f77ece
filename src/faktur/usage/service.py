"""Billable metrics and usage ingestion (services flush, never commit).

Ingestion validates every event on its own, resolves its contract, and stores all valid events
of a request with one INSERT ... ON CONFLICT DO NOTHING: the unique index on (organisation,
transaction_id) makes a repeat a no-op, even between concurrent requests.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from faktur.calc.charge_models import AggregationKind
from faktur.field_paths import field_path
from faktur.fields import is_decimal_string
from faktur.models import BillableMetric, UsageEvent
from faktur.paging import Cursor
from faktur.usage import billing_repository as billed
from faktur.usage import repository
from faktur.usage.errors import (
    EVENT_REFUSALS,
    EventContractAmbiguous,
    EventContractNotFound,
    EventMetricNotFound,
    EventOutsideContract,
    EventWithoutContract,
    InvalidEvent,
    InvalidEventProperty,
    MetricCodeTaken,
    MetricNotFound,
)
from faktur.usage.schemas import EventIn, MetricCreate

_EVENTS = TypeAdapter(list[EventIn])
_MAX_NUMBER = Decimal("1e15")


def create_metric(
    session: Session, organisation_id: uuid.UUID, data: MetricCreate, now: datetime
) -> BillableMetric:
    if repository.metrics_by_code(session, organisation_id, [data.code]):
        raise MetricCodeTaken(data.code)
    metric = BillableMetric(
        id=uuid.uuid4(),
        organisation_id=organisation_id,
        created_at=now,
        code=data.code,
        name=data.name,
        aggregation=data.aggregation.value,
        property=data.property,
        description=data.description,
    )
    session.add(metric)
    session.flush()
    return metric


def get_metric(session: Session, organisation_id: uuid.UUID, metric_id: uuid.UUID) -> BillableMetric:
    metric = repository.get_metric(session, organisation_id, metric_id)
    if metric is None:
        raise MetricNotFound(metric_id)
    return metric


def list_metrics(
    session: Session, organisation_id: uuid.UUID, limit: int, cursor: Cursor | None
) -> tuple[list[BillableMetric], bool]:
    rows = repository.list_metrics(session, organisation_id, limit, cursor)
    return rows[:limit], len(rows) > limit


@dataclass
class EventProblem:
    index: int
    transaction_id: str | None
    code: str
    field: str | None
    reason: str


@dataclass
class IngestResult:
    received: int
    stored: list[tuple[int, str]] = field(default_factory=list)
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    errors: list[EventProblem] = field(default_factory=list)


@dataclass(frozen=True)
class _Span:
    contract_id: uuid.UUID
    customer_id: uuid.UUID
    start: date
    end: date | None
    by_customer: bool  # found through an event's customer_id (a candidate for resolution)

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


def _check_value(metric: BillableMetric, properties: dict[str, Any]) -> str | None:
    """Why the metric's property cannot be aggregated, or None when it can."""
    if metric.aggregation == AggregationKind.COUNT.value or metric.property is None:
        return None
    value = properties.get(metric.property)
    if value is None:
        return None  # carries no quantity; skipped by the aggregation, as in Lago
    if metric.aggregation == AggregationKind.UNIQUE_COUNT.value:
        return None if isinstance(value, str) else f"{metric.property} must be a string or a number"
    if isinstance(value, bool) or not isinstance(value, str):
        return f"{metric.property} must be a number"
    if not is_decimal_string(value):
        # Decimal() alone would take "1_000", " 5" and non-ASCII digits, which billing refuses.
        return (
            f"{metric.property} must be a number written with ASCII digits, an optional sign and "
            f'decimal point (no spaces or underscores), e.g. "1000.5"; got {value[:40]!r}'
        )
    try:
        number = Decimal(value)
    except InvalidOperation:
        return f"{metric.property} must be a number, got {value[:40]!r}"
    if not number.is_finite() or abs(number) >= _MAX_NUMBER:
        return f"{metric.property} must be a finite number below 1e15 in magnitude"
    if number < 0:
        return f"{metric.property} must not be negative (send a correction as its own metric)"
    return None


def _validate(items: list[Any], result: IngestResult) -> list[tuple[int, EventIn]]:
    """The valid events with their index; each invalid one is reported with its first error.

    One pass over the whole list (the common case: all valid); only when it fails are the
    items that had no error validated again, so one bad event does not refuse the rest.
    """
    try:
        return list(enumerate(_EVENTS.validate_python(items)))
    except ValidationError as exc:
        first_errors: dict[int, Any] = {}
        for error in exc.errors():
            first_errors.setdefault(int(error["loc"][0]), error)  # a list's errors start at the index
    for index, error in sorted(first_errors.items()):
        item = items[index]
        transaction_id = item.get("transaction_id") if isinstance(item, dict) else None
        result.errors.append(
            EventProblem(
                index,
                transaction_id if _echoable(transaction_id) else None,
                InvalidEvent.code,
                field_path(error.get("loc", ())[1:]),
                str(error.get("msg", "invalid")),
            )
        )
    valid = [index for index in range(len(items)) if index not in first_errors]
    return list(zip(valid, _EVENTS.validate_python([items[index] for index in valid]), strict=True))


def _echoable(transaction_id: Any) -> bool:
    """Whether a refused event's transaction id can be sent back (JSON needs valid UTF-8)."""
    if not isinstance(transaction_id, str):
        return False
    try:
        transaction_id.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def ingest_events(
    session: Session, organisation_id: uuid.UUID, items: list[Any], now: datetime
) -> IngestResult:
    """Validate, resolve and store a batch; invalid events are reported by index, the rest kept."""
    result = IngestResult(received=len(items))
    parsed = _validate(items, result)
    metrics = repository.metrics_by_code(session, organisation_id, {event.metric_code for _, event in parsed})
    spans = _spans(session, organisation_id, parsed)
    by_customer: dict[uuid.UUID | None, list[_Span]] = {}
    for contract_span in spans.values():
        if contract_span.by_customer:
            by_customer.setdefault(contract_span.customer_id, []).append(contract_span)
    # Only needed to choose between several contracts of a customer running on the same day.
    metric_ids = repository.usage_metric_ids(
        session, organisation_id, {s.contract_id for spans_ in by_customer.values() for s in spans_}
    )

    events: list[repository.NewEvent] = []
    seen: dict[str, int] = {}
    for index, event in parsed:

        def refuse(
            code: str, fld: str | None, reason: str, index: int = index, event: EventIn = event
        ) -> None:
            result.errors.append(EventProblem(index, event.transaction_id, code, fld, reason))

        metric = metrics.get(event.metric_code)
        if metric is None:
            refuse(EventMetricNotFound.code, "metric_code", f"no metric with code {event.metric_code!r}")
            continue
        timestamp = event.timestamp.astimezone(UTC)
        day = timestamp.date()
        if event.contract_id is not None:
            span = spans.get(event.contract_id)
            if span is None:
                refuse(
                    EventContractNotFound.code,
                    "contract_id",
                    f"no contract {event.contract_id} in this organisation",
                )
                continue
            if not span.covers(day):
                refuse(EventOutsideContract.code, "timestamp", f"{day} is outside the contract's term")
                continue
        else:
            candidates = [s for s in by_customer.get(event.customer_id, []) if s.covers(day)]
            if len(candidates) > 1:
                candidates = [s for s in candidates if metric.id in metric_ids.get(s.contract_id, set())]
            if not candidates:
                refuse(
                    EventWithoutContract.code,
                    "customer_id",
                    f"the customer has no contract running on {day}",
                )
                continue
            if len(candidates) > 1:
                refuse(
                    EventContractAmbiguous.code,
                    "customer_id",
                    "several of the customer's contracts charge this metric on that day; give contract_id",
                )
                continue
            span = candidates[0]
        problem = _check_value(metric, event.properties)
        if problem is not None:
            refuse(InvalidEventProperty.code, f"properties.{metric.property}", problem)
            continue
        if event.transaction_id in seen:
            result.duplicates.append((index, event.transaction_id))
            continue
        seen[event.transaction_id] = index
        events.append(
            repository.NewEvent(
                event.transaction_id, span.contract_id, metric.id, timestamp, event.properties
            )
        )
    inserted = repository.insert_new_events(session, organisation_id, now, events)
    for new in events:
        entry = (seen[new.transaction_id], new.transaction_id)
        (result.stored if new.transaction_id in inserted else result.duplicates).append(entry)
    result.duplicates.sort()
    result.errors.sort(key=lambda problem: problem.index)
    return result


def ingest_event(
    session: Session, organisation_id: uuid.UUID, event: EventIn, now: datetime
) -> tuple[UsageEvent, bool]:
    """Store one event; (the stored event, True when it was already recorded)."""
    result = ingest_events(session, organisation_id, [event.model_dump()], now)
    if result.errors:
        problem = result.errors[0]
        raise EVENT_REFUSALS[problem.code](problem.reason, problem.field)
    stored = repository.events_by_transaction(session, organisation_id, [event.transaction_id])
    return stored[event.transaction_id], bool(result.duplicates)


def billing_invoice(session: Session, organisation_id: uuid.UUID, event_id: uuid.UUID) -> uuid.UUID | None:
    """The live invoice that billed the event, if any."""
    return billed.billing_invoices(session, organisation_id, [event_id]).get(event_id)


def _spans(
    session: Session, organisation_id: uuid.UUID, parsed: list[tuple[int, EventIn]]
) -> dict[uuid.UUID, _Span]:
    contract_ids = {e.contract_id for _, e in parsed if e.contract_id is not None}
    customer_ids = {e.customer_id for _, e in parsed if e.customer_id is not None}
    spans = {
        row[0]: _Span(*row, by_customer=False)
        for row in repository.contract_spans(session, organisation_id, contract_ids)
    }
    for row in repository.customer_contract_spans(session, organisation_id, customer_ids):
        spans[row[0]] = _Span(*row, by_customer=True)
    return spans
