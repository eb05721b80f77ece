"""Billing-run and usage-ingestion benchmark, each beside a baseline measured in the same run.

1. Billing run: N contracts (3 flat fees, 2 usage components: per unit and graduated), each with
   E usage events in January 2024; one run as of 2024-02-01 invoices N periods (create, finalize,
   number in blocks per chunk). Baseline: bare SQL inserting the same rows (invoices, lines, tax
   groups, status events) on the same database, in chunks of the same size, one transaction per
   chunk. Target: the run reaches >= 25 % of the baseline's invoices per second.
2. Ingestion: events per second through POST /v1/events/batch (1,000 events per request) over
   HTTP to a real uvicorn server, C client threads. Target: >= 10,000 events/s on PostgreSQL.

    .venv/bin/python bench/bench_billing.py --backend both                 # full size (N=10,000)
    .venv/bin/python bench/bench_billing.py --backend sqlite --contracts 500   # quick
    .venv/bin/python bench/bench_billing.py --backend sqlite --contracts 300 --ingest-events 2000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, delete, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
from bench_http_invoices import Server
from copied_parties import copy_parties, delete_parties
from db_stats import refresh_statistics
from faktur.billing import runs
from faktur.contracts import service as contracts
from faktur.contracts.schemas import ContractCreate
from faktur.customers import service as customers
from faktur.customers.schemas import CustomerCreate
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.migrations import upgrade_to_head
from faktur.models import (
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    InvoiceTaxGroup,
    Organisation,
    UsageEvent,
)
from faktur.organisations import service as organisations
from faktur.organisations.schemas import OrganisationCreate
from faktur.usage import repository as usage_repo
from faktur.usage import service as usage
from faktur.usage.schemas import MetricCreate

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "faktur_bench_billing"
RUN_TARGET = 0.25
INGEST_TARGET = 10_000
NOW = datetime(2024, 2, 2, 9, 0, tzinfo=UTC)
TAX = {"category": "S", "percent": "19"}


def prepare_database(backend: str, postgres_url: str, workdir: Path) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'billing.sqlite3'}"
    else:
        admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
        admin.dispose()
        url = make_url(normalise_url(postgres_url)).set(database=BENCH_DATABASE).render_as_string(False)
    upgrade_to_head(url)
    return url


def organisation_data(name: str) -> OrganisationCreate:
    return OrganisationCreate(
        legal_name=name,
        country="DE",
        vat_id="DE136695976",
        address_line1="Hauptstraße 5",
        city="Berlin",
        postal_code="10115",
        default_currency="EUR",
    )


def components() -> list[dict[str, Any]]:
    return [
        {"kind": "flat", "name": "Platform", "amount": "99.00", "tax": TAX},
        {"kind": "flat", "name": "Support", "amount": "49.50", "tax": TAX},
        {"kind": "flat", "name": "Seats", "amount": "120.00", "tax": {"category": "S", "percent": "7"}},
        {"kind": "usage", "name": "API calls", "metric_code": "api_calls", "tax": TAX,
         "charge_model": {"model": "per_unit", "unit_price": "0.002"}},
        {"kind": "usage", "name": "Storage", "metric_code": "storage_gb", "tax": TAX,
         "charge_model": {"model": "graduated", "tiers": [{"up_to": "100", "unit_price": "0.10"},
                                                          {"up_to": None, "unit_price": "0.05"}]}},
    ]  # fmt: skip


def seed(url: str, contracts_count: int, events_per_contract: int) -> uuid.UUID:
    """An organisation with the contracts and their January events (events inserted in bulk)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        organisation = organisations.create_organisation(session, organisation_data("Bench Seller GmbH"), NOW)
        for code, aggregation, prop in (("api_calls", "count", None), ("storage_gb", "sum", "gb")):
            usage.create_metric(
                session,
                organisation.id,
                MetricCreate(code=code, name=code, aggregation=aggregation, property=prop),
                NOW,
            )
        organisation_id = organisation.id
    body = components()
    for start in range(0, contracts_count, 500):
        with session_scope(factory) as session:
            organisation = session.get(Organisation, organisation_id)
            assert organisation is not None
            rows: list[dict[str, Any]] = []
            for i in range(start, min(start + 500, contracts_count)):
                customer = customers.create_customer(
                    session, organisation_id, CustomerCreate(name=f"Customer {i}", country="DE"), NOW
                )
                contract = contracts.create_contract(
                    session,
                    organisation,
                    ContractCreate.model_validate(
                        {"customer_id": customer.id, "start_date": "2024-01-01", "components": body}
                    ),
                    NOW,
                )
                metrics = {c.name: c.metric_id for c in contract.components if c.metric_id}
                for e in range(events_per_contract):
                    storage = e % 2 == 1
                    rows.append(
                        {
                            "id": uuid.uuid4(),
                            "organisation_id": organisation_id,
                            "created_at": NOW,
                            "transaction_id": f"{contract.id}-{e}",
                            "contract_id": contract.id,
                            "metric_id": metrics["Storage" if storage else "API calls"],
                            "timestamp": datetime(2024, 1, 1 + e % 31, e % 24, tzinfo=UTC),
                            "properties": {"gb": str(Decimal(e) / 4)} if storage else {},
                            "invoice_id": None,
                        }
                    )
            for offset in range(0, len(rows), 2000):
                usage_repo.insert_events(session, rows[offset : offset + 2000])
    refresh_statistics(engine)
    engine.dispose()
    return organisation_id


