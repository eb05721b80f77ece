"""Every list query is served by an index that starts with organisation_id (issue 21).

A medium database is seeded by bench/seed_large.py (the same code as the scale benchmark: skewed
organisations, three years of invoices, contracts, usage events) and ANALYZEd. Each list endpoint
is then called through the real app, its SQL captured as executed (a `before_cursor_execute`
listener), and every SELECT that reads a tenant table is EXPLAINed with the same parameters. The
JSON plan is walked: each scan of a tenant table must go through an index whose first column is
organisation_id (a sequential scan, or an index on another leading column, fails), and a page
after a cursor must have the cursor in the index condition (a keyset bound, not a filter that
skips the newer rows one by one).

Planner settings: the defaults, except for a table of a few pages (those the seed leaves almost
empty: orders, invoice items, webhooks, ...). There a sequential scan is the right plan today, so
the statement is EXPLAINed again with `enable_seqscan = off`, which asks what the planner would
use once the table is large: it must then still be an organisation_id index, not a full scan of
another index.

One ordered scan is let through on another index: the event list of the organisation that holds
half of the events is read along the events' `seq` index (the order they were written, across
organisations: the outbox loops' order, bounded by the cursor) filtered by organisation, which
PostgreSQL rightly finds cheaper than the (organisation_id, seq) index there: two rows read per
row listed, at any size (a smaller organisation's list uses the organisation index).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from faktur.app import create_app
from faktur.config import Settings
from faktur.customers import repository as customers_repo
from faktur.customers.schemas import CustomerOut
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.events.service import record_event
from faktur.events.types import EventType
from faktur.invoices import repository as invoices_repo
from faktur.models import Base
from faktur.organisations import service as organisations
from faktur.paging import Cursor

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
import seed_large
from conftest import POSTGRES_URL

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]

# 0.2 % of issue 21's sizes: 2,000 invoices (1,000 in the large organisation, ~20,000 lines),
# 400 customers, 100 contracts, 20,000 usage events; no stored PDFs (no list reads them).
MEDIUM_SCALE = 0.002
# Below this many pages a sequential scan is the cheap plan (see the module docstring).
SMALL_TABLE_PAGES = 64
# Authentication finds the key by its prefix before any organisation is known.
NOT_SCOPED = {"api_keys"}
EVENTS_BY_SEQ = "ix_events_seq"
TENANT_TABLES = {t.name for t in Base.metadata.sorted_tables if "organisation_id" in t.c} - NOT_SCOPED


@dataclass(frozen=True)
class Medium:
    engine: Engine
    client: TestClient
    headers: dict[str, str]
    statements: list[tuple[str, Any]]
    leading_column: dict[str, str]
    pages: dict[str, int]
    ids: dict[str, str]


def _drop(name: str) -> None:
    assert POSTGRES_URL
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def medium() -> Iterator[Medium]:
    assert POSTGRES_URL
    name = f"faktur_test_plans_{uuid.uuid4().hex[:8]}"
    try:
        seeded = seed_large.ensure_seeded(
            POSTGRES_URL, MEDIUM_SCALE, name=name, reseed=True, show=False, jobs=2, documents=False
        )
        engine = make_engine(seeded.url)
        large = seeded.large.id
        with session_scope(make_session_factory(engine)) as session:
            key = organisations.create_api_key(session, uuid.UUID(large), "plans", datetime.now(UTC))
            _recent_events(session, seeded)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE events"))
        statements: list[tuple[str, Any]] = []

        @event.listens_for(engine, "before_cursor_execute")
        def capture(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            if not many:
                statements.append((statement, parameters))

        # Only the requests' own statements: no outbox loop beside them.
        settings = Settings(
            database_url=seeded.url,
            create_demo_organisation=False,
            webhook_allow_private_urls=True,
            outbox_in_process=False,
        )
        with TestClient(create_app(settings, engine), raise_server_exceptions=False) as client:
            medium = Medium(
                engine, client, {"Authorization": f"Bearer {key.plaintext}"}, statements, {}, {}, {}
            )
            _prepare(medium)
            yield medium
        engine.dispose()
    finally:
        _drop(name)


RECENT_EVENTS = 3000


def _recent_events(session: Session, seeded: seed_large.Seeded) -> None:
    """A month of webhook events, shared among the organisations as their data is: the seed's are
    older than the 30 days events are kept (the outbox purges them, and so does the seed), and
    the event list reads only these."""
    now = datetime.now(UTC)
    total = sum(o.size.invoices for o in seeded.organisations)
    for organisation in seeded.organisations:
        organisation_id = uuid.UUID(organisation.id)
        customers = customers_repo.list_page(session, organisation_id, 100, None)
        for i in range(RECENT_EVENTS * organisation.size.invoices // total):
            kind = EventType.CUSTOMER_UPDATED if i % 2 else EventType.CUSTOMER_CREATED
            payload = CustomerOut.of(customers[i % len(customers)])
            record_event(session, organisation_id, kind, payload, now=now - timedelta(minutes=i))


def _prepare(medium: Medium) -> None:
    """Ids the list endpoints need, a webhook endpoint, and each table's size and index columns."""
    with medium.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.relname, a.attname FROM pg_index x"
                " JOIN pg_class i ON i.oid = x.indexrelid"
                " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]"
            )
        )
        for r in rows:
            medium.leading_column[r.relname] = r.attname
        rows = conn.execute(text("SELECT relname, relpages FROM pg_class WHERE relkind = 'r'"))
        medium.pages.update({r.relname: r.relpages for r in rows})
    client, headers = medium.client, medium.headers
    first = client.get("/v1/invoices", headers=headers, params={"status": "void", "limit": 1}).json()["data"][
        0
    ]
    medium.ids["invoice"] = first["id"]
    medium.ids["customer"] = first["customer_id"]
    notes = client.get("/v1/credit-notes", headers=headers, params={"limit": 1}).json()["data"]
    medium.ids["credit_note"] = notes[0]["id"]
    contract = client.get("/v1/contracts", headers=headers, params={"limit": 1}).json()["data"][0]
    medium.ids["contract"] = contract["id"]
    # Events within the 30 days the event list shows (the seed's are older and purged).
    for i in range(8):
        created = client.post("/v1/customers", headers=headers, json={"name": f"Plans {i}"})
        assert created.status_code == 201, created.text
    hook = client.post("/v1/webhook-endpoints", headers=headers, json={"url": "http://localhost:9/hook"})
    assert hook.status_code == 201, hook.text
    medium.ids["webhook"] = hook.json()["id"]


