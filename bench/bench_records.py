"""Benchmark: invoices from records, beside a bare-SQL baseline on the same database, same run.

Two workloads, each timed through the service layer in one process (no HTTP), committed:

* gather: 10,000 pending invoice items of 1,000 customers (10 each, two VAT rates) gathered by
  one `invoice_items` call, i.e. one transaction creating and finalizing 1,000 invoices;
* orders: 1,000 orders of 5 lines (two VAT rates, one discounted line) each invoiced in full by
  `invoice_order`, one transaction per order (lock, remaining quantities, create, finalize).

The baseline then inserts the same rows (invoices, invoice lines, tax groups, status events:
copies of the rows just stored, under another organisation) with plain SQLAlchemy Core INSERTs
and the same transaction boundaries: per invoice one INSERT per table (executemany for its
lines and events). A second, bulk baseline inserts each table's rows with one executemany per
transaction (the fastest way to put those rows in). Result: invoices per second, and the ratio
to each baseline (target: at least 25 % of the per-invoice baseline).

    .venv/bin/python bench/bench_records.py --backend both
    .venv/bin/python bench/bench_records.py --backend sqlite --profile gather   # cProfile top 25
"""

from __future__ import annotations

import argparse
import cProfile
import io
import platform
import pstats
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from copied_parties import copy_parties
from db_stats import refresh_statistics
from faktur.context import Actor
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.invoice_items import service as items
from faktur.invoice_items.schemas import InvoiceItemCreate, InvoiceItemsInvoice
from faktur.migrations import upgrade_to_head
from faktur.models import Customer, Invoice, InvoiceEvent, InvoiceLine, InvoiceTaxGroup, Organisation
from faktur.orders import service as orders
from faktur.orders.schemas import OrderCreate, OrderInvoiceCreate
from faktur.organisations import service as organisations
from faktur.organisations.schemas import OrganisationCreate

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "faktur_bench_records"
TARGET = 0.25
TABLES = (Invoice, InvoiceLine, InvoiceTaxGroup, InvoiceEvent)


@dataclass
class Result:
    backend: str
    workload: str
    invoices: int
    rows: int
    seconds: float
    baseline_seconds: float
    bulk_seconds: float

    @property
    def rate(self) -> float:
        return self.invoices / self.seconds

    @property
    def baseline_rate(self) -> float:
        return self.invoices / self.baseline_seconds

    @property
    def bulk_rate(self) -> float:
        return self.invoices / self.bulk_seconds


# --------------------------------------------------------------------------------------------
# Databases and data


