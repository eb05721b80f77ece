"""Database outages of a private PostgreSQL cluster (stopped like a crash, started again): two
`faktur worker` processes and the `faktur bill --workers` following their run live through a
60 s outage and finish the run unattended; `faktur bill` running in-process lives through one
too. No traceback, one line per outage saying what waits, every invoice exactly once, counters
counted once. Never the shared server: the cluster is this test's own (initdb/pg_ctl)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from private_postgres import PrivateCluster, binaries
from sqlalchemy import Engine, create_engine, func, select, text

from conftest import Tenant, make_tenant
from factories import create_customer
from faktur.app import create_app
from faktur.config import Settings
from faktur.db import make_engine, make_session_factory, normalise_url
from faktur.migrations import upgrade_to_head
from faktur.models import BillingRun, Invoice
from recurring_factories import create_contract, flat

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(binaries() is None, reason="needs PostgreSQL's initdb and pg_ctl"),
]

AS_OF = "2024-05-01"
PERIODS = 4


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    cluster = PrivateCluster()
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture
def private_url(cluster: PrivateCluster) -> str:
    url = cluster.create_database("faktur")
    upgrade_to_head(url)
    return url


def _seed(url: str, contracts: int) -> Tenant:
    engine = make_engine(url)
    try:
        tenant = make_tenant(make_session_factory(engine))
        # Queued mode: this app runs no recovery thread of its own.
        settings = Settings(database_url=url, create_demo_organisation=False, billing_workers=True)
        with TestClient(create_app(settings, engine)) as client:
            customer = create_customer(client, tenant.headers)
            for _ in range(contracts):
                create_contract(
                    client,
                    tenant.headers,
                    [flat("10.00")],
                    customer_id=customer["id"],
                    start_date="2024-01-01",
                )
    finally:
        engine.dispose()
    return tenant


def _faktur(*args: str) -> list[str]:
    return [sys.executable, "-c", "from faktur.cli import app; app()", *args]


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "FAKTUR_DATABASE_URL": url,
        "FAKTUR_BILLING_RUN_LEASE_SECONDS": "5",
        "COLUMNS": "200",
    }


def _scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:  # float-ok: seconds
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _assert_completed_once(engine: Engine, organisation_id, contracts: int) -> None:
    with engine.connect() as conn:
        run = conn.execute(select(BillingRun).where(BillingRun.organisation_id == organisation_id)).one()
        invoices = conn.execute(
            select(Invoice.contract_id, Invoice.period_start, Invoice.number).where(
                Invoice.organisation_id == organisation_id
            )
        ).all()
    assert run.status == "completed"
    assert (run.chunks_done, run.contracts_done, run.invoices_created) == (
        run.chunks_total,
        contracts,
        contracts * PERIODS,
    )
    assert len(invoices) == contracts * PERIODS
    assert max(Counter((i.contract_id, i.period_start) for i in invoices).values()) == 1
    year = datetime.now(UTC).year
    assert sorted(i.number for i in invoices) == [f"INV-{year}-{n:05d}" for n in range(1, len(invoices) + 1)]


def _waiter(line: str) -> str:
    """Who waits, in a log line `<time> WARNING <logger> <who>: the database ...`."""
    return line.split(" WARNING ", 1)[1].split(": the database")[0]


def _outage(cluster: PrivateCluster, seconds: float) -> None:  # float-ok: seconds
    cluster.stop("immediate")
    time.sleep(seconds)
    cluster.start()


_LEFT_IN_QUEUE = (
    "SELECT job.status, (job.args->>'seq')::int AS seq, job.attempts, chunk.done_at IS NOT NULL AS chunk_done"
    " FROM procrastinate_jobs job LEFT JOIN billing_run_chunks chunk ON chunk.seq = (job.args->>'seq')::int"
)


def _count_invoices(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Invoice)).scalar_one()


def test_workers_and_their_follower_ride_out_a_60_s_outage(cluster, private_url, tmp_path: Path) -> None:
    contracts = 150
    tenant = _seed(private_url, contracts)
    reader = create_engine(normalise_url(private_url), pool_pre_ping=True)
    logs = [tmp_path / f"worker-{n}.log" for n in range(2)]
    workers = [
        subprocess.Popen(
            _faktur("worker", "--heartbeat", "0.5", "--stalled-after", "2"),
            env=_env(private_url),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        _wait_for(lambda: _scalar(reader, "SELECT count(*) FROM procrastinate_workers") == 2)
        bill = subprocess.Popen(
            _faktur("bill", "--as-of", AS_OF, "--chunk-size", "1", "--workers"),
            env=_env(private_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        _wait_for(lambda: _count_invoices(reader) >= 2 * PERIODS)
        reader.dispose()
        cluster.stop("immediate")
        time.sleep(60)
        assert [w.poll() for w in workers] == [None, None], "a worker exited during the outage"
        assert bill.poll() is None, "faktur bill exited during the outage"
        cluster.start()
        output, _ = bill.communicate(timeout=180)
        text_out = " ".join(output.decode().split())
        assert bill.returncode == 0, text_out
        assert "Traceback" not in text_out
        assert text_out.count("the database cannot be reached") == 1, text_out
        assert "the database is back after" in text_out
        assert f"Billing run as of {AS_OF}" in text_out
        assert [w.poll() for w in workers] == [None, None], "a worker exited after the outage"
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    reader = create_engine(normalise_url(private_url))
    try:
        _assert_completed_once(reader, tenant.organisation_id, contracts)
        # The work was not given up: no job failed for good, and no chunk waits for a job. A run
        # taken over after the outage may have had a chunk queued again while a worker was still
        # running it (procrastinate's queueing lock covers waiting jobs only); such a job, when
        # the workers stop before taking it, is left waiting for a chunk that is done, and the
        # worker that takes it finds nothing to do (faktur.billing.tasks).
        with reader.connect() as conn:
            left = conn.execute(text(_LEFT_IN_QUEUE)).all()
        assert [job for job in left if (job.status, job.chunk_done) != ("todo", True)] == [], left
    finally:
        reader.dispose()
    for log in logs:
        lines = log.read_text().splitlines()
        # What waited for the database (the worker loop, or a chunk that was running) said so once
        # when the outage began and once when it ended.
        began = Counter(_waiter(line) for line in lines if "the database cannot be reached" in line)
        ended = Counter(_waiter(line) for line in lines if "the database is back after" in line)
        assert began and set(began.values()) == {1}, lines
        assert ended == began, lines