def _scans(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _scans(child)


def _explain(medium: Medium, statement: str, parameters: Any, *, seqscan: bool) -> dict[str, Any]:
    raw = medium.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"SET enable_seqscan = {'on' if seqscan else 'off'}")
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
        plan: dict[str, Any] = cursor.fetchone()[0][0]["Plan"]
        raw.rollback()
        return plan
    finally:
        raw.close()


def _condition(node: dict[str, Any]) -> str:
    """The index condition of a scan (of its bitmap index scans for a bitmap heap scan)."""
    if node["Node Type"] == "Bitmap Heap Scan":
        return " ".join(
            n.get("Index Cond", "") for n in _scans(node) if n["Node Type"] == "Bitmap Index Scan"
        )
    return str(node.get("Index Cond", ""))


def _problems(medium: Medium, plan: dict[str, Any], cursor_column: str | None) -> list[str]:
    """What in `plan` reads a tenant table other than through an organisation_id index."""
    found = []
    bitmap_indexes = {n["Index Name"] for n in _scans(plan) if n["Node Type"] == "Bitmap Index Scan"}
    for node in _scans(plan):
        table = node.get("Relation Name")
        index = node.get("Index Name")
        if node["Node Type"] == "Bitmap Index Scan":
            table = None  # checked with its Bitmap Heap Scan
        if table not in TENANT_TABLES:
            continue
        if node["Node Type"] == "Seq Scan":
            found.append(f"sequential scan of {table}")
            continue
        indexes = bitmap_indexes if node["Node Type"] == "Bitmap Heap Scan" else {index}
        for name in indexes:
            if name == EVENTS_BY_SEQ and node.get("Filter", "").find("organisation_id") >= 0:
                continue  # the events in the order written (see the module docstring)
            if medium.leading_column.get(name) != "organisation_id":
                found.append(f"{table} read through {name} (leads with {medium.leading_column.get(name)})")
    conditions = [_condition(n) for n in _scans(plan) if n.get("Relation Name") in TENANT_TABLES]
    if cursor_column and not any(cursor_column in condition for condition in conditions):
        found.append(f"the cursor ({cursor_column}) bounds no index scan: {conditions}")
    return found


def _check(
    medium: Medium, path: str, params: dict[str, Any] | None = None, cursor: str | None = None
) -> None:
    """`cursor`: the column a page after the cursor must have in its index condition."""
    medium.statements.clear()
    response = medium.client.get(path.format(**medium.ids), headers=medium.headers, params=params or {})
    assert response.status_code == 200, (path, response.text)
    captured = [(s, p) for s, p in medium.statements if s.lstrip().upper().startswith("SELECT")]
    assert captured, path
    problems = []
    checked = 0
    for statement, parameters in captured:
        plan = _explain(medium, statement, parameters, seqscan=True)
        tables = {n["Relation Name"] for n in _scans(plan) if n.get("Relation Name") in TENANT_TABLES}
        if not tables:
            continue
        checked += 1
        if any(medium.pages.get(t, 0) < SMALL_TABLE_PAGES for t in tables):
            plan = _explain(medium, statement, parameters, seqscan=False)
        # The list's own query carries the keyset condition; the loads of its rows' children do not.
        keyset = cursor and "ORDER BY" in statement and "LIMIT" in statement
        problems += [
            f"{p}\n    in {' '.join(statement.split())[:300]}"
            for p in _problems(medium, plan, cursor if keyset else None)
        ]
    assert checked, f"{path}: no statement read a tenant table"
    assert not problems, f"{path} {params}:\n" + "\n".join(problems)


