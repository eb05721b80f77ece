"""Billing runs split across worker processes on PostgreSQL, through procrastinate's job queue.

Starting a run (POST /v1/billing-runs or `faktur bill` with FAKTUR_BILLING_WORKERS=true, or
`faktur bill --workers`) plans its chunks, stores them (`billing_run_chunks`, committed before
anything is queued) and defers one job per chunk; `faktur worker` processes take the jobs. On
SQLite runs stay in-process (runs.run_in_process).

Recovery, decided here: a worker that dies mid-chunk leaves its job `doing`; every worker looks
for jobs of workers whose heartbeat is older than `stalled_after` seconds and puts them back in
the queue (procrastinate's stalled-job API), so the surviving workers finish the run unattended.
Starting the run again also queues every chunk not yet done (covering a crash between planning
and deferring, or a job that failed for good). Either way the chunk's transaction makes running
it twice harmless (see billing.tasks).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from datetime import UTC, date, datetime

from procrastinate import App, PsycopgConnector, exceptions
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from faktur.billing import repository, runs, tasks
from faktur.billing.command import summarise_run
from faktur.config import Settings
from faktur.db import is_sqlite, normalise_url, session_scope
from faktur.errors import NotFound
from faktur.organisations import repository as organisations

logger = logging.getLogger("faktur.billing.queue")


class QueueUnavailable(Exception):
    """Worker processes need PostgreSQL; SQLite runs billing in-process."""


def uses_workers(settings: Settings) -> bool:
    """Whether runs started through this configuration go to worker processes."""
    return settings.billing_workers and not is_sqlite(settings.database_url)


def make_app(database_url: str, *, pool_size: int = 2) -> App:
    """A procrastinate App on faktur's database (libpq URL for psycopg), with the billing tasks."""
    if is_sqlite(database_url):
        raise QueueUnavailable("Billing workers need PostgreSQL; on SQLite, runs execute in-process.")
    conninfo = make_url(normalise_url(database_url)).set(drivername="postgresql")
    app = App(
        connector=PsycopgConnector(
            conninfo=conninfo.render_as_string(hide_password=False), min_size=1, max_size=pool_size
        )
    )
    tasks.register(app)
    return app


def plan_queued_run(
    factory: sessionmaker[Session],
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    now: datetime,
    chunk_size: int = runs.DEFAULT_CHUNK_SIZE,
) -> list[int]:
    """Store the run's chunks on its first start; the chunks not done yet (all of them, at first).

    A run without contracts is completed at once.
    """
    with session_scope(factory) as session:
        # The run row's lock makes two concurrent starts of one run plan it once.
        run = repository.get_run(session, organisation_id, run_id, for_update=True)
        if run is None:
            raise NotFound(f"No billing run {run_id}.", code="billing_run_not_found")
        if run.status != "running":
            return []
        stored = repository.chunk_states(session, organisation_id, run_id)
        if stored:
            return [seq for seq, done_at in stored if done_at is None]
        chunks = runs.plan_chunks(session, run, now, chunk_size)
        repository.add_chunks(session, organisation_id, run_id, chunks, now)
        if not chunks:
            run.status, run.finished_at = "completed", now
        return list(range(len(chunks)))


def defer_chunks(
    app: App, organisation_id: uuid.UUID, run_id: uuid.UUID, seqs: list[int], now: datetime
) -> int:
    """Queue one job per chunk; a chunk still waiting in the queue is not queued twice."""
    deferred = 0
    with app.open():
        for seq in seqs:
            try:
                app.configure_task(tasks.TASK_NAME, queueing_lock=f"billing_chunk:{run_id}:{seq}").defer(
                    organisation_id=str(organisation_id), run_id=str(run_id), seq=seq, now=now.isoformat()
                )
            except exceptions.AlreadyEnqueued:
                continue
            deferred += 1
    return deferred


def queue_run(
    factory: sessionmaker[Session],
    database_url: str,
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    now: datetime,
    chunk_size: int = runs.DEFAULT_CHUNK_SIZE,
) -> int:
    """Plan (or resume) a run and queue its unfinished chunks; the number of jobs queued."""
    seqs = plan_queued_run(factory, organisation_id, run_id, now, chunk_size)
    if not seqs:
        return 0
    return defer_chunks(make_app(database_url), organisation_id, run_id, seqs, now)


