"""Cost as the data grows: the same requests on a small and a large seeded database, in one run.

Both databases come from bench/seed_large.py (reused when seeded before; `--small` and `--large`
are its scale factors, 1 % and 100 % of issue 21's sizes by default). Each is copied first
(`CREATE DATABASE ... TEMPLATE`) and the copy migrated to head and measured, so a run never
changes a seed (billing and the POSTs write) and every run starts from the same data.

Requests go through the ASGI app in this process (no network), one at a time, as the large
organisation (half of everything). For each endpoint the two databases are asked alternately,
request by request, so a change in the machine's load touches both alike. Reported per endpoint:
p50 and p99 on each, and the ratio large/small of the p99 (target <= 1.25).

Then a billing run of the large organisation as of 2023-12-01 on each: the seed's contracts
that started on 2023-11-01 (a fifth of them: 5,000 at scale 1.0), each with November's usage.
Reported: invoices per second (target: large >= 0.9 x small) and the run's peak RSS, measured in
a process of its own (target: independent of the number of contracts).

    .venv/bin/python bench/bench_scale.py --small 0.01 --large 1.0          # the issue's sizes
    nice -n 19 .venv/bin/python bench/bench_scale.py --small 0.002 --large 0.02 --repeat 50
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).parent))
import seed_large
from db_stats import refresh_statistics
from faktur.app import create_app
from faktur.billing import runs
from faktur.config import Settings
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.migrations import upgrade_to_head
from faktur.organisations import service as organisations
from faktur.paging import Cursor

P99_TARGET = 1.25
BILLING_TARGET = 0.9
PAGE = 20
DEEP_PAGES = 500
BILLING_NOW = datetime.combine(seed_large.BILLING_AS_OF, datetime.min.time(), UTC) + timedelta(hours=30)
NEW_INVOICE_LINES = [
    {
        "description": f"Item {i}",
        "quantity": "3",
        "unit_price": "49.90",
        "tax": {"category": "S", "percent": p},
    }
    for i, p in enumerate(["19", "19", "7", "19", "7"], 1)
]


@dataclass
class Side:
    """One database under test: its copy, the app on it, and what the requests pick from."""

    label: str
    seeded: seed_large.Seeded
    url: str
    engine: Engine
    client: TestClient
    headers: dict[str, str]
    organisation_id: uuid.UUID
    samples: dict[str, Any]

    def get(self, path: str, params: dict[str, Any] | None = None) -> None:
        response = self.client.get(path, headers=self.headers, params=params)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])

    def post(self, path: str, body: Any) -> Any:
        response = self.client.post(path, headers=self.headers, json=body)
        assert response.status_code in (200, 201), (path, response.status_code, response.text[:300])
        return response.json()


def _copy(postgres_url: str, seeded: seed_large.Seeded) -> str:
    """A working copy of the seeded database (file copy: fast, and WAL-free)."""
    source = str(seeded.url).rsplit("/", 1)[1]
    name = f"{source}_run"
    admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY'))
    admin.dispose()
    return seed_large.database_url(postgres_url, name)


def _drop(postgres_url: str, url: str) -> None:
    admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def _rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    """The benchmark's own reads of what to ask for (ids, cursors): never timed."""
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def _samples(engine: Engine, organisation_id: uuid.UUID, rng: random.Random) -> dict[str, Any]:
    org = {"o": organisation_id}
    invoices = [r.id for r in _rows(engine, "SELECT id FROM invoices WHERE organisation_id = :o", **org)]
    count = len(invoices)
    depth = min(DEEP_PAGES * PAGE, count // 2)
    deep = _rows(
        engine,
        "SELECT created_at, id FROM invoices WHERE organisation_id = :o"
        " ORDER BY created_at DESC, id DESC OFFSET :n LIMIT 1",
        n=depth - 1,
        **org,
    )[0]
    customers = [
        r.customer_id
        for r in _rows(
            engine,
            "SELECT customer_id FROM invoices WHERE organisation_id = :o GROUP BY customer_id",
            **org,
        )
    ]
    documents = [
        r.invoice_id
        for r in _rows(
            engine,
            "SELECT invoice_id FROM invoice_documents WHERE organisation_id = :o AND kind = 'facturx'",
            **org,
        )
    ]
    # Contracts the billing run does not bill (they start later), with a day of their usage.
    contracts = _rows(
        engine,
        "SELECT id, start_date FROM contracts WHERE organisation_id = :o AND start_date > :d",
        d=seed_large.BILLING_AS_OF,
        **org,
    )
    return {
        "invoices": rng.sample(invoices, min(len(invoices), 2000)),
        "deep_cursor": Cursor(deep.created_at, deep.id).encode(),
        "deep_rows": depth,
        "customers": rng.sample(customers, min(len(customers), 2000)),
        "documents": documents,
        "contracts": [(r.id, r.start_date) for r in contracts],
        "invoice_count": count,
    }


def _side(label: str, postgres_url: str, scale: float, jobs: int, rng: random.Random) -> Side:
    seeded = seed_large.ensure_seeded(postgres_url, scale, jobs=jobs)
    url = _copy(postgres_url, seeded)
    upgrade_to_head(url)
    engine = make_engine(url)
    refresh_statistics(engine)
    organisation_id = uuid.UUID(seeded.large.id)
    with session_scope(make_session_factory(engine)) as session:
        key = organisations.create_api_key(session, organisation_id, "bench", datetime.now(UTC))
    # No outbox loop: its overdue scan would find years of open invoices and announce each.
    settings = Settings(database_url=url, create_demo_organisation=False, outbox_in_process=False)
    app = create_app(settings, engine)
    client = TestClient(app)
    client.__enter__()
    headers = {"Authorization": f"Bearer {key.plaintext}"}
    return Side(
        label, seeded, url, engine, client, headers, organisation_id, _samples(engine, organisation_id, rng)
    )


Request = Callable[[Side, random.Random], None]


def _list_first(side: Side, rng: random.Random) -> None:
    side.get("/v1/invoices")


def _list_deep(side: Side, rng: random.Random) -> None:
    side.get("/v1/invoices", {"cursor": side.samples["deep_cursor"]})


def _by_customer(side: Side, rng: random.Random) -> None:
    side.get("/v1/invoices", {"customer_id": str(rng.choice(side.samples["customers"]))})


def _by_status(status: str) -> Request:
    def request(side: Side, rng: random.Random) -> None:
        side.get("/v1/invoices", {"status": status})

    return request


def _by_created(side: Side, rng: random.Random) -> None:
    first = datetime.combine(seed_large.FIRST_DAY, datetime.min.time(), UTC)
    start = first + timedelta(days=rng.randrange(0, seed_large.DAYS - 31))
    side.get(
        "/v1/invoices",
        {"created_from": start.isoformat(), "created_before": (start + timedelta(days=30)).isoformat()},
    )


def _get_invoice(side: Side, rng: random.Random) -> None:
    side.get(f"/v1/invoices/{rng.choice(side.samples['invoices'])}")


def _create_finalize(side: Side, rng: random.Random) -> None:
    customer = str(rng.choice(side.samples["customers"]))
    side.post("/v1/invoices", {"customer_id": customer, "lines": NEW_INVOICE_LINES, "finalize": True})


def _stored_pdf(side: Side, rng: random.Random) -> None:
    side.get(f"/v1/invoices/{rng.choice(side.samples['documents'])}/pdf")


def _events_batch(side: Side, rng: random.Random) -> None:
    contract_id, start = rng.choice(side.samples["contracts"])
    first = datetime.combine(start, datetime.min.time(), UTC)
    events = [
        {
            "transaction_id": uuid.uuid4().hex,
            "metric_code": "api_calls",
            "contract_id": str(contract_id),
            "timestamp": (first + timedelta(minutes=rng.randrange(60 * 24 * 28))).isoformat(),
        }
        for _ in range(100)
    ]
    assert side.post("/v1/events/batch", {"events": events})["stored"] == 100


def _usage_summary(side: Side, rng: random.Random) -> None:
    contract_id, start = rng.choice(side.samples["contracts"])
    side.get(f"/v1/contracts/{contract_id}/usage", {"on": (start + timedelta(days=15)).isoformat()})


ENDPOINTS: list[tuple[str, Request]] = [
    ("GET /v1/invoices (first page)", _list_first),
    ("GET /v1/invoices (deep cursor)", _list_deep),
    ("GET /v1/invoices?customer_id", _by_customer),
    ("GET /v1/invoices?status=paid", _by_status("paid")),
    ("GET /v1/invoices?status=void", _by_status("void")),
    ("GET /v1/invoices?created_from&before", _by_created),
    ("GET /v1/invoices/{id}", _get_invoice),
    ("POST /v1/invoices (finalize)", _create_finalize),
    ("GET /v1/invoices/{id}/pdf (stored)", _stored_pdf),
    ("POST /v1/events/batch (100)", _events_batch),
    ("GET /v1/contracts/{id}/usage", _usage_summary),
]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def measure(small: Side, large: Side, repeat: int, rng: random.Random) -> list[dict[str, Any]]:
    results = []
    for name, request in ENDPOINTS:
        timed: dict[str, list[float]] = {small.label: [], large.label: []}
        for side in (small, large):
            for _ in range(3):
                request(side, rng)  # warm up: imports, compiled statements, the first pages read
        for _ in range(repeat):
            for side in (small, large):
                started = time.perf_counter()
                request(side, rng)
                timed[side.label].append(time.perf_counter() - started)
        row: dict[str, Any] = {"endpoint": name}
        for side in (small, large):
            row[f"{side.label}_p50_ms"] = round(statistics.median(timed[side.label]) * 1000, 2)
            row[f"{side.label}_p99_ms"] = round(_percentile(timed[side.label], 0.99), 2)
        row["p99_ratio"] = round(row["large_p99_ms"] / row["small_p99_ms"], 2)
        row["target_met"] = row["p99_ratio"] <= P99_TARGET
        results.append(row)
    return results


def _billing_child(url: str, organisation_id: str, out: Any) -> None:
    """A billing run in a process of its own, so its peak RSS is the run's."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        run_id = runs.start_run(session, uuid.UUID(organisation_id), seed_large.BILLING_AS_OF, BILLING_NOW).id
    started = time.perf_counter()
    runs.run_in_process(factory, uuid.UUID(organisation_id), run_id, BILLING_NOW)
    seconds = time.perf_counter() - started
    with session_scope(factory) as session:
        run = runs.get_run(session, uuid.UUID(organisation_id), run_id)
        created, failures = run.invoices_created, run.failures_count
    engine.dispose()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.put({"seconds": seconds, "invoices": created, "failures": failures, "peak_rss_mb": peak_kb / 1024})


def billing(side: Side) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_billing_child, args=(side.url, str(side.organisation_id), queue))
    process.start()
    result = queue.get()
    process.join()
    assert result["failures"] == 0, result
    assert result["invoices"] == side.seeded.large.size.due_contracts, result
    return {
        "contracts": side.seeded.large.size.due_contracts,
        "seconds": round(result["seconds"], 2),
        "invoices_per_s": round(result["invoices"] / result["seconds"], 1),
        "peak_rss_mb": round(result["peak_rss_mb"], 1),
    }


def report(small: Side, large: Side, rows: list[dict[str, Any]], runs_: dict[str, dict[str, Any]]) -> None:
    console = Console(width=150)
    table = Table(title=f"small = scale {small.seeded.scale:g}, large = scale {large.seeded.scale:g}")
    for column in ("endpoint", "small p50", "small p99", "large p50", "large p99", "p99 ratio", "<= 1.25"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for row in rows:
        table.add_row(
            row["endpoint"],
            *(f"{row[k]:.2f}" for k in ("small_p50_ms", "small_p99_ms", "large_p50_ms", "large_p99_ms")),
            f"{row['p99_ratio']:.2f}",
            "yes" if row["target_met"] else "NO",
        )
    console.print(table)
    ratio = runs_["large"]["invoices_per_s"] / runs_["small"]["invoices_per_s"]
    console.print(
        f"billing run: small {runs_['small']}, large {runs_['large']}; throughput large/small {ratio:.2f} "
        f"(>= {BILLING_TARGET}: {'yes' if ratio >= BILLING_TARGET else 'NO'}); peak RSS large/small "
        f"{runs_['large']['peak_rss_mb'] / runs_['small']['peak_rss_mb']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", default=seed_large.DEFAULT_POSTGRES_URL)
    parser.add_argument("--small", type=float, default=0.01, help="scale of the small database")
    parser.add_argument("--large", type=float, default=1.0, help="scale of the large database")
    parser.add_argument("--repeat", type=int, default=200, help="timed requests per endpoint and database")
    parser.add_argument("--jobs", type=int, default=2, help="seeding processes (if a seed is missing)")
    parser.add_argument("--keep", action="store_true", help="keep the working copies")
    args = parser.parse_args()
    rng = random.Random(21)
    small = _side("small", args.postgres_url, args.small, args.jobs, rng)
    large = _side("large", args.postgres_url, args.large, args.jobs, rng)
    try:
        rows = measure(small, large, args.repeat, rng)
        billed = {side.label: billing(side) for side in (small, large)}
        report(small, large, rows, billed)
        sizes = {
            side.label: {**side.seeded.report(), "deep_cursor_rows": side.samples["deep_rows"]}
            for side in (small, large)
        }
        print(json.dumps({"databases": sizes, "endpoints": rows, "billing": billed}, indent=2, default=str))
    finally:
        for side in (small, large):
            side.client.__exit__(None, None, None)
            side.engine.dispose()
            if not args.keep:
                _drop(args.postgres_url, side.url)


if __name__ == "__main__":
    main()