def _deep_cursor(medium: Medium, table: str, depth: int) -> str:
    """The cursor a client holds after `depth` rows of the large organisation's newest-first list."""
    with medium.engine.connect() as conn:
        row = conn.execute(
            text(
                f"SELECT created_at, id FROM {table}"
                " WHERE organisation_id = (SELECT organisation_id FROM api_keys LIMIT 1)"
                " ORDER BY created_at DESC, id DESC OFFSET :n LIMIT 1"
            ),
            {"n": depth},
        ).one()
    return Cursor(row.created_at, row.id).encode()


INVOICE_FILTERS = [
    {},
    {"customer_id": "{customer}"},
    {"status": "paid"},
    {"status": "void"},
    {"created_from": "2025-03-01T00:00:00Z", "created_before": "2025-04-01T00:00:00Z"},
]


@pytest.mark.parametrize("filters", INVOICE_FILTERS, ids=lambda f: "-".join(f) or "none")
def test_invoice_list_uses_organisation_indexes(medium: Medium, filters: dict[str, str]) -> None:
    params = {k: v.format(**medium.ids) for k, v in filters.items()}
    _check(medium, "/v1/invoices", params)


def test_invoice_list_deep_cursor_is_an_index_bound(medium: Medium) -> None:
    _check(medium, "/v1/invoices", {"cursor": _deep_cursor(medium, "invoices", 800)}, cursor="created_at")


LISTS = [
    ("/v1/customers", {}),
    ("/v1/customers", {"email": "ap1@customer0.example"}),
    ("/v1/orders", {}),
    ("/v1/invoice-items", {}),
    ("/v1/invoice-items", {"attachable": "true"}),
    ("/v1/invoice-items", {"customer_id": "{customer}"}),
    ("/v1/orders", {"customer_id": "{customer}"}),
    ("/v1/tax-rates", {}),
    ("/v1/credit-notes", {}),
    ("/v1/credit-notes", {"invoice_id": "{invoice}"}),
    ("/v1/credit-notes", {"customer_id": "{customer}"}),
    ("/v1/contracts", {}),
    ("/v1/contracts", {"customer_id": "{customer}"}),
    ("/v1/contracts/{contract}/usage", {}),
    ("/v1/metrics", {}),
    ("/v1/events", {}),
    ("/v1/events", {"type": "customer.updated"}),
    ("/v1/events", {"object_id": "{invoice}"}),
    ("/v1/webhook-endpoints", {}),
    ("/v1/webhook-endpoints/{webhook}/deliveries", {}),
    ("/v1/customers/{customer}/balance-transactions", {}),
    ("/v1/invoices/{invoice}/sends", {}),
    ("/v1/credit-notes/{credit_note}/sends", {}),
]


@pytest.mark.parametrize(("path", "filters"), LISTS, ids=lambda v: v if isinstance(v, str) else "-".join(v))
def test_list_uses_organisation_indexes(medium: Medium, path: str, filters: dict[str, str]) -> None:
    _check(medium, path, {k: v.format(**medium.ids) for k, v in filters.items()})


@pytest.mark.parametrize(("path", "table", "column"), [
    ("/v1/customers", "customers", "created_at"),
    ("/v1/credit-notes", "credit_notes", "created_at"),
    ("/v1/contracts", "contracts", "created_at"),
    ("/v1/events", "events", "seq"),  # events are listed in the order they were written
])  # fmt: skip
def test_cursor_is_an_index_bound(medium: Medium, path: str, table: str, column: str) -> None:
    _check(medium, path, {"cursor": _deep_cursor(medium, table, 5)}, cursor=column)


def test_medium_database_is_what_the_seed_promises(medium: Medium) -> None:
    """The plans above are only meaningful on a database of this shape."""
    with medium.engine.connect() as conn:
        counts = dict(
            conn.execute(
                text(
                    "SELECT 'invoices', count(*) FROM invoices UNION ALL SELECT 'usage_events', count(*)"
                    " FROM usage_events UNION ALL SELECT 'organisations', count(*) FROM organisations"
                )
            ).all()
        )
    assert counts["organisations"] == seed_large.ORGANISATIONS
    assert counts["invoices"] >= 1_000_000 * MEDIUM_SCALE * 0.99
    assert counts["usage_events"] >= 10_000_000 * MEDIUM_SCALE * 0.99
    assert make_url(str(medium.engine.url)).database.startswith("faktur_test_plans_")


def test_the_overdue_scan_reads_open_invoices_only(medium: Medium) -> None:
    """The outbox loop's look for invoices that became overdue runs across organisations in every
    loop: it reads the open invoices by due date (a partial index) and probes each one's
    invoice.overdue event, never every invoice or every event."""
    medium.statements.clear()
    with session_scope(make_session_factory(medium.engine)) as session:
        invoices_repo.overdue_unannounced(session, datetime.now(UTC).date(), 200)
    [(statement, parameters)] = medium.statements
    plan = _explain(medium, statement, parameters, seqscan=True)
    scans = {(n.get("Relation Name"), n["Node Type"], n.get("Index Name")) for n in _scans(plan)}
    assert not [s for s in scans if s[1] == "Seq Scan"], scans
    assert ("invoices", "Index Scan", "ix_invoices_open_due") in scans, scans
