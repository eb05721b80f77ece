"""A billing run whose executor died is resumed without a person: a server killed (SIGKILL) while
it executes a run started over HTTP leaves the run `running` with a lease nobody renews; the next
service process resumes it at start (both databases), or any `faktur worker` does (PostgreSQL).
Every invoice exactly once, counters counted once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from faktur.db import normalise_url, session_scope
from faktur.models import BillingRun, Invoice

CONTRACTS = 250  # three chunks of at most 100
LEASE_SECONDS = "2"
pytestmark = pytest.mark.slow


def _faktur(*args: str) -> list[str]:
    return [sys.executable, "-c", "from faktur.cli import app; app()", *args]


def _env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "FAKTUR_DATABASE_URL": database_url,
        "FAKTUR_CREATE_DEMO_ORGANISATION": "false",
        "FAKTUR_BILLING_RUN_LEASE_SECONDS": LEASE_SECONDS,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Iterator[Callable[[], tuple[subprocess.Popen[bytes], str]]]:
    started: list[subprocess.Popen[bytes]] = []

    def serve() -> tuple[subprocess.Popen[bytes], str]:
        port = _free_port()
        log = (tmp_path / f"serve-{port}.log").open("wb")
        process = subprocess.Popen(
            _faktur("serve", "--port", str(port)),
            env=_env(database_url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            assert process.poll() is None, (tmp_path / f"serve-{port}.log").read_text()
            try:
                return httpx.get(f"{base}/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        _wait_for(answers)
        return process, base

    yield serve
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _seed(base: str, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        customer = http.post("/v1/customers", json={"name": "Buyer GmbH", "country": "DE"}).json()
        for _ in range(CONTRACTS):
            created = http.post(
                "/v1/contracts",
                json={
                    "customer_id": customer["id"],
                    "start_date": "2024-01-01",
                    "billing_interval": "month",
                    "components": [
                        {
                            "kind": "flat",
                            "name": "Fee",
                            "amount": "10.00",
                            "tax": {"category": "S", "percent": "19"},
                        }
                    ],
                },
            )
            assert created.status_code == 201, created.text


def _count(reader, organisation_id) -> int:
    with reader.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(Invoice).where(Invoice.organisation_id == organisation_id)
        ).scalar_one()


def _kill_midway(server: subprocess.Popen[bytes], base: str, tenant, database_url: str) -> dict:
    """Start a run over HTTP and SIGKILL the server once its first chunk committed."""
    reader = create_engine(normalise_url(database_url))
    started = httpx.post(
        f"{base}/v1/billing-runs", json={"as_of": "2024-02-01"}, headers=tenant.headers, timeout=30
    )
    assert started.status_code == 202, started.text
    assert started.json()["executor"].startswith("serve@")
    _wait_for(lambda: _count(reader, tenant.organisation_id) >= 100)
    server.send_signal(signal.SIGKILL)
    server.wait()
    killed_at = _count(reader, tenant.organisation_id)
    reader.dispose()
    assert killed_at < CONTRACTS, "the run finished before the server was killed"
    return started.json()


def _assert_completed_once(session_factory, organisation_id, run_id: str) -> BillingRun:
    with session_scope(session_factory) as session:
        run = session.execute(
            select(BillingRun).where(BillingRun.organisation_id == organisation_id)
        ).scalar_one()
        invoices = list(
            session.execute(select(Invoice).where(Invoice.organisation_id == organisation_id)).scalars()
        )
    assert str(run.id) == run_id
    assert (run.status, run.chunks_total, run.chunks_done) == ("completed", 3, 3)
    assert (run.contracts_total, run.contracts_done, run.invoices_created) == (
        CONTRACTS,
        CONTRACTS,
        CONTRACTS,
    )
    assert max(Counter(i.contract_id for i in invoices).values()) == 1
    year = datetime.now(UTC).year
    assert sorted(i.number for i in invoices) == [f"INV-{year}-{n:05d}" for n in range(1, CONTRACTS + 1)]
    return run


def test_a_killed_servers_run_is_resumed_by_the_next_server_at_start(
    tenant, session_factory, database_url, servers
) -> None:
    first, base = servers()
    _seed(base, tenant.headers)
    started = _kill_midway(first, base, tenant, database_url)

    _second, base = servers()

    def completed() -> bool:
        run = httpx.get(f"{base}/v1/billing-runs/{started['id']}", headers=tenant.headers, timeout=10).json()
        return run["status"] == "completed"

    _wait_for(completed)
    run = _assert_completed_once(session_factory, tenant.organisation_id, started["id"])
    assert run.executor is not None and run.executor.startswith("serve@")
    assert run.executor != started["executor"], "the dead server's lease was not taken over"


@pytest.mark.postgres_only
def test_a_killed_servers_run_is_resumed_by_a_worker(
    tenant, session_factory, database_url, servers, tmp_path
) -> None:
    plain = create_engine(normalise_url(database_url))
    with plain.begin() as conn:
        conn.execute(text("TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_workers CASCADE"))
    plain.dispose()
    server, base = servers()
    _seed(base, tenant.headers)
    started = _kill_midway(server, base, tenant, database_url)

    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        _faktur("worker", "--heartbeat", "0.5", "--stalled-after", "2"),
        env=_env(database_url),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(lambda: _status(session_factory, tenant.organisation_id) == "completed")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    run = _assert_completed_once(session_factory, tenant.organisation_id, started["id"])
    assert run.executor == "queue"
    assert "had no live executor: taken over" in (tmp_path / "worker.log").read_text()


def _status(session_factory, organisation_id) -> str:
    with session_scope(session_factory) as session:
        return session.execute(
            select(BillingRun.status).where(BillingRun.organisation_id == organisation_id)
        ).scalar_one()


def test_sigterm_ends_a_servers_run_between_chunks_and_the_next_server_resumes_it(
    tenant, session_factory, database_url, servers
) -> None:
    months = 12  # a year of monthly periods per contract: chunks of 1,200 invoices
    first, base = servers()
    _seed(base, tenant.headers)
    reader = create_engine(normalise_url(database_url))
    started = httpx.post(
        f"{base}/v1/billing-runs", json={"as_of": "2025-01-01"}, headers=tenant.headers, timeout=30
    ).json()
    _wait_for(lambda: _count(reader, tenant.organisation_id) >= 1, timeout=120)
    first.send_signal(signal.SIGTERM)
    first.wait(timeout=60)
    stopped_at = _count(reader, tenant.organisation_id)
    with reader.connect() as conn:
        lease_expires_at = conn.execute(
            select(BillingRun.lease_expires_at).where(BillingRun.organisation_id == tenant.organisation_id)
        ).scalar_one()
    reader.dispose()
    # The server did not wait for the whole run: it stopped between two chunks and gave the lease back.
    assert stopped_at < CONTRACTS * months and stopped_at % (100 * months) == 0, stopped_at
    assert lease_expires_at is not None

    _second, base = servers()

    def completed() -> bool:
        run = httpx.get(f"{base}/v1/billing-runs/{started['id']}", headers=tenant.headers, timeout=10).json()
        return run["status"] == "completed"

    _wait_for(completed, timeout=300)
    with session_scope(session_factory) as session:
        run = session.execute(select(BillingRun)).scalar_one()
        mine = select(Invoice).where(Invoice.organisation_id == tenant.organisation_id)
        invoices = list(session.execute(mine).scalars())
    assert (run.contracts_done, run.invoices_created) == (CONTRACTS, CONTRACTS * months)
    assert len({(i.contract_id, i.period_start) for i in invoices}) == len(invoices) == CONTRACTS * months
    year = datetime.now(UTC).year
    assert sorted(i.number for i in invoices) == [f"INV-{year}-{n:05d}" for n in range(1, len(invoices) + 1)]
