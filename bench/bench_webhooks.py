"""Webhooks benchmark: events delivered per second to a local receiver, and what writing events
adds to create + finalize.

1. Delivery: N customer.created events are written (one transaction), one endpoint points at a
   threaded http.server receiver on loopback (answers 204), and the delivery drain
   (faktur.webhooks.delivery.WebhookDrain, as the outbox loop runs it) is called until the receiver
   holds every event: events/s end to end (fan-out, lease, sign, POST, log the attempt).
2. Added cost: M invoices created and finalized through the service (5 lines, two VAT rates,
   `finalize: true`, one transaction each, as a request does), once as shipped (invoice.created
   and invoice.finalized written) and once with the event recording replaced by a no-op; the
   difference per invoice is what the outbox costs.

    .venv/bin/python bench/bench_webhooks.py --backend both --events 2000 --invoices 500
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from faktur.context import Actor
from faktur.customers import service as customers
from faktur.customers.schemas import CustomerCreate
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.invoices import commands
from faktur.invoices import events as invoice_events
from faktur.invoices import service as invoices
from faktur.invoices.schemas import InvoiceCreate, InvoiceLineIn, TaxIn
from faktur.migrations import upgrade_to_head
from faktur.models import Organisation
from faktur.organisations import service as organisations
from faktur.organisations.schemas import OrganisationCreate
from faktur.webhooks import service as webhooks
from faktur.webhooks.delivery import DeliveryPolicy, WebhookDrain


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) is smaller than the drain's parallel sends (CLAIM_BATCH):
    # the kernel drops the SYNs beyond it and each of those connections waits a second to retry,
    # which measured the receiver's accept queue instead of the delivery (figures before 2026-12-07).
    daemon_threads = True
    request_queue_size = 128


class _Receiver:
    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                with receiver.lock:
                    receiver.ids.add(self.headers["webhook-id"])
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


def _database(backend: str, postgres_url: str | None, workdir: Path) -> tuple[str, Any]:
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        upgrade_to_head(url)
        return url, None
    assert postgres_url, "--postgres-url (or FAKTUR_TEST_POSTGRES_URL) is needed for PostgreSQL"
    name = f"faktur_bench_webhooks_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(postgres_url)).set(database=name).render_as_string(hide_password=False)
    upgrade_to_head(url)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def _organisation(factory: Any) -> uuid.UUID:
    with session_scope(factory) as session:
        organisation = organisations.create_organisation(
            session,
            OrganisationCreate(
                legal_name="Bench GmbH",
                country="DE",
                vat_id="DE136695976",
                address_line1="Hauptstraße 5",
                city="Berlin",
                postal_code="10115",
                default_currency="EUR",
            ),
            datetime.now(UTC),
        )
        return organisation.id


def _customer_body(n: int) -> CustomerCreate:
    return CustomerCreate(
        name=f"Kunde {n}",
        country="DE",
        city="München",
        postal_code="80331",
        address_line1="Ring 9",
        locale="de",
    )


def bench_delivery(factory: Any, organisation_id: uuid.UUID, count: int) -> dict[str, float]:
    receiver = _Receiver()
    policy = webhooks.EndpointPolicy(allow_private_urls=True, secret_grace=timedelta(hours=1))
    with session_scope(factory) as session:
        webhooks.create_endpoint(
            session,
            organisation_id,
            webhooks.NewEndpoint(receiver.url, ["customer.created"], None, {}),
            policy,
            datetime.now(UTC) - timedelta(seconds=1),
        )
    with session_scope(factory) as session:
        for n in range(count):
            customers.create_customer(session, organisation_id, _customer_body(n), datetime.now(UTC))
    drain = WebhookDrain(
        factory,
        DeliveryPolicy(
            retry_delays=(timedelta(seconds=1),) * 7,
            timeout_seconds=15.0,
            disable_after=timedelta(days=5),
            allow_private_urls=True,
        ),
    )
    started = time.perf_counter()
    while len(receiver.ids) < count:
        if drain().done == 0:
            time.sleep(0.01)
    elapsed = time.perf_counter() - started
    drain.close()
    receiver.server.shutdown()
    return {"events": count, "seconds": round(elapsed, 2), "events_per_second": round(count / elapsed, 1)}


def _invoice_body(customer_id: uuid.UUID) -> InvoiceCreate:
    lines = [
        InvoiceLineIn(
            description=f"Item {n}",
            quantity=Decimal(n + 1),
            unit_price=Decimal("19.90"),
            tax=TaxIn(category="S", percent=Decimal("19" if n % 2 else "7")),
        )
        for n in range(5)
    ]
    return InvoiceCreate(customer_id=customer_id, lines=lines, finalize=True)


def _create_finalize(
    factory: Any, organisation_id: uuid.UUID, customer_id: uuid.UUID, count: int
) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        with session_scope(factory) as session:
            organisation = session.get(Organisation, organisation_id)
            assert organisation is not None
            actor = Actor(organisation, "bench")
            command = commands.new_invoice(_invoice_body(customer_id))
            invoices.create_invoice(session, actor, command, datetime.now(UTC))
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def bench_added_cost(factory: Any, organisation_id: uuid.UUID, count: int) -> dict[str, float]:
    with session_scope(factory) as session:
        customer_id = customers.create_customer(
            session, organisation_id, _customer_body(0), datetime.now(UTC)
        ).id
    _create_finalize(factory, organisation_id, customer_id, 50)  # warm-up
    # Without events: nothing rendered or written for them (the invoice's presentation stays: the
    # HTTP endpoints answer with it, so it is not an events' cost).
    shipped = invoice_events.render_events

    def without_events(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return []

    results: dict[str, list[float]] = {"with": [], "without": []}
    # Interleaved rounds, so drift of the machine (other processes) hits both alike.
    for _ in range(5):
        results["with"] += _create_finalize(factory, organisation_id, customer_id, count // 5)
        invoice_events.render_events = without_events
        try:
            results["without"] += _create_finalize(factory, organisation_id, customer_id, count // 5)
        finally:
            invoice_events.render_events = shipped
    with_ms = statistics.median(results["with"])
    without_ms = statistics.median(results["without"])
    return {
        "invoices": len(results["with"]),
        "median_ms_with_events": round(with_ms, 2),
        "median_ms_without_events": round(without_ms, 2),
        "added_ms": round(with_ms - without_ms, 2),
        "added_percent": round(100 * (with_ms - without_ms) / without_ms, 1),
    }


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as workdir:
        url, drop = _database(backend, args.postgres_url, Path(workdir))
        engine = make_engine(url)
        try:
            factory = make_session_factory(engine)
            delivery = bench_delivery(factory, _organisation(factory), args.events)
            cost = bench_added_cost(factory, _organisation(factory), args.invoices)
        finally:
            engine.dispose()
            if drop is not None:
                drop()
    return {"backend": backend, **delivery, **cost}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--postgres-url", default=os.environ.get("FAKTUR_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus, {platform.platform()}")
    for backend in backends:
        result = run(backend, args)
        print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)


if __name__ == "__main__":
    main()
