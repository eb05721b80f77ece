"""SQL for billable metrics and usage events, always scoped by organisation."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from faktur.models import BillableMetric, Contract, ContractComponent, UsageEvent
from faktur.models.base import table_of
from faktur.numbering import repository as counters
from faktur.paging import Cursor
from faktur.sql import newest_first

# SQLite takes events' sequence numbers from this counter row of number_series (migration 0008).
SEQ_SERIES = "usage_events"


def get_metric(session: Session, organisation_id: uuid.UUID, metric_id: uuid.UUID) -> BillableMetric | None:
    return session.execute(
        select(BillableMetric).where(
            BillableMetric.organisation_id == organisation_id, BillableMetric.id == metric_id
        )
    ).scalar_one_or_none()


def metrics_by_code(
    session: Session, organisation_id: uuid.UUID, codes: Iterable[str]
) -> dict[str, BillableMetric]:
    wanted = set(codes)
    if not wanted:
        return {}
    rows = session.execute(
        select(BillableMetric).where(
            BillableMetric.organisation_id == organisation_id, BillableMetric.code.in_(wanted)
        )
    ).scalars()
    return {row.code: row for row in rows}


def metrics_by_id(
    session: Session, organisation_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, BillableMetric]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(BillableMetric).where(
            BillableMetric.organisation_id == organisation_id, BillableMetric.id.in_(wanted)
        )
    ).scalars()
    return {row.id: row for row in rows}


def list_metrics(
    session: Session, organisation_id: uuid.UUID, limit: int, cursor: Cursor | None
) -> list[BillableMetric]:
    stmt = select(BillableMetric).where(BillableMetric.organisation_id == organisation_id)
    return list(session.execute(newest_first(stmt, BillableMetric, cursor, limit)).scalars())


def contract_spans(
    session: Session, organisation_id: uuid.UUID, contract_ids: Iterable[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, date, date | None]]:
    """(id, customer_id, start, end) of the given contracts."""
    wanted = set(contract_ids)
    if not wanted:
        return []
    stmt = select(Contract.id, Contract.customer_id, Contract.start_date, Contract.end_date).where(
        Contract.organisation_id == organisation_id, Contract.id.in_(wanted)
    )
    return [(id_, customer, start, end) for id_, customer, start, end in session.execute(stmt)]


def customer_contract_spans(
    session: Session, organisation_id: uuid.UUID, customer_ids: Iterable[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, date, date | None]]:
    wanted = set(customer_ids)
    if not wanted:
        return []
    stmt = select(Contract.id, Contract.customer_id, Contract.start_date, Contract.end_date).where(
        Contract.organisation_id == organisation_id, Contract.customer_id.in_(wanted)
    )
    return [(id_, customer, start, end) for id_, customer, start, end in session.execute(stmt)]


def usage_metric_ids(
    session: Session, organisation_id: uuid.UUID, contract_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The metrics each contract charges for, over all its terms versions."""
    wanted = set(contract_ids)
    found: dict[uuid.UUID, set[uuid.UUID]] = {cid: set() for cid in wanted}
    if not wanted:
        return found
    stmt = select(ContractComponent.contract_id, ContractComponent.metric_id).where(
        ContractComponent.organisation_id == organisation_id,
        ContractComponent.contract_id.in_(wanted),
        ContractComponent.metric_id.is_not(None),
    )
    for contract_id, metric_id in session.execute(stmt):
        if metric_id is not None:  # always: the query leaves NULL out
            found[contract_id].add(metric_id)
    return found


class NewEvent(NamedTuple):
    """A validated event ready to store (its contract and metric resolved, timestamp in UTC)."""

    transaction_id: str
    contract_id: uuid.UUID
    metric_id: uuid.UUID
    timestamp: datetime
    properties: dict[str, Any]


# PostgreSQL: the whole batch travels as ONE jsonb parameter that the server unpacks. A
# multi-row VALUES list (or SQLAlchemy's insertmanyvalues) has thousands of placeholders, and
# psycopg re-parses such a statement with a regex on every execution (its statement cache stops
# at 50 parameters): that alone cost ~100 ms per 1,000 events. Ids come from gen_random_uuid().
_PG_INSERT_BATCH = text(
    """
    INSERT INTO usage_events
        (id, organisation_id, created_at, transaction_id, contract_id, metric_id, "timestamp",
         properties, invoice_id)
    SELECT gen_random_uuid(), :organisation_id, :created_at, e.transaction_id, e.contract_id,
           e.metric_id, e."timestamp", e.properties, NULL
    FROM jsonb_to_recordset(CAST(:events AS jsonb)) AS e(
        transaction_id varchar, contract_id uuid, metric_id uuid, "timestamp" timestamptz,
        properties jsonb)
    ON CONFLICT (organisation_id, transaction_id) DO NOTHING
    RETURNING transaction_id
    """
)


