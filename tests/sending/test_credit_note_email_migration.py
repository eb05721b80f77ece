"""Migration 0022 on SQLite and PostgreSQL: the partial index of events unchecked for e-mail covers
credit_note.issued after it and not before, the outbox loop's query reads that index, and credit
notes issued before the upgrade are marked checked, so the upgrade e-mails none of them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.schema import CreateIndex

from conftest import make_tenant
from factories import create_customer, create_invoice
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.migrations import alembic_config, upgrade_to_head
from faktur.models import Event, InvoiceSend
from faktur.sending.service import queue_finalized_sends
from sending.test_send_migration import mail_client_without_loop
from usage.test_usage_migration import own_database  # noqa: F401  (fixture)

INDEX = "ix_events_email_unchecked"


def _index_definition(url: str) -> str:
    plain = create_engine(normalise_url(url))
    try:
        with plain.connect() as conn:
            if plain.dialect.name == "sqlite":
                query = text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name")
            else:
                query = text("SELECT indexdef FROM pg_indexes WHERE indexname = :name")
            return str(conn.execute(query, {"name": INDEX}).scalar_one())
    finally:
        plain.dispose()


def _flags(url: str) -> dict[str, list[bool]]:
    plain = create_engine(normalise_url(url))
    try:
        with plain.connect() as conn:
            rows = conn.execute(text("SELECT type, email_checked FROM events ORDER BY seq")).all()
    finally:
        plain.dispose()
    flags: dict[str, list[bool]] = {}
    for type_, checked in rows:
        flags.setdefault(type_, []).append(bool(checked))
    return flags


def _loop_query_plan(engine: Engine, factory: Any) -> str:
    """The plan of the outbox loop's query of unchecked events, as the loop runs it."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "email_checked" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with session_scope(factory) as session:
            queue_finalized_sends(session, datetime.now(UTC), smtp_from=None)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = seen[0]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "\n".join(str(row[-1]) for row in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")  # the tables are tiny here
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        return "\n".join(str(row[0]) for row in rows)


def test_0022_indexes_credit_note_events_and_checks_those_issued_before_it(own_database: str) -> None:  # noqa: F811
    upgrade_to_head(own_database)
    command.downgrade(alembic_config(own_database), "0021")
    before = _index_definition(own_database)
    assert "invoice.finalized" in before and "credit_note.issued" not in before

    # Before the upgrade: a credit note issued, its invoice.finalized checked by the old loop.
    engine = make_engine(own_database)
    factory = make_session_factory(engine)
    tenant = make_tenant(factory)
    client = mail_client_without_loop(own_database, engine)
    body = {"email": "billing@seller.example", "email_on_finalize": True}
    assert client.patch("/v1/organisation", json=body, headers=tenant.headers).status_code == 200
    buyer = create_customer(client, tenant.headers, email="ap@kunde.example")
    invoice = create_invoice(client, tenant.headers, buyer["id"], finalize=True)
    response = client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json={}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    with session_scope(factory) as session:
        session.execute(text("UPDATE events SET email_checked = true WHERE type = 'invoice.finalized'"))
    assert _flags(own_database)["credit_note.issued"] == [False]
    engine.dispose()

    upgrade_to_head(own_database)
    after = _index_definition(own_database)
    assert "invoice.finalized" in after and "credit_note.issued" in after
    assert _flags(own_database)["credit_note.issued"] == [True]
    engine = make_engine(own_database)
    factory = make_session_factory(engine)
    if engine.dialect.name == "sqlite":  # as the model declares it, to the letter
        [index] = [i for i in Event.__table__.indexes if i.name == INDEX]
        assert after == str(CreateIndex(index).compile(dialect=engine.dialect)).strip()
    assert INDEX in _loop_query_plan(engine, factory)
    with session_scope(factory) as session:
        assert queue_finalized_sends(session, datetime.now(UTC), smtp_from=None) == 0
        assert session.scalar(select(func.count()).select_from(InvoiceSend)) == 0
    engine.dispose()

    command.downgrade(alembic_config(own_database), "0021")
    assert _index_definition(own_database) == before
    upgrade_to_head(own_database)
    assert _index_definition(own_database) == after
