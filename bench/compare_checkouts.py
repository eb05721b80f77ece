"""Paired comparison of two or more checkouts: CPU per create+finalize request, side by side.

On a shared machine whose speed drifts by tens of percent within minutes, two benchmark runs one
after the other cannot show a change of a few percent. Here the checkouts run at once, each a
uvicorn server (one worker) on its own database, and one client sends the same requests to them
in turn (A, B, B, A, ...), serially: every checkout sees the same machine at the same moments.
For each checkout: the server's CPU time per request, on PostgreSQL the CPU time of the backends
serving its database, and the client's view (median and mean latency).

    .venv/bin/python bench/compare_checkouts.py --backend postgresql /path/to/before /path/to/after

A checkout is a directory with faktur's `src/` (e.g. a `git worktree add --detach DIR REV`); the
servers import faktur from there, with this environment's packages. After the warm-up the
databases are ANALYZEd (see bench_http_invoices.analyse).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_http_invoices import (
    DEFAULT_POSTGRES_URL,
    Server,
    analyse,
    create_tenant,
    invoice_body,
    prepare_database,
)
from faktur.db import normalise_url

_TICKS = os.sysconf("SC_CLK_TCK")
CUSTOMER = {
    "name": "Kunde AG", "email": "ap@kunde.example", "address_line1": "Ringstraße 9",
    "city": "München", "postal_code": "80331", "country": "DE", "vat_id": "DE123456788", "locale": "de",
}  # fmt: skip


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def process_group(pgrp: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        if int(raw[raw.rindex(")") + 2 :].split()[2]) == pgrp:
            pids.append(int(stat.parent.name))
    return pids


@dataclass
class Checkout:
    path: Path
    url: str
    database: str | None
    server: Server
    client: httpx.Client
    customer_id: str
    latencies: list[float] = field(default_factory=list)
    server_pids: list[int] = field(default_factory=list)
    backend_pids: list[int] = field(default_factory=list)
    cpu_before: tuple[float, float] = (0.0, 0.0)


def admin_engine(postgres_url: str) -> Engine:
    return create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")


def start(path: Path, index: int, backend: str, postgres_url: str) -> Checkout:
    workdir = Path(tempfile.mkdtemp(prefix="faktur-compare-"))
    database = None if backend == "sqlite" else f"faktur_compare_{index}"
    url = prepare_database(backend, postgres_url, workdir, database or "")
    _, key = create_tenant(url)
    os.environ["PYTHONPATH"] = str(path / "src")  # the server imports this checkout's faktur
    server = Server(url, 1, workdir / "server.log")
    client = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    customer = client.post("/v1/customers", json=CUSTOMER)
    customer.raise_for_status()
    return Checkout(path, url, database, server, client, customer.json()["id"])


def backends_of(postgres_url: str, database: str) -> list[int]:
    admin = admin_engine(postgres_url)
    with admin.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database})
        found = [row[0] for row in pids]
    admin.dispose()
    return found


def post(checkout: Checkout, i: int) -> float:
    began = time.perf_counter()
    response = checkout.client.post("/v1/invoices", json=invoice_body(checkout.customer_id, i))
    if response.status_code != 201:
        raise RuntimeError(f"{checkout.path}: {response.status_code} {response.text}")
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per checkout")
    parser.add_argument("--warmup", type=int, default=150)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args(argv)

    checkouts: list[Checkout] = []
    try:
        for index, path in enumerate(args.checkouts):
            checkouts.append(start(path.resolve(), index, args.backend, args.postgres_url))
        for i in range(args.warmup):
            for checkout in checkouts:
                post(checkout, i)
        for checkout in checkouts:
            analyse(checkout.url)
            checkout.server_pids = process_group(checkout.server.process.pid)
            if checkout.database:
                checkout.backend_pids = backends_of(args.postgres_url, checkout.database)
            checkout.cpu_before = (cpu_seconds(checkout.server_pids), cpu_seconds(checkout.backend_pids))
        for i in range(args.requests):
            # Alternate the order, so no checkout always goes first after the client's own work.
            for checkout in checkouts if i % 2 == 0 else reversed(checkouts):
                checkout.latencies.append(post(checkout, 100_000 + i))
        print(f"{args.backend}, {args.requests} requests each, serial, one server worker each")
        print("| checkout | server CPU ms/request | database CPU ms/request | median ms | mean ms |")
        print("|---|---:|---:|---:|---:|")
        for checkout in checkouts:
            server_cpu = cpu_seconds(checkout.server_pids) - checkout.cpu_before[0]
            database_cpu = cpu_seconds(checkout.backend_pids) - checkout.cpu_before[1]
            print(
                f"| {checkout.path} | {server_cpu * 1000 / args.requests:.2f} | "
                f"{database_cpu * 1000 / args.requests:.2f} | "
                f"{statistics.median(checkout.latencies) * 1000:.2f} | "
                f"{statistics.mean(checkout.latencies) * 1000:.2f} |"
            )
    finally:
        for checkout in checkouts:
            checkout.client.close()
            checkout.server.stop()
        if args.backend == "postgresql":
            admin = admin_engine(args.postgres_url)
            with admin.connect() as conn:
                for checkout in checkouts:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{checkout.database}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