def billing_run(
    url: str, organisation_id: uuid.UUID, chunk_size: int, profile: bool = False
) -> tuple[float, int]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        run = runs.start_run(session, organisation_id, date(2024, 2, 1), NOW)
        run_id = run.id
    started = time.perf_counter()
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(runs.run_in_process, factory, organisation_id, run_id, NOW, chunk_size=chunk_size)
    else:
        runs.run_in_process(factory, organisation_id, run_id, NOW, chunk_size=chunk_size)
    elapsed = time.perf_counter() - started
    if profile:
        for order, count in (("cumulative", 40), ("tottime", 25)):
            out = io.StringIO()
            # BENCH_PROFILE_FILTER=faktur keeps faktur's own functions only.
            restriction = os.environ.get("BENCH_PROFILE_FILTER", "")
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(restriction, count)
            print(out.getvalue())
    with session_scope(factory) as session:
        run = runs.get_run(session, organisation_id, run_id)
        created, failures = run.invoices_created, run.failures_count
    engine.dispose()
    assert failures == 0, f"{failures} contracts failed"
    return elapsed, created


def _rows(session: Any, model: Any, organisation_id: uuid.UUID) -> list[dict[str, Any]]:
    table = model.__table__
    result = session.execute(select(table).where(table.c.organisation_id == organisation_id))
    return [dict(row._mapping) for row in result]


# A copy has no hosted link of its own (the link's token is unique); the events faktur writes for
# webhooks (two per issued invoice) are not copied either: the baseline writes the invoice tables.
NO_HOSTED_LINK = {"hosted_token": None, "hosted_token_sha256": None}


def baseline(url: str, organisation_id: uuid.UUID, chunk_size: int) -> tuple[float, int]:
    """Insert copies of the run's invoice rows with bare SQL, chunk by chunk, into a second
    organisation of the same database (new ids, so every unique index still applies)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        copy_org = organisations.create_organisation(session, organisation_data("Baseline GmbH"), NOW).id
        invoices = _rows(session, Invoice, organisation_id)
        children = {
            model: _rows(session, model, organisation_id)
            for model in (InvoiceLine, InvoiceTaxGroup, InvoiceEvent)
        }
    by_invoice: dict[Any, dict[Any, list[dict[str, Any]]]] = {m: {} for m in children}
    for model, rows in children.items():
        for row in rows:
            by_invoice[model].setdefault(row["invoice_id"], []).append(row)
    with engine.begin() as conn:
        copy_parties(conn, organisation_id, copy_org)
    started = time.perf_counter()
    for offset in range(0, len(invoices), chunk_size):
        chunk = invoices[offset : offset + chunk_size]
        new_ids = {row["id"]: uuid.uuid4() for row in chunk}
        with engine.begin() as conn:
            conn.execute(
                insert(Invoice.__table__),
                [{**row, "id": new_ids[row["id"]], "organisation_id": copy_org,
                  "number": f"B-{row['number']}", **NO_HOSTED_LINK} for row in chunk],
            )  # fmt: skip
            for model in children:
                rows = [
                    {
                        **row,
                        "id": uuid.uuid4(),
                        "invoice_id": new_ids[row["invoice_id"]],
                        "organisation_id": copy_org,
                    }
                    for old in chunk
                    for row in by_invoice[model].get(old["id"], [])
                ]
                if rows:
                    conn.execute(insert(model.__table__), rows)
    elapsed = time.perf_counter() - started
    with engine.begin() as conn:
        for model in (InvoiceEvent, InvoiceTaxGroup, InvoiceLine, Invoice):
            conn.execute(delete(model.__table__).where(model.__table__.c.organisation_id == copy_org))
        delete_parties(conn, copy_org)
    engine.dispose()
    return elapsed, len(invoices)


def ingestion_setup(url: str, name: str = "Ingest GmbH") -> tuple[str, uuid.UUID, list[str]]:
    """An organisation with an API key, the api_calls metric and 10 contracts to send events to."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        organisation = organisations.create_organisation(session, organisation_data(name), NOW)
        key = organisations.create_api_key(session, organisation.id, "bench", NOW).plaintext
        usage.create_metric(
            session, organisation.id, MetricCreate(code="api_calls", name="calls", aggregation="count"), NOW
        )
        customer = customers.create_customer(session, organisation.id, CustomerCreate(name="Ingest"), NOW)
        contract_ids = [
            str(
                contracts.create_contract(
                    session,
                    organisation,
                    ContractCreate.model_validate(
                        {
                            "customer_id": customer.id,
                            "start_date": "2024-01-01",
                            "components": components()[3:4],
                        }
                    ),
                    NOW,
                ).id
            )
            for _ in range(10)
        ]
        organisation_id = organisation.id
    engine.dispose()
    return key, organisation_id, contract_ids