def dispatch(
    factory: sessionmaker[Session],
    database_url: str,
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    now: datetime,
) -> None:
    """Queue a run started over HTTP (after the request committed the run row)."""
    try:
        queue_run(factory, database_url, organisation_id, run_id, now)
    except Exception:
        logger.exception("billing run %s could not be queued; start it again to resume", run_id)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def _retry_stalled_jobs(app: App, stalled_after: float) -> None:  # float-ok: seconds
    """Put the jobs of workers silent for `stalled_after` seconds back into the queue."""
    while True:
        await asyncio.sleep(stalled_after / 2)
        stalled = await app.job_manager.get_stalled_jobs(
            queue=tasks.QUEUE, seconds_since_heartbeat=stalled_after
        )
        for job in stalled:
            try:
                await app.job_manager.retry_job(job)
            except exceptions.ConnectorException:
                # Another worker put it back first, or the chunk is queued again already.
                continue
            logger.warning("job %s of a stalled worker was put back in the queue", job.id)


async def _serve(
    app: App,
    factory: sessionmaker[Session],
    *,
    concurrency: int,
    heartbeat: float,  # float-ok: seconds
    stalled_after: float,  # float-ok: seconds
) -> None:
    async with app.open_async():
        reaper = asyncio.create_task(_retry_stalled_jobs(app, stalled_after))
        try:
            await app.run_worker_async(
                queues=[tasks.QUEUE],
                name="faktur-billing",
                concurrency=concurrency,
                additional_context={"session_factory": factory, "worker_name": worker_name()},
                update_heartbeat_interval=heartbeat,
                stalled_worker_timeout=stalled_after,
                # Runs and chunks keep the history; finished jobs would only grow the table.
                delete_jobs="successful",
            )
        finally:
            reaper.cancel()


def run_worker(
    factory: sessionmaker[Session],
    database_url: str,
    *,
    concurrency: int = 1,
    heartbeat: float = 10.0,  # float-ok: seconds
    stalled_after: float = 30.0,  # float-ok: seconds
) -> None:
    """Process billing chunks until SIGINT/SIGTERM (which let the running chunks finish)."""
    if heartbeat >= stalled_after:
        raise ValueError("the heartbeat interval must be shorter than the stalled-worker timeout")
    app = make_app(database_url, pool_size=concurrency + 4)
    asyncio.run(
        _serve(app, factory, concurrency=concurrency, heartbeat=heartbeat, stalled_after=stalled_after)
    )


def bill_with_workers(
    factory: sessionmaker[Session],
    database_url: str,
    as_of: date,
    console: Console,
    organisation_id: uuid.UUID | None = None,
    chunk_size: int = runs.DEFAULT_CHUNK_SIZE,
    wait: bool = True,
) -> int:
    """`faktur bill --workers`: queue each organisation's run, then follow it to the end.

    The number of failures (0 without `wait`).
    """
    now = datetime.now(UTC)
    with session_scope(factory) as session:
        started = [
            (org_id, runs.start_run(session, org_id, as_of, now).id)
            for org_id in organisations.organisation_ids(session, organisation_id)
        ]
    for org_id, run_id in started:
        queued = queue_run(factory, database_url, org_id, run_id, now, chunk_size)
        console.print(f"run {run_id}: {queued} chunks queued for `faktur worker`")
    if not wait:
        return 0
    return _follow(factory, started, as_of, console)


def _follow(
    factory: sessionmaker[Session], started: list[tuple[uuid.UUID, uuid.UUID]], as_of: date, console: Console
) -> int:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[invoices]} invoices"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bars = {
            run_id: progress.add_task(f"organisation {str(org_id)[:8]}", total=None, invoices=0)
            for org_id, run_id in started
        }
        pending = set(bars)
        while pending:
            with session_scope(factory) as session:
                for org_id, run_id in started:
                    if run_id not in pending:
                        continue
                    run = runs.get_run(session, org_id, run_id)
                    progress.update(
                        bars[run_id],
                        total=run.contracts_total,
                        completed=run.contracts_done,
                        invoices=run.invoices_created,
                    )
                    if run.status == "completed":
                        pending.discard(run_id)
            if pending:
                time.sleep(0.5)
    table = Table(title=f"Billing run as of {as_of}")
    for column in ("organisation", "run", "contracts", "invoices", "failures"):
        table.add_column(column)
    failures_total = 0
    with session_scope(factory) as session:
        for org_id, run_id in started:
            failures_total += summarise_run(session, console, table, org_id, run_id)
    console.print(table)
    return failures_total
