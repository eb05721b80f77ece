"""The lease's query stays linear in the pending deliveries on PostgreSQL before any statistics:
a new database (or a burst on a table analysed while it was small) is planned from estimates, and
the check for an older pending delivery of the same object once compared every candidate with
every pending delivery (a million comparisons for a thousand)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

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