@contextmanager
def database(backend: str, postgres_url: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            upgrade_to_head(url)
            yield url
        return
    admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
    url = (
        make_url(normalise_url(postgres_url))
        .set(database=BENCH_DATABASE)
        .render_as_string(hide_password=False)
    )
    try:
        upgrade_to_head(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        admin.dispose()


def new_organisation(factory: Any, name: str) -> uuid.UUID:
    now = datetime.now(UTC)
    with session_scope(factory) as session:
        body = OrganisationCreate(
            legal_name=name,
            country="DE",
            vat_id="DE136695976",
            address_line1="Hauptstraße 5",
            city="Berlin",
            postal_code="10115",
            default_currency="EUR",
        )
        return organisations.create_organisation(session, body, now).id


def actor(session: Session, organisation_id: uuid.UUID) -> Actor:
    organisation = session.get(Organisation, organisation_id)
    assert organisation is not None
    return Actor(organisation, "bench")


def seed_customers(
    session: Session, organisation_id: uuid.UUID, count: int, now: datetime
) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    session.execute(
        insert(Customer),
        [
            {
                "id": customer_id,
                "organisation_id": organisation_id,
                "created_at": now,
                "updated_at": now,
                "name": f"Customer {n}",
                "country": "DE",
                "vat_id": "DE123456788",
                "locale": "de",
                "metadata_": {},
            }
            for n, customer_id in enumerate(ids)
        ],
    )
    return ids


def seed_items(factory: Any, organisation_id: uuid.UUID, customers: int, per_customer: int) -> None:
    now = datetime.now(UTC)
    with session_scope(factory) as session:
        who = actor(session, organisation_id)
        for n, customer_id in enumerate(seed_customers(session, organisation_id, customers, now)):
            for k in range(per_customer):
                body = {
                    "customer_id": str(customer_id),
                    "description": f"Usage {k} of customer {n}",
                    "quantity": str(1 + (n + k) % 5),
                    "unit_price": "19.90" if k % 2 else "4.25",
                    "tax": {"category": "S", "percent": "19" if k % 2 else "7"},
                }
                items.create_item(session, who, InvoiceItemCreate.model_validate(body), now)


def seed_orders(factory: Any, organisation_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    now = datetime.now(UTC)
    ids = []
    with session_scope(factory) as session:
        who = actor(session, organisation_id)
        customers = seed_customers(session, organisation_id, count, now)
        for n, customer_id in enumerate(customers):
            lines = [
                {
                    "name": f"Article {k}",
                    "sku": f"A-{k}",
                    "quantity": str(1 + (n + k) % 4),
                    "unit_price": "12.50" if k % 2 else "3.99",
                    "tax": {"category": "S", "percent": "19" if k % 2 else "7"},
                    **({"discount": {"percent": "10"}} if k == 0 else {}),
                }
                for k in range(5)
            ]
            body = OrderCreate.model_validate({"customer_id": str(customer_id), "lines": lines})
            ids.append(orders.create_order(session, who, body, now).order.id)
    return ids


# --------------------------------------------------------------------------------------------
# Timed work


def profiled(enabled: bool, work: Callable[[], Any]) -> Any:
    if not enabled:
        return work()
    profile = cProfile.Profile()
    result = profile.runcall(work)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(25)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(20)
    print(out.getvalue())
    return result


def run_gather(factory: Any, organisation_id: uuid.UUID, profile: bool) -> tuple[int, float]:
    def work() -> int:
        with session_scope(factory) as session:
            body = InvoiceItemsInvoice(finalize=True)
            return len(
                items.invoice_items(
                    session, actor(session, organisation_id), body, datetime.now(UTC)
                ).invoices
            )

    start = time.perf_counter()
    created = profiled(profile, work)
    return created, time.perf_counter() - start


def run_orders(
    factory: Any, organisation_id: uuid.UUID, order_ids: list[uuid.UUID], profile: bool
) -> tuple[int, float]:
    body = OrderInvoiceCreate(finalize=True)

    def work() -> int:
        with session_scope(factory) as session:
            organisation = session.get(Organisation, organisation_id)
        # One transaction per order, as one POST /v1/orders/{id}/invoices each.
        for order_id in order_ids:
            with session_scope(factory) as session:
                session.add(organisation)
                orders.invoice_order(session, Actor(organisation, "bench"), order_id, body, datetime.now(UTC))
        return len(order_ids)

    start = time.perf_counter()
    created = profiled(profile, work)
    return created, time.perf_counter() - start


# --------------------------------------------------------------------------------------------
# Baselines: the same rows again, bare SQL


def stored_rows(
    engine: Engine, organisation_id: uuid.UUID, source: str
) -> list[dict[type, list[dict[str, Any]]]]:
    """Per invoice of `source`: its rows by table, as column -> value dicts."""
    with Session(engine) as session:
        invoices = session.execute(
            select(Invoice).where(Invoice.organisation_id == organisation_id, Invoice.source == source)
        ).scalars()
        ids = []
        by_invoice: dict[uuid.UUID, dict[type, list[dict[str, Any]]]] = {}
        for invoice in invoices:
            ids.append(invoice.id)
            by_invoice[invoice.id] = {model: [] for model in TABLES}
            by_invoice[invoice.id][Invoice].append(_columns(invoice))
        for model in TABLES[1:]:
            for row in session.execute(
                select(model).where(model.organisation_id == organisation_id)
            ).scalars():
                if row.invoice_id in by_invoice:
                    by_invoice[row.invoice_id][model].append(_columns(row))
    return [by_invoice[i] for i in ids]


def _columns(row: Any) -> dict[str, Any]:
    return {attr.key: getattr(row, attr.key) for attr in inspect(type(row)).column_attrs}


def clone(
    invoices: list[dict[type, list[dict[str, Any]]]], organisation_id: uuid.UUID
) -> list[dict[type, list[dict[str, Any]]]]:
    """The same rows with new ids, under another organisation (numbers stay unique there)."""
    out = []
    for tables in invoices:
        invoice_id = uuid.uuid4()
        copy: dict[type, list[dict[str, Any]]] = {}
        for model, rows in tables.items():
            copy[model] = []
            for row in rows:
                values = {
                    **row,
                    "id": invoice_id if model is Invoice else uuid.uuid4(),
                    "organisation_id": organisation_id,
                }
                if model is not Invoice:
                    values["invoice_id"] = invoice_id
                else:
                    # A copy has no hosted link of its own (the link's token is unique).
                    values.update(hosted_token=None, hosted_token_sha256=None)
                copy[model].append(values)
        out.append(copy)
    return out


def baseline_organisation(factory: Any, engine: Engine, source: uuid.UUID, name: str) -> uuid.UUID:
    """An organisation for a baseline's copies of `source`'s invoices, with its customers and tax rates."""
    organisation_id = new_organisation(factory, name)
    with engine.begin() as conn:
        copy_parties(conn, source, organisation_id)
    return organisation_id


def baseline(
    engine: Engine, invoices: list[dict[type, list[dict[str, Any]]]], per_transaction: int, bulk: bool
) -> float:
    """Insert the rows; `per_transaction` invoices per transaction; bulk: one executemany per table."""
    start = time.perf_counter()
    for first in range(0, len(invoices), per_transaction):
        chunk = invoices[first : first + per_transaction]
        with engine.begin() as conn:
            if bulk:
                for model in TABLES:
                    rows = [row for tables in chunk for row in tables[model]]
                    if rows:
                        conn.execute(insert(model), rows)
            else:
                for tables in chunk:
                    for model in TABLES:
                        rows = tables[model]
                        if rows:
                            conn.execute(insert(model), rows if len(rows) > 1 else rows[0])
    return time.perf_counter() - start


def count_rows(engine: Engine, organisation_id: uuid.UUID) -> int:
    with Session(engine) as session:
        return sum(
            session.execute(
                select(func.count()).select_from(m).where(m.organisation_id == organisation_id)
            ).scalar_one()
            for m in TABLES
        )


# --------------------------------------------------------------------------------------------


def bench_backend(backend: str, args: argparse.Namespace) -> list[Result]:
    results = []
    with database(backend, args.postgres_url) as url:
        engine = make_engine(url, pool_size=4)
        factory = make_session_factory(engine)

        org = new_organisation(factory, "Gather GmbH")
        t0 = time.perf_counter()
        seed_items(factory, org, args.customers, args.items_per_customer)
        seeded = args.customers * args.items_per_customer
        print(f"[{backend}] seeded {seeded} items in {time.perf_counter() - t0:.1f} s")
        refresh_statistics(engine)
        created, seconds = run_gather(factory, org, args.profile == "gather")
        assert created == args.customers, created
        rows = stored_rows(engine, org, "invoice_items")
        rows_org = baseline_organisation(factory, engine, org, "Baseline GmbH")
        base = baseline(engine, clone(rows, rows_org), per_transaction=len(rows), bulk=False)
        assert count_rows(engine, rows_org) == count_rows(engine, org)
        bulk_org = baseline_organisation(factory, engine, org, "Bulk GmbH")
        bulk = baseline(engine, clone(rows, bulk_org), per_transaction=len(rows), bulk=True)
        assert count_rows(engine, bulk_org) == count_rows(engine, org)
        results.append(Result(backend, "gather", created, count_rows(engine, org), seconds, base, bulk))
        print_result(results[-1])

        org = new_organisation(factory, "Orders GmbH")
        t0 = time.perf_counter()
        order_ids = seed_orders(factory, org, args.orders)
        print(f"[{backend}] seeded {args.orders} orders in {time.perf_counter() - t0:.1f} s")
        refresh_statistics(engine)
        created, seconds = run_orders(factory, org, order_ids, args.profile == "orders")
        rows = stored_rows(engine, org, "order")
        rows_org = baseline_organisation(factory, engine, org, "Baseline Orders GmbH")
        base = baseline(engine, clone(rows, rows_org), per_transaction=1, bulk=False)
        assert count_rows(engine, rows_org) == count_rows(engine, org)
        bulk_org = baseline_organisation(factory, engine, org, "Bulk Orders GmbH")
        bulk = baseline(engine, clone(rows, bulk_org), per_transaction=1, bulk=True)
        results.append(Result(backend, "orders", created, count_rows(engine, org), seconds, base, bulk))
        print_result(results[-1])
        engine.dispose()
    return results


def print_result(r: Result) -> None:
    print(
        f"[{r.backend}] {r.workload}: {r.invoices} invoices ({r.rows} rows) in {r.seconds:.2f} s "
        f"= {r.rate:,.0f}/s; "
        f"baseline {r.baseline_rate:,.0f}/s (ratio {r.rate / r.baseline_rate:.2f}); "
        f"bulk baseline {r.bulk_rate:,.0f}/s (ratio {r.rate / r.bulk_rate:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--items-per-customer", type=int, default=10)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument(
        "--profile", choices=["gather", "orders"], help="cProfile the timed part of one workload"
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [r for backend in backends for r in bench_backend(backend, args)]
    print(f"\nPython {platform.python_version()}, {platform.machine()}")
    print(
        "| backend | workload | invoices | rows | faktur invoices/s | bare SQL invoices/s | ratio "
        "| target >= 0.25 | bulk SQL invoices/s | ratio to bulk |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in results:
        ratio = r.rate / r.baseline_rate
        print(
            f"| {r.backend} | {r.workload} | {r.invoices:,} | {r.rows:,} | {r.rate:,.0f} "
            f"| {r.baseline_rate:,.0f} | {ratio:.2f} | {'met' if ratio >= TARGET else '**missed**'} "
            f"| {r.bulk_rate:,.0f} | {r.rate / r.bulk_rate:.2f} |"
        )


if __name__ == "__main__":
    main()
