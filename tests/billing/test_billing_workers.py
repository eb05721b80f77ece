"""Billing runs split across `faktur worker` processes (procrastinate on PostgreSQL): every invoice
exactly once and numbers gapless with two workers, after a worker is SIGKILLed midway, and when a
chunk's task runs twice; the run completes when its last chunk commits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select, text

from faktur.app import create_app
from faktur.billing import queue, runs, tasks
from faktur.billing.chunk import ChunkResult
from faktur.config import Settings
from faktur.db import normalise_url, session_scope
from faktur.models import BillingRun, BillingRunChunk, Invoice
from recurring_factories import create_contract, flat
from worker_processes import faktur_command, wait_for, worker_processes

AS_OF = "2024-05-01"
PERIODS = 4  # January to April


def _contracts(client, tenant, count: int) -> None:
    for _ in range(count):
        create_contract(client, tenant.headers, [flat("10.00"), flat("2.50", name="Support")])


def _assert_once_and_gapless(session_factory, organisation_id, expected: int) -> None:
    with session_scope(session_factory) as session:
        invoices = list(
            session.execute(select(Invoice).where(Invoice.organisation_id == organisation_id)).scalars()
        )
    keys = Counter((i.contract_id, i.period_start, i.period_end) for i in invoices)
    assert len(invoices) == expected
    assert not keys or max(keys.values()) == 1, "a period was invoiced twice"
    year = datetime.now(UTC).year
    assert sorted(i.number for i in invoices) == [f"INV-{year}-{n:05d}" for n in range(1, expected + 1)]


def _run(session_factory, organisation_id) -> BillingRun:
    with session_scope(session_factory) as session:
        return session.execute(
            select(BillingRun).where(BillingRun.organisation_id == organisation_id)
        ).scalar_one()


def _chunks(session_factory, run_id) -> list[BillingRunChunk]:
    with session_scope(session_factory) as session:
        return list(
            session.execute(
                select(BillingRunChunk).where(BillingRunChunk.run_id == run_id).order_by(BillingRunChunk.seq)
            ).scalars()
        )


def _planned_run(
    session_factory, organisation_id, now: datetime, chunk_size: int
) -> tuple[uuid.UUID, list[int]]:
    with session_scope(session_factory) as session:
        run_id = runs.start_run(session, organisation_id, date.fromisoformat(AS_OF), now).id
    return run_id, queue.plan_queued_run(session_factory, organisation_id, run_id, now, chunk_size)


def test_a_chunk_run_twice_invoices_and_counts_once(client, tenant, session_factory) -> None:
    _contracts(client, tenant, 5)
    now = datetime.now(UTC)
    run_id, seqs = _planned_run(session_factory, tenant.organisation_id, now, chunk_size=2)
    assert seqs == [0, 1, 2]

    def bill(seq: int) -> ChunkResult | None:
        return tasks.bill_queued_chunk(
            session_factory, tenant.organisation_id, run_id, seq, now, worker="test", clock=lambda: now
        )

    first = bill(0)
    assert first is not None and first.invoices == 2 * PERIODS
    # The same task again, as after a worker died between the chunk's commit and the queue's ack.
    assert bill(0) is None
    run = _run(session_factory, tenant.organisation_id)
    assert (run.status, run.chunks_done, run.contracts_done, run.invoices_created) == ("running", 1, 2, 8)
    # Resuming queues exactly the chunks not done yet.
    assert queue.plan_queued_run(session_factory, tenant.organisation_id, run_id, now) == [1, 2]

    assert bill(2) is not None and bill(1) is not None
    run = _run(session_factory, tenant.organisation_id)
    assert (run.status, run.chunks_total, run.chunks_done) == ("completed", 3, 3)
    assert (run.contracts_total, run.contracts_done, run.invoices_created) == (5, 5, 5 * PERIODS)
    assert run.finished_at is not None
    assert all(chunk.done_at is not None for chunk in _chunks(session_factory, run_id))
    _assert_once_and_gapless(session_factory, tenant.organisation_id, 5 * PERIODS)
    assert queue.plan_queued_run(session_factory, tenant.organisation_id, run_id, now) == []


def test_a_run_without_contracts_completes_when_planned(tenant, session_factory) -> None:
    _run_id, seqs = _planned_run(session_factory, tenant.organisation_id, datetime.now(UTC), chunk_size=10)
    assert seqs == []
    assert _run(session_factory, tenant.organisation_id).status == "completed"


def test_sqlite_has_no_workers(tmp_path) -> None:
    sqlite = Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3", billing_workers=True)
    assert not queue.uses_workers(sqlite)
    with pytest.raises(queue.QueueUnavailable):
        queue.make_app(sqlite.database_url)
    env = {**os.environ, "FAKTUR_DATABASE_URL": sqlite.database_url}
    worker = subprocess.run(faktur_command("worker"), env=env, capture_output=True, timeout=60)
    assert worker.returncode == 2 and b"needs PostgreSQL" in worker.stdout


@pytest.mark.postgres_only
def test_concurrent_executions_of_one_chunk_count_once(client, tenant, session_factory) -> None:
    _contracts(client, tenant, 6)
    now = datetime.now(UTC)
    run_id, _seqs = _planned_run(session_factory, tenant.organisation_id, now, chunk_size=6)
    barrier = threading.Barrier(4)
    outcomes: list[ChunkResult | None] = []

    def bill() -> None:
        barrier.wait()
        outcomes.append(
            tasks.bill_queued_chunk(
                session_factory, tenant.organisation_id, run_id, 0, now, worker="thread", clock=lambda: now
            )
        )

    threads = [threading.Thread(target=bill) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 4
    assert sorted(o.invoices if o else -1 for o in outcomes) == [-1, -1, -1, 6 * PERIODS]
    run = _run(session_factory, tenant.organisation_id)
    assert (run.status, run.chunks_done, run.contracts_done, run.invoices_created) == ("completed", 1, 6, 24)
    _assert_once_and_gapless(session_factory, tenant.organisation_id, 6 * PERIODS)


# Worker processes ---------------------------------------------------------------------------


@pytest.fixture
def queue_db(database_url: str) -> Iterator[Engine]:
    """A plain engine on the test database, with procrastinate's tables emptied (tests share them)."""
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_workers CASCADE"))
    yield engine
    engine.dispose()


