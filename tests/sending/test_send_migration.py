"""Migration 0019 on SQLite and PostgreSQL: invoice sends survive it both ways, a credit note's
sends go on the way down, and a send is of exactly one document (the check constraint)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError

from conftest import make_tenant
from factories import create_customer, create_invoice
from faktur.app import create_app
from faktur.config import Settings
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.migrations import alembic_config, upgrade_to_head
from faktur.models import InvoiceSend
from usage.test_usage_migration import own_database  # noqa: F401  (fixture)


def _id(value: object) -> str:
    """SQLite keeps a UUID as 32 hex digits, PostgreSQL as a uuid: both as the API spells it."""
    return "None" if value is None else str(uuid.UUID(str(value)))


def _send_rows(url: str) -> list[tuple[str | None, str | None]]:
    plain = create_engine(normalise_url(url))
    try:
        with plain.connect() as conn:
            rows = conn.execute(text("SELECT * FROM invoice_sends")).mappings().all()
            return sorted((_id(r.get("invoice_id")), _id(r.get("credit_note_id"))) for r in rows)
    finally:
        plain.dispose()


def mail_client_without_loop(url: str, engine: Engine) -> TestClient:
    """A client of the app on `url` whose e-mails go nowhere; no outbox thread runs (the client is
    not entered), so what is queued stays queued."""
    settings = Settings(
        database_url=url,
        create_demo_organisation=False,
        smtp_url="smtp://127.0.0.1:1",
        smtp_from="invoices@seller.example",
    )
    return TestClient(create_app(settings, engine), raise_server_exceptions=False)


def test_0019_down_and_up_keeps_invoice_sends_and_checks_one_document(own_database: str) -> None:  # noqa: F811
    upgrade_to_head(own_database)
    engine = make_engine(own_database)
    factory = make_session_factory(engine)
    tenant = make_tenant(factory)
    client = mail_client_without_loop(own_database, engine)
    buyer = create_customer(client, tenant.headers)
    invoice = create_invoice(client, tenant.headers, buyer["id"], finalize=True)
    note = client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json={}, headers=tenant.headers).json()
    assert client.post(f"/v1/invoices/{invoice['id']}/send", headers=tenant.headers).status_code == 202
    assert client.post(f"/v1/credit-notes/{note['id']}/send", headers=tenant.headers).status_code == 202
    assert _send_rows(own_database) == sorted([(invoice["id"], "None"), ("None", note["id"])])

    now = datetime.now(UTC)
    for invoice_id, credit_note_id in [(None, None), (uuid.UUID(invoice["id"]), uuid.UUID(note["id"]))]:
        with pytest.raises(IntegrityError), session_scope(factory) as session:
            session.add(
                InvoiceSend(
                    id=uuid.uuid4(),
                    organisation_id=tenant.organisation_id,
                    invoice_id=invoice_id,
                    credit_note_id=credit_note_id,
                    created_at=now,
                    updated_at=now,
                    status="queued",
                    to_addresses=["a@b.example"],
                    cc_addresses=[],
                    trigger="request",
                    message_id="<x@b.example>",
                    attachments=[],
                    attempts=0,
                    next_attempt_at=now,
                )
            )
    engine.dispose()

    command.downgrade(alembic_config(own_database), "0018")
    [(invoice_id, *_)] = [tuple(r) for r in _send_rows(own_database)]
    assert invoice_id == invoice["id"]
    upgrade_to_head(own_database)
    assert _send_rows(own_database) == [(invoice["id"], "None")]
