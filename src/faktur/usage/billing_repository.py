"""SQL for what invoices billed of usage events: coverage, marks, and the unbilled usage that
billing loads (see faktur.models.usage for the rules), always scoped by organisation."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from faktur.models import BillableMetric, Invoice, UsageCoverage, UsageEvent
from faktur.models.base import table_of
from faktur.models.types import UtcDateTime
from faktur.usage.repository import utc_iso

# The event's value of its metric's property, as JSON text (NULL when the event has none or the
# metric counts events): billing needs that one value, not the whole properties document, and
# decoding ~100 documents per contract was a third of a billing run. PostgreSQL's `->` takes the
# key as it is; SQLite's takes a path (a key with a dot or a quote would break it), so SQLite
# looks the key up in json_each and rebuilds the JSON text from the value and its type.
_VALUE_SQL = {
    "postgresql": "CAST(usage_events.properties -> billable_metrics.property AS TEXT)",
    "sqlite": (
        "(SELECT CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN 'null'"
        " ELSE json_quote(j.value) END"
        " FROM json_each(usage_events.properties) AS j WHERE j.key = billable_metrics.property)"
    ),
}


def _property_value(session: Session) -> Any:
    return literal_column(_VALUE_SQL[session.get_bind().dialect.name], String)


def json_scalar(raw: str | None) -> Any:
    """A property value from its JSON text: a str, bool or None (numbers are stored as decimal
    strings; a JSON number would come back as int or Decimal, never as a float)."""
    if raw is None:
        return None
    if raw[0] == '"' and "\\" not in raw:
        return raw[1:-1]
    return json.loads(raw, parse_float=Decimal)


class _SharedUuids(dict[str, uuid.UUID]):
    """Ids read as text, each parsed once: a chunk's rows name few contracts and metrics, and
    parsing a UUID per row and column cost more than the rest of the row."""

    def __missing__(self, text_form: str) -> uuid.UUID:
        parsed = self[text_form] = uuid.UUID(text_form)
        return parsed


def _void_invoices() -> Select[uuid.UUID]:
    return select(Invoice.id).where(Invoice.status == "void")


def _covering_coverages(contract_ids: Sequence[uuid.UUID] | None = None) -> Select[uuid.UUID]:
    """The live coverages that count the (correlated) event as billed; `contract_ids`, when the
    events are known to be of those contracts, lets the planner read only their coverages."""
    stmt = (
        select(UsageCoverage.invoice_id)
        .join(Invoice, Invoice.id == UsageCoverage.invoice_id)
        .where(
            UsageCoverage.organisation_id == UsageEvent.organisation_id,
            UsageCoverage.contract_id == UsageEvent.contract_id,
            UsageCoverage.since <= UsageEvent.timestamp,
            UsageCoverage.before > UsageEvent.timestamp,
            UsageCoverage.max_seq >= UsageEvent.seq,
            Invoice.status != "void",
        )
    )
    return stmt if contract_ids is None else stmt.where(UsageCoverage.contract_id.in_(list(contract_ids)))


def void_period_invoices(
    session: Session, organisation_id: uuid.UUID, contract_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """The contracts' voided period invoices: the only invoices whose marks on events of these
    contracts make them unbilled again (marks are set by the contract's own period invoices)."""
    stmt = select(Invoice.id).where(
        Invoice.organisation_id == organisation_id,
        Invoice.contract_id.in_(list(contract_ids)),
        Invoice.status == "void",
    )
    return list(session.execute(stmt).scalars())


def unbilled_condition(
    contract_ids: Sequence[uuid.UUID] | None = None, void_ids: Sequence[uuid.UUID] | None = None
) -> ColumnElement[bool]:
    """Events no live invoice billed: marked by an invoice voided since, or unmarked and covered
    by no live invoice (see faktur.models.usage).

    For events known to be of `contract_ids`, whose voided period invoices are `void_ids`
    (void_period_invoices): without any there is no OR, so the planner can hash the few
    coverages of these contracts once (an anti-join) instead of probing the index per event."""
    unmarked = and_(UsageEvent.invoice_id.is_(None), ~_covering_coverages(contract_ids).exists())
    if void_ids is None:
        return or_(unmarked, UsageEvent.invoice_id.in_(_void_invoices()))
    return or_(unmarked, UsageEvent.invoice_id.in_(list(void_ids))) if void_ids else unmarked


def billed_condition() -> ColumnElement[bool]:
    return or_(
        and_(UsageEvent.invoice_id.is_not(None), UsageEvent.invoice_id.not_in(_void_invoices())),
        and_(UsageEvent.invoice_id.is_(None), _covering_coverages().exists()),
    )


def billing_invoices(
    session: Session, organisation_id: uuid.UUID, event_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID | None]:
    """The live invoice that billed each event, None for an unbilled one."""
    wanted = list(set(event_ids))
    if not wanted:
        return {}
    live_mark = select(Invoice.id).where(Invoice.id == UsageEvent.invoice_id, Invoice.status != "void")
    stmt = select(
        UsageEvent.id,
        case(
            (UsageEvent.invoice_id.is_not(None), live_mark.scalar_subquery()),
            else_=_covering_coverages().limit(1).scalar_subquery(),
        ),
    ).where(UsageEvent.organisation_id == organisation_id, UsageEvent.id.in_(wanted))
    return {event_id: invoice_id for event_id, invoice_id in session.execute(stmt)}


class EventKey(NamedTuple):
    """What identifies a loaded event for marking it: its sequence number is unique in the
    organisation; contract and timestamp lead to it through the (organisation, contract,
    timestamp) index. Billing loads keys, not ids: 100 fewer UUIDs to parse per contract."""

    contract_id: uuid.UUID
    timestamp: datetime
    seq: int


class EventValue(NamedTuple):
    """An event as billing sees it: its metric's property value instead of all its properties."""

    contract_id: uuid.UUID
    metric_id: uuid.UUID
    timestamp: datetime
    value: Any
    invoice_id: uuid.UUID | None
    seq: int

    @property
    def key(self) -> EventKey:
        return EventKey(self.contract_id, self.timestamp, self.seq)


def contract_events(
    session: Session,
    organisation_id: uuid.UUID,
    contract_ids: Sequence[uuid.UUID],
    before: datetime,
    *,
    unbilled_only: bool,
    since: datetime | None = None,
) -> list[EventValue]:
    """The contracts' events before `before` (and from `since`), with their metric's property value."""
    if not contract_ids:
        return []
    stmt = (
        select(
            cast(UsageEvent.contract_id, String),
            cast(UsageEvent.metric_id, String),
            UsageEvent.timestamp,
            _property_value(session),
            UsageEvent.invoice_id,
            UsageEvent.seq,
        )
        .join(BillableMetric, BillableMetric.id == UsageEvent.metric_id)
        .where(
            UsageEvent.organisation_id == organisation_id,
            UsageEvent.contract_id.in_(list(contract_ids)),
            UsageEvent.timestamp < before,
        )
    )
    if since is not None:
        stmt = stmt.where(UsageEvent.timestamp >= since)
    if unbilled_only:
        stmt = stmt.where(unbilled_condition())
    ids = _SharedUuids()
    return [
        EventValue(ids[contract], ids[metric], timestamp, json_scalar(raw), invoice_id, seq)
        for contract, metric, timestamp, raw, invoice_id, seq in session.execute(stmt)
    ]


class UsageGroup(NamedTuple):
    """Unbilled events of one contract and metric, grouped by the database: those within one of
    the spans the caller asked for (`span`: its index), or, outside every span, those of one
    UTC day (`day`), which all lie in the same billing period."""

    contract_id: uuid.UUID
    metric_id: uuid.UUID
    span: int | None
    day: date | None
    # The events' values of the metric's property, one per event (None where it has none).
    values: list[Any]
    # The highest sequence number among the unmarked events (None if every one is marked).
    max_seq: int | None
    # The events a bill must mark one by one: the marked ones (by a voided invoice) within a
    # span, every one outside the spans (billed there only as late usage).
    keys: list[EventKey]


# Per dialect: the span table from one parameter, the UTC day and the key timestamp as text, and
# the aggregates as JSON text (parsed in Python with Decimal for numbers: never a float).
_GROUP_SQL = {
    "postgresql": {
        "spans": (
            "SELECT * FROM unnest(CAST(string_to_array(:span_ids, ',') AS integer[]),"
            " CAST(string_to_array(:span_contracts, ',') AS uuid[]),"
            " CAST(string_to_array(:span_sinces, ',') AS timestamptz[]),"
            " CAST(string_to_array(:span_befores, ',') AS timestamptz[])) AS s(i, contract_id, since, before)"
        ),
        "day": "to_char(usage_events.\"timestamp\" AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        "values": (
            "CAST(jsonb_agg(usage_events.properties -> billable_metrics.property)"
            " FILTER (WHERE billable_metrics.property IS NOT NULL) AS TEXT)"
        ),
        "keys": (
            "CAST(jsonb_agg(jsonb_build_array(to_char(usage_events.\"timestamp\" AT TIME ZONE 'UTC',"
            " 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), usage_events.seq))"
            " FILTER (WHERE usage_events.invoice_id IS NOT NULL OR spans.i IS NULL) AS TEXT)"
        ),
    },
    "sqlite": {
        "spans": (
            "SELECT json_extract(value, '$[0]') AS i, json_extract(value, '$[1]') AS contract_id,"
            " json_extract(value, '$[2]') AS since, json_extract(value, '$[3]') AS before"
            " FROM json_each(:spans)"
        ),
        "day": 'substr(usage_events."timestamp", 1, 10)',
        "values": (
            f"json_group_array(json({_VALUE_SQL['sqlite']}))"
            " FILTER (WHERE billable_metrics.property IS NOT NULL)"
        ),
        "keys": (
            'json_group_array(json_array(usage_events."timestamp", usage_events.seq))'
            " FILTER (WHERE usage_events.invoice_id IS NOT NULL OR spans.i IS NULL)"
        ),
    },
}