def ingestion_batches(contract_ids: list[str], events_total: int) -> list[bytes]:
    """Request bodies of 1,000 events each, encoded up front so the clients only send bytes."""
    batches = []
    for b in range(events_total // 1000):
        events = [
            {
                "transaction_id": f"ingest-{b}-{i}",
                "metric_code": "api_calls",
                "contract_id": contract_ids[i % 10],
                "timestamp": f"2024-03-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                "properties": {"region": "eu", "bytes": i * 17},
            }
            for i in range(1000)
        ]
        batches.append(json.dumps({"events": events}).encode())
    return batches


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (uvicorn's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def ingestion(
    url: str,
    workdir: Path,
    events_total: int,
    clients: int,
    workers: int,
    *,
    source: Path | None = None,
    name: str = "Ingest GmbH",
) -> dict[str, Any]:
    """Events per second through POST /v1/events/batch; `source` serves another checkout's src/
    (PYTHONPATH) to compare against. Client and server CPU are measured to show who saturates."""
    key, organisation_id, contract_ids = ingestion_setup(url, name)
    batches = ingestion_batches(contract_ids, events_total)
    previous = os.environ.get("PYTHONPATH")
    if source is not None:
        os.environ["PYTHONPATH"] = str(source)
    try:
        server = Server(url, workers, workdir / f"ingest-{workers}.log")
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    stored = [0] * clients
    errors: list[str] = []
    try:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as warm:
            warm.post("/v1/events/batch", content=json.dumps({"events": [{"x": 1}]}).encode())

        def worker(slot: int) -> None:
            with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as client:
                for body in batches[slot::clients]:
                    response = client.post("/v1/events/batch", content=body)
                    if response.status_code != 200:
                        errors.append(f"{response.status_code} {response.text[:200]}")
                        continue
                    stored[slot] += response.json()["stored"]

        threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(clients)]
        server_cpu = _cpu_seconds(server.process.pid)
        client_cpu = time.process_time()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_cpu = _cpu_seconds(server.process.pid) - server_cpu
    finally:
        server.stop()
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(
            select(text("count(*)"))
            .select_from(UsageEvent.__table__)
            .where(UsageEvent.__table__.c.organisation_id == organisation_id)
        ).scalar_one()
    engine.dispose()
    assert not errors, errors[:3]
    assert count == sum(stored) == len(batches) * 1000, (count, sum(stored))
    rate = round(count / elapsed)
    return {
        "events": count,
        "seconds": round(elapsed, 3),
        "events_per_s": rate,
        "clients": clients,
        "workers": workers,
        # Share of one core used by the client threads / the server's workers during the run.
        "client_cpu_cores": round(client_cpu / elapsed, 2),
        "server_cpu_cores": round(server_cpu / elapsed, 2),
        "server_cpu_ms_per_1000_events": round(server_cpu / count * 1e6, 1),
    }


def bench(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    url = prepare_database(backend, args.postgres_url, workdir)
    t0 = time.perf_counter()
    organisation_id = seed(url, args.contracts, args.events)
    seeded = time.perf_counter() - t0
    events = args.contracts * args.events
    print(f"[{backend}] seeded {args.contracts} contracts, {events} events in {seeded:.1f} s", flush=True)
    run_s, created = billing_run(url, organisation_id, args.chunk_size, args.profile)
    base_s, copied = baseline(url, organisation_id, args.chunk_size)
    assert created == copied == args.contracts
    result: dict[str, Any] = {
        "backend": backend,
        "contracts": args.contracts,
        "events_per_contract": args.events,
        "chunk_size": args.chunk_size,
        "run_seconds": round(run_s, 2),
        "run_invoices_per_s": round(created / run_s, 1),
        "baseline_seconds": round(base_s, 2),
        "baseline_invoices_per_s": round(copied / base_s, 1),
    }
    result["run_vs_baseline"] = round(result["run_invoices_per_s"] / result["baseline_invoices_per_s"], 3)
    result["run_target_met"] = result["run_vs_baseline"] >= RUN_TARGET
    workers = 1 if backend == "sqlite" else args.workers
    result["ingestion"] = ingestion(url, workdir, args.ingest_events, args.clients, workers)
    if backend == "postgresql":
        result["ingestion"]["target_met"] = result["ingestion"]["events_per_s"] >= INGEST_TARGET
    print(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100, help="usage events per contract")
    parser.add_argument("--chunk-size", type=int, default=runs.DEFAULT_CHUNK_SIZE)
    parser.add_argument("--ingest-events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers on PostgreSQL")
    parser.add_argument("--profile", action="store_true", help="cProfile the billing run (top functions)")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        results = [bench(backend, args, Path(tmp)) for backend in backends]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