def insert_new_events(
    session: Session, organisation_id: uuid.UUID, created_at: datetime, events: Sequence[NewEvent]
) -> set[str]:
    """Store a batch with one INSERT ... ON CONFLICT DO NOTHING; the transaction ids inserted.

    A transaction id already stored (or inserted concurrently) is skipped by the unique index.
    Before the events take their sequence numbers, their contracts are locked against billing
    (lock_contracts_for_ingestion), which is what makes a period invoice's coverage exact.
    """
    if not events:
        return set()
    lock_contracts_for_ingestion(session, organisation_id, {event.contract_id for event in events})
    if session.get_bind().dialect.name != "postgresql":
        return insert_events(
            session,
            [
                {
                    "id": uuid.uuid4(),
                    "organisation_id": organisation_id,
                    "created_at": created_at,
                    "transaction_id": event.transaction_id,
                    "contract_id": event.contract_id,
                    "metric_id": event.metric_id,
                    "timestamp": event.timestamp,
                    "properties": event.properties,
                    "invoice_id": None,
                }
                for event in events
            ],
        )
    # A batch names few contracts and metrics: render each id once.
    keys = {event.contract_id for event in events} | {event.metric_id for event in events}
    ids = {key: str(key) for key in keys}
    document = json.dumps(
        [
            {
                "transaction_id": event.transaction_id,
                "contract_id": ids[event.contract_id],
                "metric_id": ids[event.metric_id],
                "timestamp": utc_iso(event.timestamp),
                "properties": event.properties,
            }
            for event in events
        ],
        # Properties hold only strings, booleans and null (numbers were turned into decimal
        # strings on validation), so nothing here can become a float.
        allow_nan=False,
    )
    params = {"organisation_id": organisation_id, "created_at": created_at, "events": document}
    return set(session.execute(_PG_INSERT_BATCH, params).scalars())


_PG_LOCK_CONTRACTS = text(
    """
    SELECT id FROM contracts
    WHERE organisation_id = :organisation_id
      AND id = ANY(CAST(string_to_array(:contract_ids, ',') AS uuid[]))
    ORDER BY id
    FOR KEY SHARE
    """
)


def lock_contracts_for_ingestion(
    session: Session, organisation_id: uuid.UUID, contract_ids: Iterable[uuid.UUID]
) -> None:
    """Hold the contracts against billing until this transaction ends, before any of its events
    takes a sequence number.

    PostgreSQL: `FOR KEY SHARE` (concurrent ingestions share it; the billing's `FOR UPDATE`
    waits for them, and they wait for it), in id order like the billing, so neither can deadlock.
    A billing transaction therefore sees every event numbered before it locked the contract, and
    every event numbered later is numbered after its `max_seq`: late, never covered by mistake.
    Sequence numbers are taken in the INSERT that follows, after the lock. SQLite needs nothing:
    every write transaction holds the database's write lock from its first statement.
    """
    wanted = sorted({str(contract_id) for contract_id in contract_ids})
    if not wanted or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        _PG_LOCK_CONTRACTS, {"organisation_id": organisation_id, "contract_ids": ",".join(wanted)}
    )


def utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return moment.astimezone(UTC).isoformat()


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert full rows (with their own ids) with one INSERT ... ON CONFLICT DO NOTHING; the
    transaction ids actually inserted. Used on SQLite and for seeding; see insert_new_events.
    """
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        rows = _numbered(session, rows)
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = table_of(UsageEvent)
    stmt = (
        insert_(table)
        .on_conflict_do_nothing(index_elements=["organisation_id", "transaction_id"])
        .returning(table.c.transaction_id)
    )
    # executemany through SQLAlchemy's "insertmanyvalues": one cached statement sent as
    # multi-row INSERTs in batches; a literal VALUES list would be compiled anew every time.
    return set(session.connection().execute(stmt, list(rows)).scalars())


def _numbered(session: Session, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """SQLite: the rows with sequence numbers from their organisation's counter row (PostgreSQL's
    column default takes them from the sequence). Rows skipped as duplicates leave gaps, which
    mean nothing: only the order counts."""
    by_organisation: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for row in rows:
        by_organisation.setdefault(row["organisation_id"], []).append(row)
    numbered: list[dict[str, Any]] = []
    for organisation_id, group in by_organisation.items():
        first = counters.reserve(session, organisation_id, SEQ_SERIES, "", len(group))
        numbered += [{**row, "seq": first + i} for i, row in enumerate(group)]
    return numbered


def events_by_transaction(
    session: Session, organisation_id: uuid.UUID, transaction_ids: Iterable[str]
) -> dict[str, UsageEvent]:
    wanted = set(transaction_ids)
    rows = session.execute(
        select(UsageEvent).where(
            UsageEvent.organisation_id == organisation_id, UsageEvent.transaction_id.in_(wanted)
        )
    ).scalars()
    return {row.transaction_id: row for row in rows}


def list_contract_events(
    session: Session,
    organisation_id: uuid.UUID,
    contract_id: uuid.UUID,
    since: datetime | None,
    before: datetime | None,
    limit: int,
) -> list[UsageEvent]:
    stmt = select(UsageEvent).where(
        UsageEvent.organisation_id == organisation_id, UsageEvent.contract_id == contract_id
    )
    if since is not None:
        stmt = stmt.where(UsageEvent.timestamp >= since)
    if before is not None:
        stmt = stmt.where(UsageEvent.timestamp < before)
    return list(session.execute(stmt.order_by(UsageEvent.timestamp, UsageEvent.id).limit(limit)).scalars())