def usage_groups(
    session: Session,
    organisation_id: uuid.UUID,
    contract_ids: Sequence[uuid.UUID],
    before: datetime,
    spans: Sequence[tuple[uuid.UUID, datetime, datetime]],
) -> list[UsageGroup]:
    """The contracts' unbilled events before `before`, grouped per contract and metric within
    each span (contract, since, before) and per UTC day outside them.

    Billing needs a period's units, not its events: the database groups a chunk's 10,000 events
    into a few hundred rows, and the values travel as one JSON array per group.
    """
    if not contract_ids:
        return []
    dialect = session.get_bind().dialect
    sql = _GROUP_SQL[dialect.name]
    if dialect.name == "postgresql":
        params: dict[str, Any] = {
            "span_ids": ",".join(str(i) for i in range(len(spans))),
            "span_contracts": ",".join(str(contract_id) for contract_id, _, _ in spans),
            "span_sinces": ",".join(utc_iso(since) for _, since, _ in spans),
            "span_befores": ",".join(utc_iso(until) for _, _, until in spans),
        }
        span_table = text(sql["spans"]).bindparams(**params)
    else:
        # Stored as SQLite keeps them: the columns' own bind processing gives the same texts.
        as_id = UsageEvent.__table__.c.contract_id.type.dialect_impl(dialect).bind_processor(dialect)
        as_time = UsageEvent.__table__.c.timestamp.type.dialect_impl(dialect).bind_processor(dialect)
        assert as_id is not None and as_time is not None
        document = json.dumps(
            [[i, as_id(c), as_time(since), as_time(until)] for i, (c, since, until) in enumerate(spans)]
        )
        span_table = text(sql["spans"]).bindparams(spans=document)
    spans_cte = span_table.columns(
        column("i", Integer),
        column("contract_id", Uuid),
        column("since", UtcDateTime),
        column("before", UtcDateTime),
    ).cte("spans")
    day = literal_column(f"CASE WHEN spans.i IS NULL THEN {sql['day']} END", String)
    stmt = (
        select(
            cast(UsageEvent.contract_id, String),
            cast(UsageEvent.metric_id, String),
            spans_cte.c.i,
            day,
            func.count(),
            func.max(case((UsageEvent.invoice_id.is_(None), UsageEvent.seq))),
            literal_column(sql["values"], String),
            literal_column(sql["keys"], String),
        )
        .select_from(UsageEvent)
        .join(BillableMetric, BillableMetric.id == UsageEvent.metric_id)
        .outerjoin(
            spans_cte,
            and_(
                spans_cte.c.contract_id == UsageEvent.contract_id,
                UsageEvent.timestamp >= spans_cte.c.since,
                UsageEvent.timestamp < spans_cte.c.before,
            ),
        )
        .where(
            UsageEvent.organisation_id == organisation_id,
            UsageEvent.contract_id.in_(list(contract_ids)),
            UsageEvent.timestamp < before,
            unbilled_condition(contract_ids, void_period_invoices(session, organisation_id, contract_ids)),
        )
        .group_by(UsageEvent.contract_id, UsageEvent.metric_id, spans_cte.c.i, day)
    )
    ids = _SharedUuids()
    groups = []
    for contract, metric, span, day_text, count, max_seq, values_json, keys_json in session.execute(stmt):
        # None or [] when the metric has no property (it counts events; SQLite's FILTER gives []).
        values = json.loads(values_json, parse_float=Decimal) if values_json else []
        if not values:
            values = [None] * count
        keys = [] if keys_json is None else json.loads(keys_json)
        contract_id = ids[contract]
        groups.append(
            UsageGroup(
                contract_id,
                ids[metric],
                span,
                None if day_text is None else date.fromisoformat(day_text),
                values,
                max_seq,
                [EventKey(contract_id, _utc(moment), seq) for moment, seq in keys],
            )
        )
    return groups


