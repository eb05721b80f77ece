"""Billing runs split across worker processes on PostgreSQL, through procrastinate's job queue.

Starting a run (POST /v1/billing-runs or `faktur bill` with FAKTUR_BILLING_WORKERS=true, or
`faktur bill --workers`) plans its chunks, stores them (`billing_run_chunks`, committed before
anything is queued) and defers one job per chunk; `faktur worker` processes take the jobs. On
SQLite runs stay in-process (runs.run_in_process).

Recovery, decided here; every worker, every `stalled_after / 2` seconds:

* puts back in the queue the `doing` jobs of workers whose heartbeat is older than
  `stalled_after` seconds (procrastinate's stalled-job API): a worker that died mid-chunk;
* puts back its own `doing` jobs that it has not been running for two checks in a row: jobs whose
  status update failed (a database outage right after the chunk), which procrastinate would
  leave `doing` forever while their worker is alive;
* takes over every running run whose lease expired (its executor died: a server, a `faktur bill`,
  or nobody queued its chunks) and queues its chunks not done yet.

A worker rides out database outages of any length: whatever procrastinate raises when the
database goes away ends its worker loop, which this module starts again once the database
answers, with backoff and one log line per outage. Running a chunk twice is harmless (see
billing.tasks).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from procrastinate import App, PsycopgConnector, exceptions
from procrastinate.worker import Worker
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from faktur.billing import leases, repository, runs, tasks
from faktur.billing.errors import BillingRunNotFound
from faktur.config import Settings
from faktur.db import is_sqlite, normalise_url, session_scope
from faktur.organisations import repository as organisations
from faktur.outages import Outage, is_transient, retrying

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
    lease_seconds: float = leases.DEFAULT_SECONDS,  # float-ok: seconds
) -> list[int]:
    """Give the run to the queue and return its chunks not done yet (all of them, at first; they
    are planned and stored on the run's first start; a run without contracts is completed at
    once). Nothing when the run is finished or an in-process executor holds its lease."""
    lease = leases.Lease(leases.QUEUE, lease_seconds)
    with session_scope(factory) as session:
        # The run row's lock makes two concurrent starts of one run plan it once.
        run = repository.get_run(session, organisation_id, run_id, for_update=True)
        if run is None:
            raise BillingRunNotFound(run_id, in_organisation=False)
        if run.status != "running":
            return []
        if not leases.claim(session, organisation_id, run_id, lease):
            if run.executor != leases.QUEUE:
                return []
            leases.renew(session, organisation_id, run_id, lease)
        return [seq for seq, _ in runs.pending_chunks(session, run, now, chunk_size)]


def _chunk_job(app: App, run_id: uuid.UUID, seq: int) -> Any:
    return app.configure_task(tasks.TASK_NAME, queueing_lock=f"billing_chunk:{run_id}:{seq}")


def _job_arguments(organisation_id: uuid.UUID, run_id: uuid.UUID, seq: int, now: datetime) -> dict[str, Any]:
    return {
        "organisation_id": str(organisation_id),
        "run_id": str(run_id),
        "seq": seq,
        "now": now.isoformat(),
    }


def defer_chunks(
    app: App, organisation_id: uuid.UUID, run_id: uuid.UUID, seqs: list[int], now: datetime
) -> int:
    """Queue one job per chunk; a chunk still waiting in the queue is not queued twice."""
    deferred = 0
    with app.open():
        for seq in seqs:
            try:
                _chunk_job(app, run_id, seq).defer(**_job_arguments(organisation_id, run_id, seq, now))
            except exceptions.AlreadyEnqueued:
                continue
            deferred += 1
    return deferred


async def defer_chunks_async(
    app: App, organisation_id: uuid.UUID, run_id: uuid.UUID, seqs: list[int], now: datetime
) -> int:
    """defer_chunks on an App already open (a worker's)."""
    deferred = 0
    for seq in seqs:
        try:
            await _chunk_job(app, run_id, seq).defer_async(
                **_job_arguments(organisation_id, run_id, seq, now)
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
    lease_seconds: float = leases.DEFAULT_SECONDS,  # float-ok: seconds
) -> int:
    """Plan (or resume) a run and queue its unfinished chunks; the number of jobs queued."""
    seqs = plan_queued_run(factory, organisation_id, run_id, now, chunk_size, lease_seconds)
    if not seqs:
        return 0
    return defer_chunks(make_app(database_url), organisation_id, run_id, seqs, now)


def dispatch(
    factory: sessionmaker[Session],
    database_url: str,
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    now: datetime,
    lease_seconds: float = leases.DEFAULT_SECONDS,  # float-ok: seconds
) -> None:
    """Queue a run started over HTTP (after the request committed the run row and gave it to the
    queue), waiting out a database outage. If this fails, the run's lease expires and a worker
    queues it."""
    outage = Outage(f"queueing billing run {run_id}", logger.warning)
    try:
        retrying(
            lambda: queue_run(
                factory, database_url, organisation_id, run_id, now, lease_seconds=lease_seconds
            ),
            outage,
        )
    except Exception:
        logger.exception(
            "billing run %s could not be queued; a worker queues it once its lease expires", run_id
        )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# The worker ---------------------------------------------------------------------------------


async def _requeue_stalled(app: App, stalled_after: float) -> None:  # float-ok: seconds
    """Put the jobs of workers silent for `stalled_after` seconds back into the queue."""
    stalled = await app.job_manager.get_stalled_jobs(queue=tasks.QUEUE, seconds_since_heartbeat=stalled_after)
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
        except exceptions.ConnectorException:
            # Another worker put it back first, or the chunk is queued again already.
            continue
        logger.warning("job %s of a stalled worker was put back in the queue", job.id)


async def _requeue_orphans(app: App, worker: Worker, in_hand: set[int], suspects: set[int]) -> set[int]:
    """Put back in the queue this worker's `doing` jobs it does not run, seen so twice in a row
    (the first time, a job may be between its fetch and its start, or its status being saved);
    returns the jobs seen so for the first time."""
    if worker.worker_id is None:
        return set()
    doing = await app.job_manager.list_jobs_async(
        queue=tasks.QUEUE, status="doing", worker_id=worker.worker_id
    )
    orphans = {job.id: job for job in doing if job.id is not None and job.id not in in_hand}
    for job_id, job in orphans.items():
        if job_id not in suspects:
            continue
        try:
            await app.job_manager.retry_job(job)
        except exceptions.ConnectorException:
            continue
        logger.warning(
            "job %s, left `doing` after its status update failed, was put back in the queue", job_id
        )
    return set(orphans) - suspects


def _runs_to_take_over(factory: sessionmaker[Session]) -> list[tuple[uuid.UUID, uuid.UUID]]:
    with session_scope(factory) as session:
        return repository.runs_with_expired_lease(session, datetime.now(UTC))


async def _take_over_expired_runs(
    app: App,
    factory: sessionmaker[Session],
    lease_seconds: float,  # float-ok: seconds
) -> None:
    """Queue the pending chunks of every running run whose lease expired (its executor died)."""
    for organisation_id, run_id in await asyncio.to_thread(_runs_to_take_over, factory):
        now = datetime.now(UTC)
        try:
            seqs = await asyncio.to_thread(
                plan_queued_run, factory, organisation_id, run_id, now, runs.DEFAULT_CHUNK_SIZE, lease_seconds
            )
        except Exception as exc:
            if is_transient(exc):
                raise
            logger.exception("taking over billing run %s failed; trying again later", run_id)
            continue
        if seqs:
            queued = await defer_chunks_async(app, organisation_id, run_id, seqs, now)
            logger.warning(
                "billing run %s had no live executor: taken over, %d of its %d pending chunks queued",
                run_id,
                queued,
                len(seqs),
            )


async def _watch(
    app: App,
    worker: Worker,
    factory: sessionmaker[Session],
    in_hand: set[int],
    *,
    stalled_after: float,  # float-ok: seconds
    lease_seconds: float,  # float-ok: seconds
) -> None:
    """The worker's recovery duties (see the module docstring), until cancelled."""
    suspects: set[int] = set()
    while True:
        try:
            await _take_over_expired_runs(app, factory, lease_seconds)
            await _requeue_stalled(app, stalled_after)
            suspects = await _requeue_orphans(app, worker, in_hand, suspects)
        except Exception as exc:
            # An outage also ends the worker loop, which waits for the database; anything else
            # is logged and tried again at the next check.
            if not is_transient(exc):
                logger.exception("recovery check failed; trying again in %g s", stalled_after / 2)
        await asyncio.sleep(min(stalled_after, lease_seconds) / 2)


async def _work(
    app: App,
    factory: sessionmaker[Session],
    outage: Outage,
    register: Callable[[Worker | None], None],
    context: dict[str, Any],
    *,
    concurrency: int,
    heartbeat: float,  # float-ok: seconds
    stalled_after: float,  # float-ok: seconds
    lease_seconds: float,  # float-ok: seconds
) -> None:
    """One procrastinate worker loop, from a connected pool until it stops (asked to, or because
    the database went away)."""
    async with app.open_async():
        await app.job_manager.check_connection_async()
        outage.over()
        worker = Worker(
            app,
            queues=[tasks.QUEUE],
            name="faktur-billing",
            concurrency=concurrency,
            additional_context=context,
            update_heartbeat_interval=heartbeat,
            stalled_worker_timeout=stalled_after,
            # Runs and chunks keep the history; finished jobs would only grow the table.
            delete_jobs="successful",
            # Signals are this module's (run_worker): they also end a wait for the database.
            install_signal_handlers=False,
            # faktur never aborts jobs; polling for it would only log errors during an outage.
            abort_job_polling_interval=3600,
        )
        register(worker)
        watcher = asyncio.create_task(
            _watch(
                app,
                worker,
                factory,
                context["in_hand"],
                stalled_after=stalled_after,
                lease_seconds=lease_seconds,
            )
        )
        try:
            await worker.run()
        finally:
            register(None)
            watcher.cancel()


async def _serve(
    app: App,
    factory: sessionmaker[Session],
    *,
    concurrency: int,
    heartbeat: float,  # float-ok: seconds
    stalled_after: float,  # float-ok: seconds
    lease_seconds: float,  # float-ok: seconds
) -> None:
    stopping = asyncio.Event()
    stop_tasks = threading.Event()  # ends the tasks' waits for the database
    current: list[Worker] = []

    def register(worker: Worker | None) -> None:
        current[:] = [worker] if worker is not None else []
        if worker is not None and stopping.is_set():
            worker.stop()

    def request_stop() -> None:
        stopping.set()
        stop_tasks.set()
        for worker in current:
            worker.stop()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_stop)
    context = {
        "session_factory": factory,
        "worker_name": worker_name(),
        "lease_seconds": lease_seconds,
        "stop": stop_tasks,
        "in_hand": set(),
    }
    outage = Outage(f"faktur worker {worker_name()}", logger.warning)
    while not stopping.is_set():
        try:
            await _work(
                app,
                factory,
                outage,
                register,
                context,
                concurrency=concurrency,
                heartbeat=heartbeat,
                stalled_after=stalled_after,
                lease_seconds=lease_seconds,
            )
        except Exception as exc:
            if stopping.is_set():
                logger.info("stopped while the database could not be reached (%s)", exc)
                break
            if not is_transient(exc):
                logger.exception("the worker loop failed; starting it again")
            await outage.wait_async(exc, stopping)
            continue
        if not stopping.is_set():
            # procrastinate ended the loop by itself (a side task lost its connection): again.
            logger.info("the worker loop ended by itself; starting it again")
            await outage.wait_async(RuntimeError("worker loop ended"), stopping)


