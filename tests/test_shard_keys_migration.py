"""Migration 0021 (shard keys) on SQLite and PostgreSQL, on a database with data in most tables:
every row is the same after the way down to 0019 and up again, the references hold, and what
numbers events and webhook deliveries goes on after the highest number."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from conftest import Tenant, make_tenant
from factories import create_customer, create_invoice
from faktur.app import create_app
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.migrations import alembic_config, upgrade_to_head
from faktur.sending.service import queue_finalized_sends
from faktur.webhooks.delivery import fan_out
from recurring_factories import billed, create_contract, create_metric, event, send_events, usage
from usage.test_usage_migration import own_database  # noqa: F401  (fixture)
from webhooks.webhook_settings import webhook_settings

BEFORE = "0020"


def _rows(url: str) -> dict[str, list[str]]:
    """Every row of every faktur table, as text, sorted."""
    plain = create_engine(normalise_url(url))
    try:
        tables = [
            t for t in inspect(plain).get_table_names() if not t.startswith(("procrastinate_", "alembic_"))
        ]
        with plain.connect() as conn:
            return {
                table: sorted(
                    repr(sorted(row.items()))
                    for row in conn.execute(text(f'SELECT * FROM "{table}"')).mappings()
                )
                for table in tables
            }
    finally:
        plain.dispose()


def _fill(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    headers = tenant.headers
    hook = client.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook"}, headers=headers)
    assert hook.status_code == 201, hook.text
    rate = client.post("/v1/tax-rates", json={"name": "VAT 19", "percent": "19"}, headers=headers)
    assert rate.status_code == 201, rate.text
    buyer = create_customer(client, headers)
    taxed = {
        "description": "Consulting",
        "quantity": "1",
        "unit_price": "100.00",
        "tax_rate_id": rate.json()["id"],
    }
    invoice = create_invoice(client, headers, buyer["id"], [taxed], finalize=True)
    paid = client.post(f"/v1/invoices/{invoice['id']}/payments", json={"amount": "10.00"}, headers=headers)
    assert paid.status_code == 201, paid.text
    note = client.post(
        f"/v1/invoices/{invoice['id']}/credit-notes", json={"credit_amount": "10.00"}, headers=headers
    )
    assert note.status_code == 201, note.text
    assert client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=headers).status_code == 200
    taxed_s = {"category": "S", "percent": "19"}
    order = {
        "customer_id": buyer["id"],
        "currency": "EUR",
        "lines": [{"name": "Box", "quantity": "2", "unit_price": "5.00", "tax": taxed_s}],
    }
    made = client.post("/v1/orders", json=order, headers={**headers, "Idempotency-Key": "order-1"})
    assert made.status_code == 201, made.text
    item = {
        "customer_id": buyer["id"],
        "description": "Seat",
        "quantity": "2",
        "unit_price": "10.00",
        "tax": taxed_s,
    }
    assert client.post("/v1/invoice-items", json=item, headers=headers).status_code == 201
    create_metric(client, headers, "api_calls")
    contract = create_contract(
        client, headers, [usage("api_calls", {"model": "per_unit", "unit_price": "1"})]
    )
    send_events(client, headers, [event(contract["id"], "2024-01-10T10:00:00Z") for _ in range(3)])
    billed(client, headers, contract["id"], "2024-01-01", "2024-02-01", finalize=True)
    return invoice


def test_0021_keeps_every_row_down_and_up_and_numbering_goes_on(own_database: str) -> None:  # noqa: F811
    upgrade_to_head(own_database)
    engine = make_engine(own_database)
    factory = make_session_factory(engine)
    tenant = make_tenant(factory)
    other = make_tenant(factory, name="Other GmbH")
    client = TestClient(create_app(webhook_settings(own_database), engine))  # no lifespan: no outbox threads
    invoice = _fill(client, tenant)
    _fill(client, other)
    with session_scope(factory) as session:
        assert fan_out(session, datetime.now(UTC)) > 0
        # As the outbox loop leaves them: migration 0022 marks unchecked credit_note.issued events.
        assert queue_finalized_sends(session, datetime.now(UTC), smtp_from=None) > 0
    engine.dispose()
    before = _rows(own_database)
    filled = {table for table, rows in before.items() if rows}
    assert {
        "invoices",
        "invoice_lines",
        "events",
        "webhook_deliveries",
        "credit_notes",
        "usage_events",
    } <= filled

    command.downgrade(alembic_config(own_database), BEFORE)
    assert _rows(own_database) == before
    upgrade_to_head(own_database)
    assert _rows(own_database) == before

    highest_seq, highest_delivery = _highest(own_database)
    engine = make_engine(own_database)
    factory = make_session_factory(engine)
    client = TestClient(create_app(webhook_settings(own_database), engine))
    page = client.get(invoice["hosted_url"].removeprefix("http://testserver"))
    assert page.status_code == 200 and invoice["number"] in page.text
    create_invoice(client, tenant.headers, invoice["customer_id"], finalize=True)
    with session_scope(factory) as session:
        assert fan_out(session, datetime.now(UTC)) > 0
    engine.dispose()
    after = _rows(own_database)
    new_events = len(after["events"]) - len(before["events"])
    new_deliveries = len(after["webhook_deliveries"]) - len(before["webhook_deliveries"])
    assert new_events > 0 and new_deliveries > 0
    plain = create_engine(normalise_url(own_database))
    with plain.connect() as conn:
        numbered_after = conn.execute(
            text("SELECT count(DISTINCT seq) FROM events WHERE seq > :n"), {"n": highest_seq}
        ).scalar()
        delivered_after = conn.execute(
            text("SELECT count(DISTINCT id) FROM webhook_deliveries WHERE id > :n"), {"n": highest_delivery}
        ).scalar()
    plain.dispose()
    assert (numbered_after, delivered_after) == (new_events, new_deliveries)


def _highest(url: str) -> tuple[int, int]:
    plain = create_engine(normalise_url(url))
    with plain.connect() as conn:
        seq = conn.execute(text("SELECT max(seq) FROM events")).scalar_one()
        delivery = conn.execute(text("SELECT max(id) FROM webhook_deliveries")).scalar_one()
    plain.dispose()
    return seq, delivery