def _utc(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


class BilledUsage(NamedTuple):
    """What one invoice billed of a contract's usage.

    `span` and `max_seq`: the period it bills and the highest sequence number among the unmarked
    events of that period it counted (None when it counted none); stored as the invoice's
    coverage. `marked`: the events to mark with the invoice one by one, those billed out of
    their period (late usage) or marked by an invoice voided since.
    """

    invoice_id: uuid.UUID
    contract_id: uuid.UUID
    span: tuple[datetime, datetime]
    max_seq: int | None
    marked: Sequence[EventKey]


_PG_MARK_BILLED = text(
    """
    UPDATE usage_events AS e SET invoice_id = b.invoice_id
    FROM unnest(
        CAST(string_to_array(:contract_ids, ',') AS uuid[]),
        CAST(string_to_array(:timestamps, ',') AS timestamptz[]),
        CAST(string_to_array(:seqs, ',') AS bigint[]),
        CAST(string_to_array(:invoice_ids, ',') AS uuid[])
    ) AS b(contract_id, "timestamp", seq, invoice_id)
    WHERE e.organisation_id = :organisation_id AND e.contract_id = b.contract_id
      AND e."timestamp" = b."timestamp" AND e.seq = b.seq
    """
)


def mark_billed(
    session: Session, organisation_id: uuid.UUID, billed: Sequence[BilledUsage], now: datetime
) -> None:
    """Record what each invoice of `billed` counted: one coverage row per invoice (one executemany
    for all), and marks on the few events that need one.

    The caller holds the contracts' row locks from before it loaded the events until it commits:
    no other invoice bills the same events meanwhile, and no event of these contracts is numbered
    meanwhile (lock_contracts_for_ingestion), so a coverage counts exactly the events counted.
    """
    coverages = [
        {
            "id": uuid.uuid4(),
            "organisation_id": organisation_id,
            "created_at": now,
            "invoice_id": usage.invoice_id,
            "contract_id": usage.contract_id,
            "since": usage.span[0],
            "before": usage.span[1],
            "max_seq": usage.max_seq,
        }
        for usage in billed
        if usage.max_seq is not None
    ]
    if coverages:
        session.connection().execute(insert(table_of(UsageCoverage)), coverages)
    pairs = [(key, usage.invoice_id) for usage in billed for key in usage.marked]
    if not pairs:
        return
    if session.get_bind().dialect.name == "postgresql":
        # Comma-separated texts, not array parameters: psycopg dumps array elements one by one
        # in Python, string_to_array does it in C.
        params = {
            "organisation_id": organisation_id,
            "contract_ids": ",".join(str(key.contract_id) for key, _ in pairs),
            "timestamps": ",".join(utc_iso(key.timestamp) for key, _ in pairs),
            "seqs": ",".join(str(key.seq) for key, _ in pairs),
            "invoice_ids": ",".join(str(invoice_id) for _, invoice_id in pairs),
        }
        session.execute(_PG_MARK_BILLED, params)
        return
    table = table_of(UsageEvent)
    stmt = (
        update(table)
        .where(
            table.c.organisation_id == bindparam("org"),
            table.c.contract_id == bindparam("contract"),
            table.c.timestamp == bindparam("at"),
            table.c.seq == bindparam("number"),
        )
        .values(invoice_id=bindparam("billed_by"))
    )
    rows = [
        {"org": organisation_id, "contract": key.contract_id, "at": key.timestamp, "number": key.seq,
         "billed_by": invoice_id}
        for key, invoice_id in pairs
    ]  # fmt: skip
    session.connection().execute(stmt, rows)


def billed_events(
    session: Session, organisation_id: uuid.UUID, contract_id: uuid.UUID, since: datetime, before: datetime
) -> list[tuple[uuid.UUID, Any]]:
    """(metric_id, property value) of the contract's events in the span that a live invoice billed."""
    stmt = (
        select(UsageEvent.metric_id, _property_value(session))
        .join(BillableMetric, BillableMetric.id == UsageEvent.metric_id)
        .where(
            UsageEvent.organisation_id == organisation_id,
            UsageEvent.contract_id == contract_id,
            UsageEvent.timestamp >= since,
            UsageEvent.timestamp < before,
            billed_condition(),
        )
    )
    return [(metric_id, json_scalar(raw)) for metric_id, raw in session.execute(stmt)]


def unbilled_events(
    session: Session, organisation_id: uuid.UUID, contract_id: uuid.UUID, limit: int
) -> list[UsageEvent]:
    stmt = (
        select(UsageEvent)
        .where(
            UsageEvent.organisation_id == organisation_id,
            UsageEvent.contract_id == contract_id,
            unbilled_condition(),
        )
        .order_by(UsageEvent.timestamp, UsageEvent.id)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())
