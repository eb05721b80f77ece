"""On PostgreSQL every wait for a lock is bounded, as SQLite's are (faktur.db.make_engine).

A transaction that keeps a row locked (an organisation's number counter, held by a process that
was stopped mid-transaction or by an operator's session) made every request that needed the row
wait for as long as it was held, each keeping a thread and a pooled connection of its server
process: with sixty of them waiting, another organisation's request to the same process got no
answer within 10 s. Now a statement waits at most `FAKTUR_POSTGRES_LOCK_TIMEOUT_MS` (then 503
`database_busy`, nothing stored, a retry goes through), and a transaction whose client has gone
quiet is ended by the server after `FAKTUR_POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS`, which frees
what it held.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text

from conftest import Tenant, new_postgres_database
from factories import create_customer, customer_body, line
from faktur.app import create_app
from faktur.billing import runs
from faktur.cli_database import describe, open_engine
from faktur.config import Settings, get_settings
from faktur.db import (
    DEFAULT_POSTGRES_LOCK_TIMEOUT_MS,
    make_engine,
    make_session_factory,
    normalise_url,
    session_scope,
)
from faktur.migrations import alembic_config, is_up_to_date
from faktur.outages import Outage
from recurring_factories import create_contract, flat
from served import FAKTUR, serve_env, served

pytestmark = pytest.mark.postgres_only

LOCK_TIMEOUT_MS = 500

# A faktur process (argv: the database, the organisation, its idle-in-transaction bound in ms,
# COUNTERS) that takes the organisation's number counters in a transaction, says so with its
# session's pid, and waits: the test stops it there.
HOLD_COUNTERS = """
import sys, time
from sqlalchemy import text
from faktur.db import make_engine
engine = make_engine(sys.argv[1], idle_in_transaction_timeout_ms=int(sys.argv[3]))
connection = engine.connect()
connection.execute(text(sys.argv[4]), {"organisation": sys.argv[2]})
backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
print("holding", backend, flush=True)
time.sleep(600)
"""


# What another session locks: the organisation's number counters, as an issuing transaction does.
COUNTERS = "SELECT next_value FROM number_series WHERE organisation_id = :organisation FOR UPDATE"


@contextmanager
def _held(database_url: str, statement: str, **parameters: object) -> Iterator[Connection]:
    """Another session runs `statement`, taking its locks, and keeps its transaction open until
    the block ends (or until the test rolls the yielded connection back)."""
    holder = create_engine(normalise_url(database_url))
    try:
        with holder.connect() as connection:
            connection.execute(text(statement), parameters)
            yield connection
            connection.rollback()
    finally:
        holder.dispose()


def _client(database_url: str, lock_timeout_ms: int) -> Iterator[TestClient]:
    engine = make_engine(database_url, lock_timeout_ms=lock_timeout_ms)
    settings = Settings(
        database_url=database_url, create_demo_organisation=False, postgres_lock_timeout_ms=lock_timeout_ms
    )
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as client:
        yield client
    engine.dispose()


@pytest.fixture
def bounded_client(backend: str, database_url: str) -> Iterator[TestClient]:
    """A client of a server whose statements wait for a lock at most LOCK_TIMEOUT_MS."""
    yield from _client(database_url, LOCK_TIMEOUT_MS)


@pytest.fixture
def patient_client(backend: str, database_url: str) -> Iterator[TestClient]:
    """A client of a server with the default bound (10 s)."""
    yield from _client(database_url, Settings().postgres_lock_timeout_ms)


def _issue(
    client: TestClient, tenant: Tenant, customer_id: str, reference: str, key: str
) -> tuple[int, dict[str, Any]]:
    response = client.post(
        "/v1/invoices",
        json={
            "customer_id": customer_id,
            "lines": [line()],
            "finalize": True,
            "external_reference": reference,
        },
        headers={**tenant.headers, "Idempotency-Key": key},
    )
    return response.status_code, response.json() | {"retry_after": response.headers.get("Retry-After")}


def _issue_within(
    seconds: float, release: Callable[[], None], *args: Any
) -> tuple[int, dict[str, Any], float]:
    """`_issue` in a thread: its answer and how long it took. If none came within `seconds`, the
    lock is released (so the request ends) and the test fails: a wait without a bound."""
    answers: list[tuple[int, dict[str, Any]]] = []
    started = time.monotonic()
    request = threading.Thread(target=lambda: answers.append(_issue(*args)))
    request.start()
    request.join(seconds)
    waited = time.monotonic() - started
    if request.is_alive():
        release()
        request.join()
        pytest.fail(f"the request still waited for the lock after {seconds} s")
    return *answers[0], waited


def _invoice_references(engine: Engine, tenant: Tenant) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT external_reference FROM invoices WHERE organisation_id = :o ORDER BY number"),
                {"o": tenant.organisation_id},
            ).scalars()
        )


def test_a_request_kept_waiting_for_a_locked_row_is_503_within_the_bound_and_stores_nothing(
    bounded_client: TestClient, tenant: Tenant, engine: Engine, database_url: str
) -> None:
    customer = create_customer(bounded_client, tenant.headers)
    status, first = _issue(bounded_client, tenant, customer["id"], "first", "key-1")
    assert status == 201, first
    with _held(database_url, COUNTERS, organisation=tenant.organisation_id) as lock_holder:
        status, refused, waited = _issue_within(
            LOCK_TIMEOUT_MS / 1000 + 10,
            lock_holder.rollback,
            bounded_client,
            tenant,
            customer["id"],
            "second",
            "key-2",
        )
        assert status == 503, refused
        assert refused["error"]["code"] == "database_busy"
        assert "FAKTUR_POSTGRES_LOCK_TIMEOUT_MS" in refused["error"]["message"]
        assert refused["retry_after"] == "1"
        # It waited for the lock, and no longer than the bound (plus the request's own work).
        assert LOCK_TIMEOUT_MS / 1000 <= waited < LOCK_TIMEOUT_MS / 1000 + 3
        # Nothing of it was stored, and other requests of the organisation are answered meanwhile.
        assert _invoice_references(engine, tenant) == ["first"]
        assert bounded_client.get("/v1/invoices", headers=tenant.headers).status_code == 200
    # The retry (same Idempotency-Key) goes through and takes the next number: no gap.
    status, second = _issue(bounded_client, tenant, customer["id"], "second", "key-2")
    assert status == 201, second
    assert int(second["number"].rsplit("-", 1)[1]) == int(first["number"].rsplit("-", 1)[1]) + 1
    assert _invoice_references(engine, tenant) == ["first", "second"]


def test_a_transaction_whose_process_was_stopped_is_ended_by_the_server_and_frees_its_locks(
    patient_client: TestClient, tenant: Tenant, engine: Engine, database_url: str
) -> None:
    customer = create_customer(patient_client, tenant.headers)
    status, first = _issue(patient_client, tenant, customer["id"], "first", "key-1")
    assert status == 201, first
    idle_bound_ms = 1000
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLD_COUNTERS,
            database_url,
            str(tenant.organisation_id),
            str(idle_bound_ms),
            COUNTERS,
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        said, backend_pid = holder.stdout.readline().split()
        assert said == b"holding"
        os.kill(holder.pid, signal.SIGSTOP)
        status, second, waited = _issue_within(
            30, holder.kill, patient_client, tenant, customer["id"], "second", "key-2"
        )
        # Issued once the server ended the stopped process's transaction: well before the
        # request's own lock bound (10 s) would have refused it.
        assert status == 201, second
        assert waited < 8, waited
        assert int(second["number"].rsplit("-", 1)[1]) == int(first["number"].rsplit("-", 1)[1]) + 1
        # The server ended the stopped process's session; the process itself is still stopped.
        with engine.connect() as conn:
            sessions = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": int(backend_pid)}
            ).scalar_one()
        assert sessions == 0
        assert holder.poll() is None
    finally:
        os.kill(holder.pid, signal.SIGCONT)
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert _invoice_references(engine, tenant) == ["first", "second"]


def test_the_bounds_reach_every_connection_faktur_opens(
    backend: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings (environment) reach the CLI's and workers' engine as well as the server's."""
    monkeypatch.setenv("FAKTUR_DATABASE_URL", database_url)
    monkeypatch.setenv("FAKTUR_POSTGRES_LOCK_TIMEOUT_MS", "750")
    monkeypatch.setenv("FAKTUR_POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS", "45000")
    get_settings.cache_clear()
    try:
        engine = open_engine()
        with engine.connect() as conn:
            assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "750ms"
            assert conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar_one() == "45s"
            assert conn.execute(text("SHOW jit")).scalar_one() == "off"
        engine.dispose()
    finally:
        get_settings.cache_clear()


