"""A PostgreSQL database of three years of invoicing, filled through faktur's own bulk paths.

At `--scale 1.0` (the sizes of issue 21): 20 organisations of skewed size (the first holds half of
everything, the other 19 share the rest by 1/rank), 200,000 customers, 1,000,000 finalized invoices
issued 2023-11-01 .. 2026-10-31 with 1-20 lines each, payments on most of them (a few voided with
their credit note, a few uncollectible), the stored PDF (Factur-X) of a tenth of them, 50,000
contracts and 10,000,000 usage events. `--scale 0.01` is 1 % of each.

Every row is written by faktur's services and repositories, as the API would write it: customers by
`customers.service`, invoices by the batch path (`invoices.batch.create_invoices`: computed by
faktur.calc, numbered in blocks per batch), payments, voids and uncollectibles by their services,
documents by `documents.service.get_pdf` (rendered and stored as the first GET would), contracts by
`contracts.service` and usage events by the ingestion's bulk INSERT (`usage.repository`).

Contracts (monthly, billed in arrears, a flat fee, API calls per unit, storage graduated): a fifth
of each organisation's start on 2023-11-01, the rest on the first of a later month; a billing run
as of 2023-12-01 therefore bills exactly that fifth (5,000 contracts of the large organisation at
scale 1.0), each with usage in November. Their events fall in their first 90 days. Webhook events
older than 30 days are purged at the end, as the outbox loop does every hour.

The work is cut into units (a batch of 200 invoices, 500 customers or contracts, the events of
~20,000) that `--jobs` processes take in turn, phase after phase. The database is named after the
scale (faktur_scale_0_01) and reused: a finished seed leaves a row in `bench_seed` (the scale, the
organisations, the seconds it took), and a second run with the same scale reports it instead of
seeding again (`--reseed` starts over). The report: seconds, database size, bytes per invoice.

    .venv/bin/python bench/seed_large.py --scale 0.01
    .venv/bin/python bench/seed_large.py --scale 1.0 --jobs 2   # many hours: see docs/scaling.md
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).parent))
from db_stats import refresh_statistics
from faktur import calc
from faktur.context import Actor
from faktur.contracts import service as contracts
from faktur.contracts.schemas import ContractCreate
from faktur.credit_notes import service as credit_notes
from faktur.credit_notes.commands import cancellation
from faktur.customers import service as customers
from faktur.customers.schemas import CustomerCreate
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.documents import service as documents
from faktur.documents.profiles import Profile
from faktur.events import service as events
from faktur.invoices import batch, payments
from faktur.invoices import service as invoices
from faktur.invoices.domain import NewInvoice, NewLine, NewPayment
from faktur.migrations import upgrade_to_head
from faktur.models import Organisation
from faktur.organisations import service as organisations
from faktur.organisations.schemas import OrganisationCreate
from faktur.usage import repository as usage_repo
from faktur.usage import service as usage
from faktur.usage.schemas import MetricCreate

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
FULL = {"customers": 200_000, "invoices": 1_000_000, "contracts": 50_000, "usage_events": 10_000_000}
ORGANISATIONS = 20
LARGE_SHARE = 0.5
# Three years of invoices, ending before today (the events' retention and the overdue scan read
# the clock).
FIRST_DAY = date(2023, 11, 1)
DAYS = (date(2026, 11, 1) - FIRST_DAY).days
# Contracts whose first month a run as of BILLING_AS_OF bills; the others start later.
BILLING_AS_OF = date(2023, 12, 1)
DUE_CONTRACT_SHARE = 0.2
INVOICES_PER_BATCH = 200
DOCUMENT_SHARE = 0.1
EVENT_DAYS = 90
ACTOR = "seed"
TAX_19 = calc.TaxSpec("S", Decimal(19))
TAX_7 = calc.TaxSpec("S", Decimal(7))
SELLER = {
    "country": "DE",
    "vat_id": "DE136695976",
    "address_line1": "Friedrichstraße 68",
    "city": "Berlin",
    "postal_code": "10117",
    "email": "billing@seller.example",
    "iban": "DE89370400440532013000",
    "default_currency": "EUR",
}
MARKER = """
CREATE TABLE IF NOT EXISTS bench_seed (
    scale text PRIMARY KEY,
    finished_at timestamptz NOT NULL,
    seconds double precision NOT NULL,
    summary jsonb NOT NULL
)
"""


@dataclass(frozen=True)
class OrganisationSize:
    """What one organisation holds."""

    index: int
    customers: int
    invoices: int
    contracts: int
    usage_events: int

    @property
    def due_contracts(self) -> int:
        return round(self.contracts * DUE_CONTRACT_SHARE)


@dataclass(frozen=True)
class SeededOrganisation:
    id: str
    size: OrganisationSize


@dataclass(frozen=True)
class Seeded:
    """A seeded database: where it is, its organisations (the first is the large one), how long
    seeding took and the database's size."""

    url: str
    scale: float
    organisations: list[SeededOrganisation]
    seconds: float
    database_bytes: int
    reused: bool

    @property
    def large(self) -> SeededOrganisation:
        return self.organisations[0]

    def report(self) -> dict[str, Any]:
        invoices = sum(o.size.invoices for o in self.organisations)
        return {
            "database": make_url(self.url).database,
            "scale": self.scale,
            "reused": self.reused,
            "seed_seconds": round(self.seconds, 1),
            "database_mb": round(self.database_bytes / 2**20, 1),
            "bytes_per_invoice": round(self.database_bytes / max(invoices, 1)),
            **{kind: sum(getattr(o.size, kind) for o in self.organisations) for kind in FULL},
        }


