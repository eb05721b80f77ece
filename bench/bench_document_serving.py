"""Serving invoice documents over the API: first request (render + store) and later ones (stored bytes).

In one warm process, through the ASGI app in-process (no network), one request at a time. The baseline,
measured in the same run, is GET /v1/invoices/{id}: the same authentication, transaction and invoice load,
answering JSON. Each first-request figure uses a fresh finalized invoice.

    .venv/bin/python bench/bench_document_serving.py --backend both --repeat 300 --first 60
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from faktur.app import create_app
from faktur.config import Settings
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.migrations import upgrade_to_head
from faktur.organisations import service as organisations
from faktur.organisations.schemas import OrganisationCreate

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
SELLER = {
    "address_line1": "Friedrichstraße 68",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
    "vat_id": "DE136695976",
    "email": "billing@nordlicht.example",
    "iban": "DE89370400440532013000",
}
CUSTOMER = {
    "name": "Kunde AG",
    "address_line1": "Ringstraße 9",
    "city": "München",
    "postal_code": "80331",
    "country": "DE",
    "vat_id": "DE123456788",
}
LINES = [
    {
        "description": f"Item {i}",
        "quantity": "3",
        "unit_price": "49.90",
        "tax": {"category": "S", "percent": p},
    }
    for i, p in enumerate(["19", "19", "7", "19", "7"], 1)
]


def _postgres_url(base: str) -> str:
    name = f"faktur_bench_docs_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(normalise_url(base)).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(base: str, url: str) -> None:
    admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _timed(action: Callable[[], None], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def _report(name: str, samples: list[float], baseline: float) -> None:
    p50 = statistics.median(samples) * 1000
    p99 = sorted(samples)[int(len(samples) * 0.99) - 1] * 1000
    print(
        f"  {name:<34} {len(samples) / sum(samples):8.0f}/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
        f"x{p50 / baseline:5.1f} of baseline p50"
    )


def run(url: str, repeat: int, first: int) -> None:
    upgrade_to_head(url)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        org = organisations.create_organisation(
            session, OrganisationCreate(legal_name="Nordlicht Software GmbH"), datetime.now(UTC)
        )
        key = organisations.create_api_key(session, org.id, "bench", datetime.now(UTC))
    headers = {"Authorization": f"Bearer {key.plaintext}"}
    app = create_app(Settings(database_url=url, create_demo_organisation=False), engine)
    with TestClient(app) as client:
        client.patch("/v1/organisation", json=SELLER, headers=headers).raise_for_status()
        customer = client.post("/v1/customers", json=CUSTOMER, headers=headers).json()["id"]

        def new_invoice() -> str:
            body = {"customer_id": customer, "lines": LINES, "finalize": True}
            response = client.post("/v1/invoices", json=body, headers=headers)
            response.raise_for_status()
            return response.json()["id"]

        def get(path: str) -> None:
            response = client.get(path, headers=headers)
            assert response.status_code == 200, response.text

        invoice = new_invoice()
        for path in ("", "/ubl", "/cii", "/pdf", "/pdf?embed=false"):
            get(f"/v1/invoices/{invoice}{path}")  # warm up: imports, compiled styles, first render
        baseline = _timed(lambda: get(f"/v1/invoices/{invoice}"), repeat)
        base_p50 = statistics.median(baseline) * 1000
        _report("GET invoice JSON (baseline)", baseline, base_p50)
        for label, path in (
            ("GET ubl, stored", "/ubl"),
            ("GET cii, stored", "/cii"),
            ("GET pdf (Factur-X), stored", "/pdf"),
            ("GET pdf plain, stored", "/pdf?embed=false"),
        ):
            _report(label, _timed(lambda p=path: get(f"/v1/invoices/{invoice}{p}"), repeat), base_p50)
        for label, path in (
            ("GET ubl, first (render+store)", "/ubl"),
            ("GET pdf plain, first", "/pdf?embed=false"),
            ("GET pdf Factur-X, first (+CII)", "/pdf"),
        ):
            fresh = [new_invoice() for _ in range(first)]
            queue = iter(fresh)
            _report(label, _timed(lambda p=path, q=queue: get(f"/v1/invoices/{next(q)}{p}"), first), base_p50)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--first", type=int, default=60)
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as directory:
            print("SQLite")
            run(f"sqlite:///{directory}/bench.sqlite3", args.repeat, args.first)
    if args.backend in ("postgresql", "both"):
        url = _postgres_url(args.postgres_url)
        try:
            print("PostgreSQL")
            run(url, args.repeat, args.first)
        finally:
            _drop_postgres(args.postgres_url, url)


if __name__ == "__main__":
    main()
