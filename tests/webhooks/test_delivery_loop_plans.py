"""The delivery loop's queries on PostgreSQL read about as much as they hand on, however many rows
the tables hold.

The lease's query before any statistics (a new database, or a burst into a table analysed while it
was small, is planned from estimates): the check for an older pending delivery of the same object
once compared every candidate with every pending delivery (a million comparisons for a thousand),
and the due deliveries were all read and sorted to lease a few; now it reads about as many as it
leases, in the index's order. The fan-out's look for new events once read every event of the last
30 days (its condition did not match its partial index's), on every pass."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from conftest import POSTGRES_URL, make_tenant, new_postgres_database
from faktur.db import make_engine, make_session_factory, session_scope
from faktur.events.service import record_event
from faktur.webhooks import repository
from faktur.webhooks import service as webhooks
from faktur.webhooks.delivery import fan_out

PENDING = 1000

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (FAKTUR_TEST_POSTGRES_URL)")


@pytest.fixture
def new_database() -> Iterator[str]:
    """A database of its own, migrated and never analysed."""
    with new_postgres_database("faktur_plan") as url:
        yield url


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


def _rows_compared(plan: dict[str, Any]) -> int:
    """Rows every join of the plan read and dropped again, summed over the plan's nodes."""
    own = int(plan.get("Rows Removed by Join Filter", 0))
    return own + sum(_rows_compared(child) for child in plan.get("Plans", []))


def test_leasing_reads_each_pending_delivery_a_bounded_number_of_times(new_database: str) -> None:
    engine = make_engine(new_database)
    factory = make_session_factory(engine)
    tenant = make_tenant(factory)
    now = datetime.now(UTC)
    policy = webhooks.EndpointPolicy(allow_private_urls=True, secret_grace=timedelta(hours=1))
    with session_scope(factory) as session:
        webhooks.create_endpoint(
            session,
            tenant.organisation_id,
            webhooks.NewEndpoint("http://127.0.0.1:9/hooks", None, None, {}),
            policy,
            now - timedelta(seconds=1),
        )
    with session_scope(factory) as session:
        for _ in range(PENDING):
            record_event(
                session, tenant.organisation_id, "customer.created", {"id": str(uuid.uuid4())}, now=now
            )
    with session_scope(factory) as session:
        assert fan_out(session, now, limit=2 * PENDING) == PENDING

    statements: list[tuple[str, Any]] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append((args[2], args[3])))
    with session_scope(factory) as session:
        due = repository.due_deliveries(session, now + timedelta(seconds=1), 64)
        assert len(due) == 64
        statement, parameters = statements[-1]
        cursor = session.connection().connection.driver_connection.cursor()
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
        (plan,) = cursor.fetchone()[0]  # psycopg parses the JSON
    engine.dispose()
    assert _rows_compared(plan["Plan"]) <= 10 * PENDING
    # Read in the lease's order off the index: about as many as leased, not every due delivery.
    read = [n for n in _nodes(plan["Plan"]) if n.get("Index Name") == "ix_webhook_deliveries_due"]
    assert read and all(node["Actual Rows"] <= 2 * len(due) for node in read), read


def _explain(engine: Any, statement: str, parameters: Any) -> dict[str, Any]:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
        (plan,) = cursor.fetchone()[0]  # psycopg parses the JSON
        raw.rollback()
        return dict(plan["Plan"])
    finally:
        raw.close()


def test_the_fan_out_reads_the_new_events_off_their_index(new_database: str) -> None:
    """Of 2,000 events (analysed), 20 not fanned out yet: the fan-out reads those 20 through the
    partial index of new events, not the table."""
    engine = make_engine(new_database)
    factory = make_session_factory(engine)
    tenant = make_tenant(factory)
    now = datetime.now(UTC)
    with session_scope(factory) as session:
        for _ in range(2000):
            customer = {"id": str(uuid.uuid4())}
            record_event(session, tenant.organisation_id, "customer.created", customer, now=now)
    with engine.begin() as conn:
        conn.execute(text("UPDATE events SET fanned_out = true WHERE seq % 100 <> 0"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE events"))
    statements: list[tuple[str, Any]] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append((args[2], args[3])))
    with session_scope(factory) as session:
        assert len(repository.events_to_fan_out(session, 500)) == 20
    plan = _explain(engine, *statements[-1])
    engine.dispose()
    reads = [n for n in _nodes(plan) if n.get("Relation Name") == "events"]
    assert [n["Node Type"] for n in reads] == ["Index Scan"], reads
    assert reads[0]["Index Name"] == "ix_events_not_fanned_out"