def sizes(scale: float) -> list[OrganisationSize]:
    """Half of everything in the first organisation, the rest over 19 by 1/rank (Zipf)."""
    harmonic = sum(1 / rank for rank in range(1, ORGANISATIONS))
    shares = [LARGE_SHARE] + [(1 - LARGE_SHARE) / rank / harmonic for rank in range(1, ORGANISATIONS)]
    return [
        OrganisationSize(index, *(max(1, round(FULL[kind] * scale * share)) for kind in FULL))
        for index, share in enumerate(shares)
    ]


def database_name(scale: float) -> str:
    return "faktur_scale_" + f"{scale:g}".replace(".", "_").replace("-", "_")


def database_url(postgres_url: str, name: str) -> str:
    return make_url(normalise_url(postgres_url)).set(database=name).render_as_string(hide_password=False)


def database_bytes(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def _admin(postgres_url: str) -> Engine:
    return create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")


def _exists(postgres_url: str, name: str) -> bool:
    admin = _admin(postgres_url)
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
    admin.dispose()
    return found is not None


def _recreate(postgres_url: str, name: str) -> None:
    admin = _admin(postgres_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _finished(url: str, scale: float) -> Seeded | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT to_regclass('bench_seed')")).scalar_one() is None:
                return None
            row = conn.execute(
                text("SELECT seconds, summary FROM bench_seed WHERE scale = :s"), {"s": f"{scale:g}"}
            ).first()
        if row is None:
            return None
        orgs = [
            SeededOrganisation(o["id"], OrganisationSize(**o["size"])) for o in row.summary["organisations"]
        ]
        return Seeded(url, scale, orgs, row.seconds, database_bytes(engine), reused=True)
    finally:
        engine.dispose()


def ensure_seeded(
    postgres_url: str,
    scale: float,
    *,
    name: str | None = None,
    reseed: bool = False,
    show: bool = True,
    jobs: int = 2,
    documents: bool = True,
) -> Seeded:
    """The seeded database of `scale`: reused when a finished seed of that scale is there,
    otherwise (re)created, migrated and seeded by `jobs` processes. Without `documents` no PDF
    is stored (for tests that do not read them: rendering is most of the seed's time)."""
    name = name or database_name(scale)
    url = database_url(postgres_url, name)
    if not reseed and _exists(postgres_url, name):
        found = _finished(url, scale)
        if found is not None:
            return found
    _recreate(postgres_url, name)
    upgrade_to_head(url)
    started = time.perf_counter()
    engine = make_engine(url)
    planned = sizes(scale)
    with session_scope(make_session_factory(engine)) as session:
        organisation_ids = [_organisation(session, size) for size in planned]
    phases = [
        ("customers", _customer_units),
        ("invoices", _invoice_units),
        ("contracts", _contract_units),
        ("usage_events", _event_units),
    ]
    context = multiprocessing.get_context("spawn")
    with (
        _progress(show, planned) as progress,
        context.Pool(jobs, initializer=_start_worker, initargs=(url, documents)) as pool,
    ):
        for kind, units in phases:
            work = [
                unit for size, org in zip(planned, organisation_ids, strict=True) for unit in units(size, org)
            ]
            statistics = _Statistics(engine)
            for done in pool.imap_unordered(_run, work):
                _advance(progress, kind, done)
                statistics.written(done)
    with session_scope(make_session_factory(engine)) as session:
        # What the outbox loop does every hour: events (webhooks) are kept for 30 days.
        while events.purge_expired(session, datetime.now(UTC), limit=50_000):
            pass
    refresh_statistics(engine)
    seconds = time.perf_counter() - started
    seeded = [SeededOrganisation(str(o), size) for o, size in zip(organisation_ids, planned, strict=True)]
    summary = {"organisations": [{"id": o.id, "size": asdict(o.size)} for o in seeded]}
    with engine.begin() as conn:
        conn.execute(text(MARKER))
        conn.execute(
            text("INSERT INTO bench_seed VALUES (:s, now(), :sec, CAST(:summary AS jsonb))"),
            {"s": f"{scale:g}", "sec": seconds, "summary": json.dumps(summary)},
        )
    result = Seeded(url, scale, seeded, seconds, database_bytes(engine), reused=False)
    engine.dispose()
    return result


class _Statistics:
    """ANALYZE whenever a phase has doubled what it had written at the last one (from its first
    unit on), as autovacuum would analyse the growing tables of a running server.

    This machine's PostgreSQL may run with `autovacuum = off`. Without statistics the planner
    takes the tables for empty, and the foreign-key checks of every new invoice line, tax group
    and status event (`... WHERE organisation_id = $1 AND id = $2 FOR KEY SHARE`), planned once
    per connection, read an index bounded by the organisation only: each check walked all of its
    invoices, and seeding slowed with every batch (10 % of the sizes: 17 invoices/s after 10,000,
    where 0.2 % ran at 130/s). An ANALYZE invalidates those plans; the workers go on meanwhile."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rows = 0
        self.analysed_at = 0

    def written(self, rows: int) -> None:
        self.rows += rows
        if self.rows >= 2 * self.analysed_at:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
            self.analysed_at = self.rows


@contextmanager
def _progress(show: bool, planned: list[OrganisationSize]) -> Iterator[Progress]:
    """One bar per kind of row, over all organisations."""
    progress = Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not show,
    )
    with progress:
        for kind in KINDS:
            progress.add_task(kind.replace("_", " "), total=sum(getattr(s, kind) for s in planned))
        yield progress


KINDS = ("customers", "invoices", "contracts", "usage_events")


def _advance(progress: Progress, kind: str, count: int) -> None:
    progress.advance(progress.task_ids[KINDS.index(kind)], count)


def _moment(day_offset: float) -> datetime:
    return datetime.combine(FIRST_DAY, datetime.min.time(), UTC) + timedelta(days=day_offset, hours=9)


def _organisation(session: Session, size: OrganisationSize) -> uuid.UUID:
    """The organisation (a German seller with what Factur-X needs) and its two metrics."""
    created = _moment(-400)
    data = OrganisationCreate.model_validate({"legal_name": f"Scale Seller {size.index + 1} GmbH", **SELLER})
    organisation = organisations.create_organisation(session, data, created)
    for code, aggregation, prop in (("api_calls", "count", None), ("storage_gb", "sum", "gb")):
        metric = MetricCreate(code=code, name=code, aggregation=aggregation, property=prop)
        usage.create_metric(session, organisation.id, metric, created)
    return organisation.id


# Units of work for the pool: (function name, organisation size, organisation id, first, stop).
Unit = tuple[str, OrganisationSize, uuid.UUID, int, int]


def _ranges(
    kind: str, size: OrganisationSize, organisation_id: uuid.UUID, total: int, step: int
) -> list[Unit]:
    return [(kind, size, organisation_id, first, min(first + step, total)) for first in range(0, total, step)]


def _customer_units(size: OrganisationSize, organisation_id: uuid.UUID) -> list[Unit]:
    return _ranges("customers", size, organisation_id, size.customers, 500)


def _invoice_units(size: OrganisationSize, organisation_id: uuid.UUID) -> list[Unit]:
    return _ranges("invoices", size, organisation_id, size.invoices, INVOICES_PER_BATCH)


def _contract_units(size: OrganisationSize, organisation_id: uuid.UUID) -> list[Unit]:
    return _ranges("contracts", size, organisation_id, size.contracts, 500)


def _event_units(size: OrganisationSize, organisation_id: uuid.UUID) -> list[Unit]:
    # About 20,000 events a unit.
    step = max(1, 20_000 * size.contracts // max(size.usage_events, 1))
    return _ranges("usage_events", size, organisation_id, size.contracts, step)


class _Worker:
    """A pool process's engine, and what it has read of each organisation."""

    factory: sessionmaker[Session]
    documents: bool
    customers: dict[uuid.UUID, list[uuid.UUID]] = {}
    contracts: dict[uuid.UUID, dict[int, tuple[uuid.UUID, date]]] = {}


def _start_worker(url: str, documents: bool) -> None:
    _Worker.factory = make_session_factory(make_engine(url))
    _Worker.documents = documents


def _run(unit: Unit) -> int:
    """Seed one unit; the number of rows of its kind written."""
    kind, size, organisation_id, first, stop = unit
    rng = random.Random(f"{kind}-{size.index}-{first}")
    if kind == "customers":
        _customers(size, organisation_id, first, stop)
        return stop - first
    if kind == "invoices":
        _invoices(size, organisation_id, first, stop, rng)
        return stop - first
    if kind == "contracts":
        _contracts(size, organisation_id, first, stop)
        return stop - first
    return _usage_events(size, organisation_id, first, stop, rng)


def _customers(size: OrganisationSize, organisation_id: uuid.UUID, first: int, stop: int) -> None:
    """Customers signed up over the year before the first invoice."""
    with session_scope(_Worker.factory) as session:
        for i in range(first, stop):
            data = CustomerCreate(
                name=f"Customer {size.index}-{i} GmbH",
                email=f"ap{i}@customer{size.index}.example",
                country="DE",
                vat_id="DE123456788",
                address_line1=f"Ringstraße {1 + i % 200}",
                city="München",
                postal_code="80331",
            )
            customers.create_customer(
                session, organisation_id, data, _moment(-365 + 365 * i / size.customers)
            )


def _customer_ids(session: Session, organisation_id: uuid.UUID) -> list[uuid.UUID]:
    found = _Worker.customers.get(organisation_id)
    if found is None:
        rows = session.execute(
            text("SELECT id FROM customers WHERE organisation_id = :o ORDER BY created_at, id"),
            {"o": organisation_id},
        )
        found = _Worker.customers[organisation_id] = [row.id for row in rows]
    return found


def _lines(rng: random.Random) -> tuple[NewLine, ...]:
    return tuple(
        NewLine(
            description=f"Service {rng.randrange(1, 500)}",
            quantity=Decimal(rng.randrange(1, 50)),
            unit_price=Decimal(rng.randrange(100, 50_000)) / 100,
            tax=TAX_19 if rng.random() < 0.8 else TAX_7,
        )
        for _ in range(rng.randint(1, 20))
    )


def _invoices(
    size: OrganisationSize, organisation_id: uuid.UUID, first: int, stop: int, rng: random.Random
) -> None:
    """One batch of finalized invoices, issued on its day of the three years; then what happened
    to each (paid, mostly; partly paid, voided with a credit note, uncollectible or still open)
    and the stored PDF of a tenth, as a first GET stores it. The batch commits on its own: its
    numbers are taken last and the counter row stays locked until the commit."""
    now = _moment(DAYS * first / size.invoices)
    later = now + timedelta(days=rng.randint(3, 40))
    with session_scope(_Worker.factory) as session:
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        ids = _customer_ids(session, organisation_id)
        requests = [
            batch.InvoiceRequest(
                NewInvoice(
                    customer_id=rng.choice(ids), lines=_lines(rng), finalize=True, payment_terms_days=30
                )
            )
            for _ in range(first, stop)
        ]
        created = batch.create_invoices(session, Actor(organisation, ACTOR), requests, now)
    with session_scope(_Worker.factory) as session:
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        actor = Actor(organisation, ACTOR)
        for invoice in created:
            _settle(session, actor, invoice, later, rng)
        for invoice in created:
            if _Worker.documents and rng.random() < DOCUMENT_SHARE:
                documents.get_pdf(session, organisation_id, invoice.id, Profile.EN16931, None, later)


def _settle(
    session: Session, actor: Actor, invoice: batch.CreatedInvoice, when: datetime, rng: random.Random
) -> None:
    roll = rng.random()
    total = calc.from_minor(invoice.total_minor, invoice.currency)
    if roll < 0.82:
        payments.record_payment(session, actor, invoice.id, NewPayment(total, when.date(), "sepa"), when)
    elif roll < 0.87:
        part = calc.quantize_money(total * Decimal(rng.randint(10, 90)) / 100, invoice.currency)
        if part > 0:
            payments.record_payment(session, actor, invoice.id, NewPayment(part, when.date(), "card"), when)
    elif roll < 0.89:
        # As POST /v1/invoices/{id}/void does: a cancellation credit note for the whole invoice.
        credit_notes.void_invoice(session, actor, invoice.id, cancellation(None), when, "cancelled")
    elif roll < 0.90:
        invoices.mark_uncollectible(session, actor, invoice.id, when, "customer insolvent")


def _components() -> list[dict[str, Any]]:
    tax = {"category": "S", "percent": "19"}
    return [
        {"kind": "flat", "name": "Platform", "amount": "99.00", "tax": tax},
        {"kind": "usage", "name": "API calls", "metric_code": "api_calls", "tax": tax,
         "charge_model": {"model": "per_unit", "unit_price": "0.002"}},
        {"kind": "usage", "name": "Storage", "metric_code": "storage_gb", "tax": tax,
         "charge_model": {"model": "graduated", "tiers": [{"up_to": "100", "unit_price": "0.10"},
                                                          {"up_to": None, "unit_price": "0.05"}]}},
    ]  # fmt: skip


def contract_start(index: int, size: OrganisationSize) -> date:
    """The first `due_contracts` start on FIRST_DAY; the others on the first of a later month."""
    if index < size.due_contracts:
        return FIRST_DAY
    years, month = divmod(FIRST_DAY.month + (index - size.due_contracts) % 35, 12)
    return date(FIRST_DAY.year + years, month + 1, 1)


def _contracts(size: OrganisationSize, organisation_id: uuid.UUID, first: int, stop: int) -> None:
    body = _components()
    with session_scope(_Worker.factory) as session:
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        ids = _customer_ids(session, organisation_id)
        for i in range(first, stop):
            begins = contract_start(i, size)
            data = ContractCreate.model_validate(
                {
                    "customer_id": ids[i % len(ids)],
                    "name": f"{CONTRACT_NAME} {i}",
                    "start_date": begins,
                    "components": body,
                }
            )
            signed = datetime.combine(begins, datetime.min.time(), UTC) - timedelta(days=7)
            contracts.create_contract(session, organisation, data, signed)


CONTRACT_NAME = "Seed contract"


def _contract_ids(session: Session, organisation_id: uuid.UUID) -> dict[int, tuple[uuid.UUID, date]]:
    """The organisation's seeded contracts by their index (in their name)."""
    found = _Worker.contracts.get(organisation_id)
    if found is None:
        rows = session.execute(
            text("SELECT id, name, start_date FROM contracts WHERE organisation_id = :o"),
            {"o": organisation_id},
        )
        found = _Worker.contracts[organisation_id] = {
            int(row.name.rsplit(" ", 1)[1]): (row.id, row.start_date) for row in rows
        }
    return found


def _usage_events(
    size: OrganisationSize, organisation_id: uuid.UUID, first: int, stop: int, rng: random.Random
) -> int:
    """The events of contracts [first, stop): each contract's share, in its first EVENT_DAYS days,
    every third one a storage reading, the rest API calls; stored by the ingestion's bulk INSERT,
    a batch per contract as they arrive. Returns how many."""
    per_contract, extra = divmod(size.usage_events, size.contracts)
    metrics_query = text("SELECT code, id FROM billable_metrics WHERE organisation_id = :o")
    stored = 0
    with session_scope(_Worker.factory) as session:
        metrics = dict(session.execute(metrics_query, {"o": organisation_id}).tuples().all())
        known = _contract_ids(session, organisation_id)
        for index in range(first, stop):
            contract_id, begins = known[index]
            arrived = datetime.combine(begins, datetime.min.time(), UTC)
            count = per_contract + (1 if index < extra else 0)
            events = [
                usage_repo.NewEvent(
                    transaction_id=f"{index}-{k}",
                    contract_id=contract_id,
                    metric_id=metrics["storage_gb" if k % 3 == 2 else "api_calls"],
                    timestamp=arrived + timedelta(seconds=rng.randrange(EVENT_DAYS * 86_400)),
                    properties={"gb": str(Decimal(rng.randrange(1, 4000)) / 4)} if k % 3 == 2 else {},
                )
                for k in range(count)
            ]
            for offset in range(0, len(events), 5000):
                stored += len(
                    usage_repo.insert_new_events(
                        session, organisation_id, arrived, events[offset : offset + 5000]
                    )
                )
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--scale", type=float, default=0.01, help="1.0 = the issue's full sizes")
    parser.add_argument("--database", help="database name (default: faktur_scale_<scale>)")
    parser.add_argument("--jobs", type=int, default=2, help="seeding processes")
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed it again")
    args = parser.parse_args()
    seeded = ensure_seeded(
        args.postgres_url, args.scale, name=args.database, reseed=args.reseed, jobs=args.jobs
    )
    print(json.dumps(seeded.report(), indent=2))


if __name__ == "__main__":
    main()
