"""Migration 0008 (usage coverage) down and up again on a database with billed usage: nothing
billed turns unbilled or the other way round, and new events are numbered after the old ones."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from conftest import BACKENDS, POSTGRES_URL, make_tenant
from faktur.app import create_app
from faktur.config import Settings
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.migrations import alembic_config, upgrade_to_head
from faktur.models import UsageEvent
from recurring_factories import (
    billed,
    create_contract,
    create_metric,
    event,
    events_billed_by,
    send_events,
    usage,
)


@pytest.fixture(params=BACKENDS)
def own_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own: migrating down would break the shared test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    assert POSTGRES_URL
    name = f"faktur_migration_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(normalise_url(POSTGRES_URL)).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_usage_coverage_migrates_down_and_up_keeping_what_was_billed(own_database: str) -> None:
    upgrade_to_head(own_database)
    engine = make_engine(own_database)
    factory = make_session_factory(engine)
    tenant = make_tenant(factory)
    app = create_app(Settings(database_url=own_database, create_demo_organisation=False), engine)
    with TestClient(app) as client:
        create_metric(client, tenant.headers, "api_calls")
        contract = create_contract(
            client, tenant.headers, [usage("api_calls", {"model": "per_unit", "unit_price": "1"})]
        )
        cid = contract["id"]
        send_events(client, tenant.headers, [event(cid, "2024-01-10T10:00:00Z") for _ in range(4)])
        january = billed(client, tenant.headers, cid, "2024-01-01", "2024-02-01", finalize=True)
        send_events(client, tenant.headers, [event(cid, "2024-01-20T10:00:00Z") for _ in range(2)])
        february = billed(client, tenant.headers, cid, "2024-02-01", "2024-03-01", finalize=True)
        send_events(client, tenant.headers, [event(cid, "2024-02-20T10:00:00Z")])  # late, unbilled
    expected = {january["id"]: 4, february["id"]: 2, "None": 1}
    assert events_billed_by(factory) == expected
    engine.dispose()

    # Down: what coverage billed becomes explicit marks on the events.
    command.downgrade(alembic_config(own_database), "0007")
    plain = create_engine(normalise_url(own_database))
    with plain.connect() as conn:
        marks = dict(
            conn.execute(text("SELECT invoice_id, count(*) FROM usage_events GROUP BY invoice_id")).all()
        )
    plain.dispose()
    assert {str(uuid.UUID(str(k))) if k else "None": v for k, v in marks.items()} == expected

    # Up again: the marks stay, nothing is covered twice, and a new event is numbered last.
    upgrade_to_head(own_database)
    engine = make_engine(own_database)
    factory = make_session_factory(engine)
    assert events_billed_by(factory) == expected
    app = create_app(Settings(database_url=own_database, create_demo_organisation=False), engine)
    with TestClient(app) as client:
        send_events(client, tenant.headers, [event(cid, "2024-03-03T10:00:00Z")])
    with session_scope(factory) as session:
        numbers = session.execute(select(UsageEvent.timestamp, UsageEvent.seq).order_by(UsageEvent.seq)).all()
        assert session.execute(select(func.count(func.distinct(UsageEvent.seq)))).scalar_one() == 8
    assert numbers[-1][0].month == 3
    engine.dispose()