@pytest.fixture
def start_worker(database_url: str) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    env = {**os.environ, "FAKTUR_DATABASE_URL": database_url}
    with worker_processes(env, "--heartbeat", "0.5", "--stalled-after", "2", stop_timeout=20) as start:
        yield start


def _scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


@pytest.mark.postgres_only
def test_two_worker_processes_share_a_run_and_invoice_exactly_once(
    client, tenant, session_factory, database_url, queue_db, start_worker
) -> None:
    contracts = 60
    _contracts(client, tenant, contracts)
    workers = [start_worker(), start_worker()]
    wait_for(lambda: _scalar(queue_db, "SELECT count(*) FROM procrastinate_workers") == 2)

    env = {**os.environ, "FAKTUR_DATABASE_URL": database_url, "COLUMNS": "160"}
    bill = subprocess.run(
        faktur_command("bill", "--as-of", AS_OF, "--chunk-size", "5", "--workers"),
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert bill.returncode == 0, bill.stdout.decode() + bill.stderr.decode()
    assert b"12 chunks queued" in bill.stdout and b"Billing run as of 2024-05-01" in bill.stdout

    run = _run(session_factory, tenant.organisation_id)
    assert (run.status, run.chunks_total, run.chunks_done) == ("completed", 12, 12)
    assert (run.contracts_total, run.contracts_done, run.invoices_created) == (60, 60, contracts * PERIODS)
    _assert_once_and_gapless(session_factory, tenant.organisation_id, contracts * PERIODS)
    done_by = {chunk.worker for chunk in _chunks(session_factory, run.id)}
    assert {name.rsplit(":", 1)[1] for name in done_by} == {str(w.pid) for w in workers}, "one worker did all"
    # Succeeded jobs are deleted (just after their chunk commits): nothing waiting, running or failed.
    wait_for(lambda: _scalar(queue_db, "SELECT count(*) FROM procrastinate_jobs") == 0, timeout=10)


@pytest.mark.postgres_only
def test_a_worker_killed_midway_leaves_its_chunk_to_another_worker(
    client, tenant, session_factory, database_url, queue_db, start_worker
) -> None:
    contracts = 60
    _contracts(client, tenant, contracts)
    doomed = start_worker()
    wait_for(lambda: _scalar(queue_db, "SELECT count(*) FROM procrastinate_workers") == 1)
    now = datetime.now(UTC)
    with session_scope(session_factory) as session:
        run_id = runs.start_run(session, tenant.organisation_id, date.fromisoformat(AS_OF), now).id
    assert queue.queue_run(session_factory, database_url, tenant.organisation_id, run_id, now, 10) == 6

    # The job a worker has in hand, and whether its chunk has committed yet.
    in_hand = text(
        "SELECT (job.args->>'seq')::int, chunk.done_at IS NOT NULL FROM procrastinate_jobs job"
        " JOIN billing_run_chunks chunk ON chunk.seq = (job.args->>'seq')::int AND chunk.run_id = :run"
        " WHERE job.status = 'doing'"
    )

    def jobs_in_hand() -> list[tuple[int, bool]]:
        with queue_db.connect() as conn:
            return [(seq, committed) for seq, committed in conn.execute(in_hand, {"run": run_id})]

    def midway() -> bool:
        done = _scalar(
            queue_db,
            f"SELECT count(*) FROM billing_run_chunks WHERE done_at IS NOT NULL AND run_id = '{run_id}'",
        )
        return done >= 1 and [committed for _seq, committed in jobs_in_hand()] == [False]

    # Kill while a chunk is in flight (its transaction open, or at worst just committed and not yet
    # acknowledged to the queue: both leave the job `doing` with no live worker).
    wait_for(midway)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    [(in_flight, committed_before_death)] = jobs_in_hand()
    killed_at = _count_invoices(session_factory, tenant.organisation_id)
    assert 0 < killed_at < contracts * PERIODS
    _assert_once_and_gapless(session_factory, tenant.organisation_id, killed_at)

    finisher = start_worker()
    wait_for(lambda: _run(session_factory, tenant.organisation_id).status == "completed")
    run = _run(session_factory, tenant.organisation_id)
    assert (run.chunks_total, run.chunks_done, run.contracts_done) == (6, 6, 60)
    assert run.invoices_created == contracts * PERIODS
    _assert_once_and_gapless(session_factory, tenant.organisation_id, contracts * PERIODS)
    # The killed worker's job was put back in the queue and succeeded (succeeded jobs are deleted):
    # its chunk done by the other worker, or, if it had committed just before the kill, done once.
    wait_for(lambda: _scalar(queue_db, "SELECT count(*) FROM procrastinate_jobs") == 0, timeout=10)
    done_by = _chunks(session_factory, run_id)[in_flight].worker
    assert done_by is not None
    assert done_by.endswith(f":{doomed.pid if committed_before_death else finisher.pid}")
    assert _count_invoices(session_factory, tenant.organisation_id) == contracts * PERIODS


def _count_invoices(session_factory, organisation_id) -> int:
    with session_scope(session_factory) as session:
        return session.execute(
            select(func.count()).select_from(Invoice).where(Invoice.organisation_id == organisation_id)
        ).scalar_one()


@pytest.mark.postgres_only
def test_a_run_started_over_http_is_queued_for_workers(
    tenant, session_factory, database_url, engine, queue_db, start_worker
) -> None:
    settings = Settings(database_url=database_url, create_demo_organisation=False, billing_workers=True)
    with TestClient(create_app(settings, engine)) as client:
        _contracts(client, tenant, 3)
        started = client.post("/v1/billing-runs", json={"as_of": AS_OF}, headers=tenant.headers)
        assert started.status_code == 202, started.text
        # Queued, not executed: no worker runs yet.
        assert _scalar(queue_db, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'") == 1
        assert _count_invoices(session_factory, tenant.organisation_id) == 0
        # Starting it again resumes the same run and does not queue its waiting chunk twice.
        again = client.post("/v1/billing-runs", json={"as_of": AS_OF}, headers=tenant.headers)
        assert again.json()["id"] == started.json()["id"]
        assert _scalar(queue_db, "SELECT count(*) FROM procrastinate_jobs") == 1

        start_worker()
        wait_for(lambda: _run(session_factory, tenant.organisation_id).status == "completed")
        run = client.get(f"/v1/billing-runs/{started.json()['id']}", headers=tenant.headers).json()
    assert (run["status"], run["chunks_done"], run["invoices_created"]) == ("completed", 1, 3 * PERIODS)
    _assert_once_and_gapless(session_factory, tenant.organisation_id, 3 * PERIODS)


@pytest.mark.postgres_only
def test_a_job_left_doing_by_its_live_worker_is_put_back_and_done(
    client, tenant, session_factory, queue_db, start_worker
) -> None:
    _contracts(client, tenant, 4)
    now = datetime.now(UTC)
    run_id, seqs = _planned_run(session_factory, tenant.organisation_id, now, chunk_size=4)
    assert seqs == [0]
    worker = start_worker()
    wait_for(lambda: _scalar(queue_db, "SELECT count(*) FROM procrastinate_workers") == 1)
    worker_id = _scalar(queue_db, "SELECT id FROM procrastinate_workers")
    # What a status update that failed (the database went away right after the chunk) leaves
    # behind: the job `doing`, held by a worker that is alive, keeps its heartbeat, and does not
    # run it. Stalled-job recovery by heartbeat alone never looks at it.
    arguments = {
        "organisation_id": str(tenant.organisation_id),
        "run_id": str(run_id),
        "seq": 0,
        "now": now.isoformat(),
    }
    with queue_db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, worker_id)"
                " VALUES (:queue, :task, CAST(:args AS jsonb), 'doing', :worker)"
            ),
            {
                "queue": tasks.QUEUE,
                "task": tasks.TASK_NAME,
                "args": json.dumps(arguments),
                "worker": worker_id,
            },
        )
    wait_for(lambda: _run(session_factory, tenant.organisation_id).status == "completed", timeout=30)
    assert worker.poll() is None
    assert _scalar(queue_db, "SELECT id FROM procrastinate_workers") == worker_id, "the worker was not alive"
    run = _run(session_factory, tenant.organisation_id)
    assert (run.chunks_done, run.contracts_done, run.invoices_created) == (1, 4, 4 * PERIODS)
    assert _chunks(session_factory, run_id)[0].worker.endswith(f":{worker.pid}")
    _assert_once_and_gapless(session_factory, tenant.organisation_id, 4 * PERIODS)
    wait_for(lambda: _scalar(queue_db, "SELECT count(*) FROM procrastinate_jobs") == 0, timeout=10)