def test_requests_stuck_behind_one_organisations_lock_leave_the_server_to_the_others(
    backend: str, database_url: str, tenant: Tenant, other_tenant: Tenant, engine: Engine
) -> None:
    """Sixty issuing requests of one organisation wait for its locked number counter; another
    organisation's requests to the same server process (one worker, 40 threads, 40 connections)
    are answered meanwhile, and every waiting request ends with 503 within the bound."""
    settings = {"FAKTUR_POSTGRES_LOCK_TIMEOUT_MS": str(LOCK_TIMEOUT_MS), "FAKTUR_OUTBOX_IN_PROCESS": "false"}
    with served(database_url, settings=settings) as base:
        with httpx.Client(base_url=base, timeout=60) as http:
            customer = http.post("/v1/customers", json=customer_body(), headers=tenant.headers).json()
            body = {"customer_id": customer["id"], "lines": [line()], "finalize": True}
            assert http.post("/v1/invoices", json=body, headers=tenant.headers).status_code == 201
        with _held(database_url, COUNTERS, organisation=tenant.organisation_id):

            def issue(_: int) -> int:
                with httpx.Client(base_url=base, timeout=30) as http:
                    return http.post("/v1/invoices", json=body, headers=tenant.headers).status_code

            with ThreadPoolExecutor(60) as pool:
                stuck = [pool.submit(issue, i) for i in range(60)]
                time.sleep(0.3)  # they are all waiting for the lock now
                started = time.monotonic()
                with httpx.Client(base_url=base, timeout=httpx.Timeout(10, pool=10)) as http:
                    other = http.post("/v1/customers", json=customer_body(), headers=other_tenant.headers)
                answered_after = time.monotonic() - started
                statuses = [future.result(timeout=60) for future in stuck]
    assert other.status_code == 201, other.text
    assert answered_after < 5, answered_after
    assert statuses == [503] * 60
    assert _invoice_references(engine, tenant) == [None]


