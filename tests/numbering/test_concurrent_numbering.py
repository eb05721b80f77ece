"""Gapless, unique numbers under concurrent finalization (DESIGN rule 3), proven on PostgreSQL
with real threads and real processes; the sequential behaviour runs on both backends."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, select

from conftest import make_tenant
from faktur.context import Actor
from faktur.customers import service as customers
from faktur.customers.schemas import CustomerCreate
from faktur.db import make_engine, make_session_factory, session_scope
from faktur.invoices import commands, service
from faktur.invoices.schemas import InvoiceCreate, InvoiceLineIn, TaxIn
from faktur.models import Invoice, Organisation
from faktur.numbering.service import next_invoice_numbers

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _drafts(session_factory, organisation_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    with session_scope(session_factory) as session:
        organisation = session.get(Organisation, organisation_id)
        actor = Actor(organisation, "test")
        customer = customers.create_customer(session, organisation_id, CustomerCreate(name="Buyer"), NOW)
        line = InvoiceLineIn(
            description="x",
            quantity=Decimal(1),
            unit_price=Decimal("10.00"),
            tax=TaxIn(category="S", percent=Decimal(19)),
        )
        return [
            service.create_invoice(
                session,
                actor,
                commands.new_invoice(InvoiceCreate(customer_id=customer.id, lines=[line])),
                NOW,
            ).id
            for _ in range(count)
        ]


def _finalize(session_factory, organisation_id: uuid.UUID, invoice_id: uuid.UUID) -> str:
    with session_scope(session_factory) as session:
        organisation = session.get(Organisation, organisation_id)
        invoice = service.finalize_invoice(session, Actor(organisation, "test"), invoice_id, NOW)
        return invoice.number


def _numbers(session_factory, organisation_id: uuid.UUID) -> list[str]:
    with session_scope(session_factory) as session:
        return sorted(
            session.execute(
                select(Invoice.number).where(
                    Invoice.organisation_id == organisation_id, Invoice.number.is_not(None)
                )
            ).scalars()
        )


def _expected(count: int, year: int = 2026) -> list[str]:
    return [f"INV-{year}-{n:05d}" for n in range(1, count + 1)]


def test_sequential_finalizations_number_one_after_another(session_factory, tenant) -> None:
    ids = _drafts(session_factory, tenant.organisation_id, 3)
    assert [_finalize(session_factory, tenant.organisation_id, i) for i in ids] == _expected(3)


def test_failed_finalization_gives_its_number_back(session_factory, tenant) -> None:
    first, second = _drafts(session_factory, tenant.organisation_id, 2)
    with pytest.raises(RuntimeError), session_scope(session_factory) as session:
        organisation = session.get(Organisation, tenant.organisation_id)
        service.finalize_invoice(session, Actor(organisation, "test"), first, NOW)
        raise RuntimeError("crash after numbering, before commit")
    assert _finalize(session_factory, tenant.organisation_id, second) == "INV-2026-00001"
    assert _finalize(session_factory, tenant.organisation_id, first) == "INV-2026-00002"


def test_yearly_reset_starts_each_year_at_one(session_factory, tenant) -> None:
    with session_scope(session_factory) as session:
        organisation = session.get(Organisation, tenant.organisation_id)
        assert next_invoice_numbers(session, organisation, NOW.date(), 2) == _expected(2)
        assert next_invoice_numbers(session, organisation, NOW.date().replace(year=2027), 1) == [
            "INV-2027-00001"
        ]
        assert next_invoice_numbers(session, organisation, NOW.date(), 1) == ["INV-2026-00003"]


def test_block_reservation_is_consecutive_and_shared_with_single_numbers(session_factory, tenant) -> None:
    with session_scope(session_factory) as session:
        organisation = session.get(Organisation, tenant.organisation_id)
        block = next_invoice_numbers(session, organisation, NOW.date(), 50)
        after = next_invoice_numbers(session, organisation, NOW.date(), 1)
    assert block + after == _expected(51)


def test_series_are_independent_per_organisation(session_factory, tenant, other_tenant) -> None:
    mine = _drafts(session_factory, tenant.organisation_id, 2)
    theirs = _drafts(session_factory, other_tenant.organisation_id, 1)
    assert _finalize(session_factory, tenant.organisation_id, mine[0]) == "INV-2026-00001"
    assert _finalize(session_factory, other_tenant.organisation_id, theirs[0]) == "INV-2026-00001"
    assert _finalize(session_factory, tenant.organisation_id, mine[1]) == "INV-2026-00002"


@pytest.mark.postgres_only
def test_32_threads_finalizing_200_drafts_yield_1_to_200(session_factory, tenant) -> None:
    ids = _drafts(session_factory, tenant.organisation_id, 200)
    with ThreadPoolExecutor(max_workers=32) as pool:
        returned = list(pool.map(lambda i: _finalize(session_factory, tenant.organisation_id, i), ids))
    assert sorted(returned) == _expected(200)
    assert _numbers(session_factory, tenant.organisation_id) == _expected(200)


@pytest.mark.postgres_only
def test_4_processes_finalizing_200_drafts_yield_1_to_200(session_factory, tenant, database_url) -> None:
    ids = [str(i) for i in _drafts(session_factory, tenant.organisation_id, 200)]
    worker = Path(__file__).with_name("finalize_worker.py")
    processes = [
        subprocess.Popen([sys.executable, str(worker), database_url, str(tenant.organisation_id), *ids[k::4]])
        for k in range(4)
    ]
    assert [p.wait(timeout=300) for p in processes] == [0, 0, 0, 0]
    assert _numbers(session_factory, tenant.organisation_id) == _expected(
        200, NOW.year if False else datetime.now(UTC).year
    )


def test_4_processes_writing_one_sqlite_file_queue_instead_of_failing(tmp_path, sqlite_template) -> None:
    """With SQLite's busy handler cut to 1 ms, processes that waited in it would fail with
    'database is locked'; faktur's writers queue on the lock file beside the database instead."""
    path = tmp_path / "shared.sqlite3"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    factory = make_session_factory(engine)
    tenant = make_tenant(factory)
    ids = [str(i) for i in _drafts(factory, tenant.organisation_id, 120)]
    worker = Path(__file__).with_name("finalize_worker.py")
    command = [sys.executable, str(worker), "--busy-timeout-ms", "1", url, str(tenant.organisation_id)]
    processes = [subprocess.Popen([*command, *ids[k::4]], stderr=subprocess.PIPE) for k in range(4)]
    errors = [p.communicate(timeout=300)[1].decode()[-3000:] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], errors
    assert _numbers(factory, tenant.organisation_id) == _expected(120, datetime.now(UTC).year)
    engine.dispose()