def run_worker(
    factory: sessionmaker[Session],
    database_url: str,
    *,
    concurrency: int = 1,
    heartbeat: float = 10.0,  # float-ok: seconds
    stalled_after: float = 30.0,  # float-ok: seconds
    lease_seconds: float = leases.DEFAULT_SECONDS,  # float-ok: seconds
) -> None:
    """Process billing chunks until SIGINT/SIGTERM (which let the running chunks finish), riding
    out database outages of any length."""
    if heartbeat >= stalled_after:
        raise ValueError("the heartbeat interval must be shorter than the stalled-worker timeout")
    app = make_app(database_url, pool_size=concurrency + 4)
    asyncio.run(
        _serve(
            app,
            factory,
            concurrency=concurrency,
            heartbeat=heartbeat,
            stalled_after=stalled_after,
            lease_seconds=lease_seconds,
        )
    )


# `faktur bill --workers` (billing.cli follows the runs) -------------------------------------------


def start_queued_runs(
    factory: sessionmaker[Session],
    database_url: str,
    as_of: date,
    outage: Outage,
    on_queued: Callable[[uuid.UUID, int], None],
    organisation_id: uuid.UUID | None = None,
    chunk_size: int = runs.DEFAULT_CHUNK_SIZE,
    lease_seconds: float = leases.DEFAULT_SECONDS,  # float-ok: seconds
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """`faktur bill --workers`: start (or resume) each organisation's run for `as_of` and queue its
    unfinished chunks, waiting out database outages; `on_queued(run_id, jobs)` hears of each run
    queued. The (organisation, run) pairs started, for the caller to follow."""
    now = datetime.now(UTC)

    def start() -> list[tuple[uuid.UUID, uuid.UUID]]:
        with session_scope(factory) as session:
            return [
                (org_id, runs.start_run(session, org_id, as_of, now).id)
                for org_id in organisations.organisation_ids(session, organisation_id)
            ]

    started = retrying(start, outage)
    for org_id, run_id in started:
        queued = retrying(
            partial(queue_run, factory, database_url, org_id, run_id, now, chunk_size, lease_seconds), outage
        )
        on_queued(run_id, queued)
    return started