def test_a_billing_run_that_meets_a_held_counter_waits_it_out_and_bills_every_contract(
    backend: str, client: TestClient, tenant: Tenant, engine: Engine, database_url: str
) -> None:
    """Background work retries a lock wait that ran out, as it retries an outage: the run's chunk
    fails with 55P03 while another transaction holds the counter, and bills once it is free."""
    customer = create_customer(client, tenant.headers)
    status, first = _issue(client, tenant, customer["id"], "first", "key-1")
    assert status == 201, first
    for _ in range(3):
        create_contract(client, tenant.headers, [flat("10.00")])
    bounded = make_engine(database_url, lock_timeout_ms=200)
    factory = make_session_factory(bounded)
    now = datetime.now(UTC)
    with session_scope(factory) as session:
        run_id = runs.start_run(session, tenant.organisation_id, now.date(), now).id
    reports: list[str] = []
    outcome: list[bool | BaseException] = []

    def run() -> None:
        outage = Outage("billing run", reports.append, first_delay=0.1, longest_delay=0.5)
        try:
            outcome.append(runs.run_in_process(factory, tenant.organisation_id, run_id, now, outage=outage))
        except BaseException as exc:
            outcome.append(exc)

    with _held(database_url, COUNTERS, organisation=tenant.organisation_id) as lock_holder:
        executor = threading.Thread(target=run)
        executor.start()
        deadline = time.monotonic() + 20
        while not reports and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (
            reports and "another transaction holds a lock" in reports[0] and "lock timeout" in reports[0]
        ), reports
        assert executor.is_alive()  # still waiting it out
        lock_holder.rollback()
    executor.join(30)
    bounded.dispose()
    assert outcome == [True]
    with engine.connect() as conn:
        numbers = conn.execute(
            text("SELECT number FROM invoices WHERE organisation_id = :o"), {"o": tenant.organisation_id}
        ).scalars()
        sequence = sorted(int(number.rsplit("-", 1)[1]) for number in numbers)
    with session_scope(make_session_factory(engine)) as session:
        billed = runs.get_run(session, tenant.organisation_id, run_id).invoices_created
    # Every contract billed (3 contracts, each period due so far), numbered after the first
    # invoice without a gap.
    assert billed >= 3
    assert sequence == list(range(1, billed + 2))


def test_a_migration_kept_waiting_for_its_table_ends_with_one_line_and_runs_once_free(backend: str) -> None:
    """`faktur migrate` waits for a table's lock at most the default bound (migrations do not read
    the settings), then says so in one line instead of a traceback; nothing was half done."""
    with new_postgres_database("faktur_migrate") as url:
        command.downgrade(alembic_config(url), "-1")
        assert not is_up_to_date(url)
        env = serve_env(url)
        # The table the newest migration changes, held as a long query would hold it.
        with _held(url, "LOCK TABLE webhook_deliveries IN ACCESS SHARE MODE"):
            started = time.monotonic()
            refused = subprocess.run(
                [str(FAKTUR), "migrate"], env=env, capture_output=True, text=True, timeout=120
            )
            waited = time.monotonic() - started
        expected = (
            "faktur cannot start: the database stayed locked by another program; stop it or retry "
            f"({describe(url)})."
        )
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert refused.stderr.strip().splitlines() == [expected]
        assert "Traceback" not in refused.stdout + refused.stderr
        bound = DEFAULT_POSTGRES_LOCK_TIMEOUT_MS / 1000
        assert bound <= waited < bound + 30
        assert not is_up_to_date(url)
        migrated = subprocess.run(
            [str(FAKTUR), "migrate"], env=env, capture_output=True, text=True, timeout=120
        )
        assert migrated.returncode == 0, migrated.stderr
        assert is_up_to_date(url)