def _statements_of(engine, work) -> list[str]:
    """The SQL statements `work()` sends, in order, whitespace collapsed."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


def _after_counter(statements: list[str]) -> list[str]:
    """What is sent from the first statement on the counter row on: "counter" (advances it),
    "counter+number" (PostgreSQL advances it and writes the invoice's number in one statement),
    "number" (UPDATE invoices SET number) or the statement's first words."""
    first = next(i for i, s in enumerate(statements) if "number_series" in s)
    kinds = []
    for statement in statements[first:]:
        writes_number = "UPDATE invoices SET number" in statement
        if "number_series" in statement:
            kinds.append("counter+number" if writes_number else "counter")
        else:
            kinds.append("number" if writes_number else " ".join(statement.split()[:3]))
    return kinds


# SQLite, PostgreSQL; then the invoice's events (webhooks), presented before the number was taken
# and written with it (faktur.invoices.events.announce / record_numbered). SQLite numbers the
# events after the highest `seq` (faktur.sql.numbered) under the database's one write lock.
LAST = (
    ["counter", "number", "SELECT max(events.seq) AS", "INSERT INTO events"],
    ["counter+number", "INSERT INTO events"],
)


def test_creating_an_issued_invoice_takes_its_number_last(engine, client, tenant) -> None:
    """The counter row is locked from taking a number until commit and concurrent finalizations
    of the organisation queue on it: every row is written before, only the number after."""
    customer = client.post("/v1/customers", json={"name": "Buyer"}, headers=tenant.headers).json()
    body = {
        "customer_id": customer["id"],
        "finalize": True,
        "lines": [
            {"description": "x", "quantity": 2, "unit_price": 10, "tax": {"category": "S", "percent": 19}}
        ],
    }
    responses = [client.post("/v1/invoices", json=body, headers=tenant.headers)]  # the series exists now
    statements = _statements_of(
        engine, lambda: responses.append(client.post("/v1/invoices", json=body, headers=tenant.headers))
    )
    assert [r.status_code for r in responses] == [201, 201], responses[1].text
    assert responses[1].json()["number"] == f"INV-{datetime.now(UTC):%Y}-00002"
    stored = client.get(f"/v1/invoices/{responses[1].json()['id']}", headers=tenant.headers).json()
    assert stored == responses[1].json()
    assert _after_counter(statements) in LAST
    assert any(s.startswith("INSERT INTO invoice_lines") for s in statements)


def test_finalizing_a_draft_over_http_takes_its_number_last(engine, client, tenant) -> None:
    """The finalize endpoint renders its response and the invoice's events before the number is
    taken (faktur.pending): after it only the events are written."""
    customer = client.post("/v1/customers", json={"name": "Buyer"}, headers=tenant.headers).json()
    body = {
        "customer_id": customer["id"],
        "lines": [
            {"description": "x", "quantity": 2, "unit_price": 10, "tax": {"category": "S", "percent": 19}}
        ],
    }
    drafts = [client.post("/v1/invoices", json=body, headers=tenant.headers).json()["id"] for _ in range(2)]
    responses = [client.post(f"/v1/invoices/{drafts[0]}/finalize", headers=tenant.headers)]
    statements = _statements_of(
        engine,
        lambda: responses.append(client.post(f"/v1/invoices/{drafts[1]}/finalize", headers=tenant.headers)),
    )
    assert [r.status_code for r in responses] == [200, 200], responses[1].text
    assert responses[1].json()["number"] == f"INV-{datetime.now(UTC):%Y}-00002"
    assert client.get(f"/v1/invoices/{drafts[1]}", headers=tenant.headers).json() == responses[1].json()
    assert _after_counter(statements) in LAST


def test_finalizing_a_draft_takes_its_number_last(engine, session_factory, tenant) -> None:
    first, draft = _drafts(session_factory, tenant.organisation_id, 2)
    numbers = [_finalize(session_factory, tenant.organisation_id, first)]  # the series exists now
    statements = _statements_of(
        engine, lambda: numbers.append(_finalize(session_factory, tenant.organisation_id, draft))
    )
    assert numbers == _expected(2)
    assert _after_counter(statements) in LAST
    assert any(s.startswith("INSERT INTO invoice_events") for s in statements)


@pytest.mark.parametrize(
    ("fmt", "expected"), [("R{SEQ:02}-{YY}", "R123-26"), ("{SEQ:05}", "00123"), ("{MM}/{SEQ}", "06/123")]
)
def test_a_finalized_number_follows_the_format_past_its_padding(
    session_factory, tenant, fmt, expected
) -> None:
    """On PostgreSQL the number is composed in SQL (numbering.repository.advance_and_write)."""
    with session_scope(session_factory) as session:
        organisation = session.get(Organisation, tenant.organisation_id)
        organisation.number_format = fmt
        next_invoice_numbers(session, organisation, NOW.date(), 122)
    (draft,) = _drafts(session_factory, tenant.organisation_id, 1)
    assert _finalize(session_factory, tenant.organisation_id, draft) == expected
