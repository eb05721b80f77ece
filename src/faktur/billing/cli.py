"""`faktur bill`: run billing for every organisation (or one) with a progress bar and a summary.

Each organisation's run is executed here unless another executor holds its lease (another
`faktur bill`, the service, the workers of a queued run): then it is followed to the end, and taken
over if that executor stops renewing its lease. Database outages are waited out (one line when
one starts, one when it ends); every transaction retried after one is idempotent (billing.runs).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from faktur.billing import leases, queue, runs
from faktur.billing.chunk import ChunkResult
from faktur.db import session_scope
from faktur.models import BillingRun, BillingRunFailure
from faktur.organisations import repository as organisations
from faktur.outages import Outage, retrying


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[invoices]} invoices"),
        TimeElapsedColumn(),
        console=console,
    )


def console_outage(console: Console) -> Outage:
    """Outage lines on the console, in yellow."""
    return Outage("faktur bill", lambda line: console.print(f"[yellow]{escape(line)}[/yellow]"))


def bill(
    factory: sessionmaker[Session],
    as_of: date,
    console: Console,
    organisation_id: uuid.UUID | None = None,
    chunk_size: int = runs.DEFAULT_CHUNK_SIZE,
    lease_seconds: float = leases.DEFAULT_SECONDS,  # float-ok: seconds
) -> int:
    """Run (or resume, or follow) the billing run for `as_of` of each organisation; the number of
    failures."""
    now = datetime.now(UTC)
    outage = console_outage(console)

    def start() -> list[tuple[uuid.UUID, uuid.UUID]]:
        with session_scope(factory) as session:
            return [
                (org_id, runs.start_run(session, org_id, as_of, now).id)
                for org_id in organisations.organisation_ids(session, organisation_id)
            ]

    started = retrying(start, outage)
    with _progress(console) as progress:
        for org_id, run_id in started:
            bar = progress.add_task(f"organisation {str(org_id)[:8]}", total=None, invoices=0)
            _drive(factory, org_id, run_id, now, chunk_size, lease_seconds, console, progress, bar, outage)
    return summarise(factory, started, as_of, console, outage)


def _drive(
    factory: sessionmaker[Session],
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    now: datetime,
    chunk_size: int,
    lease_seconds: float,  # float-ok: seconds
    console: Console,
    progress: Progress,
    bar: TaskID,
    outage: Outage,
) -> None:
    """Execute the run here; while another executor holds it, follow it; take it over when that
    executor's lease expires."""
    invoices = 0

    def planned(total: int, done: int) -> None:
        progress.update(bar, total=total, completed=done)

    def advance(contracts: int, created: int, _outcome: ChunkResult | None) -> None:
        nonlocal invoices
        invoices += created
        progress.update(bar, advance=contracts, invoices=invoices)

    while True:
        lease = leases.Lease(leases.new_executor("bill"), lease_seconds)
        try:
            runs.run_in_process(
                factory,
                organisation_id,
                run_id,
                now,
                chunk_size=chunk_size,
                lease=lease,
                on_plan=planned,
                on_chunk=advance,
                outage=outage,
            )
            return
        except runs.AlreadyRunning as running:
            console.print(
                f"run {run_id} is already running (executor {running.executor}, last heartbeat "
                f"{running.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC); following it"
                if running.heartbeat_at
                else f"run {run_id} is already running (executor {running.executor}); following it"
            )
        except leases.LeaseLost:
            console.print(f"run {run_id} was taken over by another executor; following it")
        if _follow_one(factory, organisation_id, run_id, progress, bar, outage):
            return
        console.print(f"run {run_id}: its executor stopped renewing its lease; taking the run over")


def _follow_one(
    factory: sessionmaker[Session],
    organisation_id: uuid.UUID,
    run_id: uuid.UUID,
    progress: Progress,
    bar: TaskID,
    outage: Outage,
) -> bool:
    """Follow a run another executor drives: True once it is completed, False when its lease
    expired (nobody drives it any more)."""
    expired: list[bool] = []

    def on_expired(_org: uuid.UUID, _run: uuid.UUID) -> None:
        expired.append(True)

    while True:
        done = _poll(factory, [(organisation_id, run_id)], {run_id: bar}, progress, outage, on_expired)
        if done:
            return True
        if expired:
            return False
        time.sleep(0.5)


def _poll(
    factory: sessionmaker[Session],
    started: list[tuple[uuid.UUID, uuid.UUID]],
    bars: dict[uuid.UUID, TaskID],
    progress: Progress,
    outage: Outage,
    on_expired: Callable[[uuid.UUID, uuid.UUID], None],
) -> bool:
    """Update the bars of the runs not completed yet; True when every one is completed."""

    def read() -> tuple[list[tuple[uuid.UUID, uuid.UUID]], bool]:
        expired = []
        completed = True
        with session_scope(factory) as session:
            for org_id, run_id in started:
                run = runs.get_run(session, org_id, run_id)
                progress.update(
                    bars[run_id],
                    total=run.contracts_total,
                    completed=run.contracts_done,
                    invoices=run.invoices_created,
                )
                if run.status == "completed":
                    continue
                completed = False
                if run.lease_expires_at is None or run.lease_expires_at <= datetime.now(UTC):
                    expired.append((org_id, run_id))
        return expired, completed

    expired, completed = retrying(read, outage)
    for org_id, run_id in expired:
        retrying(partial(on_expired, org_id, run_id), outage)
    return completed


def follow(
    factory: sessionmaker[Session],
    started: list[tuple[uuid.UUID, uuid.UUID]],
    as_of: date,
    console: Console,
    outage: Outage,
    *,
    on_expired: Callable[[uuid.UUID, uuid.UUID], None],
) -> int:
    """Show the runs' progress until each is completed; `on_expired` hears of a run whose lease
    expired (nobody executes it). The number of failures."""
    with _progress(console) as progress:
        bars = {
            run_id: progress.add_task(f"organisation {str(org_id)[:8]}", total=None, invoices=0)
            for org_id, run_id in started
        }
        while not _poll(factory, started, bars, progress, outage, on_expired):
            time.sleep(0.5)
    return summarise(factory, started, as_of, console, outage)


def summarise(
    factory: sessionmaker[Session],
    started: list[tuple[uuid.UUID, uuid.UUID]],
    as_of: date,
    console: Console,
    outage: Outage,
) -> int:
    """Print the runs' summary table and first failures; the number of failures."""

    def read() -> list[tuple[uuid.UUID, BillingRun, list[BillingRunFailure]]]:
        with session_scope(factory) as session:
            return [
                (
                    org_id,
                    runs.get_run(session, org_id, run_id),
                    runs.run_failures(session, org_id, run_id),
                )
                for org_id, run_id in started
            ]

    table = Table(title=f"Billing run as of {as_of}")
    for column in ("organisation", "run", "contracts", "invoices", "failures"):
        table.add_column(column)
    failures_total = 0
    for org_id, run, failures in retrying(read, outage):
        table.add_row(
            str(org_id), str(run.id), str(run.contracts_total), str(run.invoices_created), str(len(failures))
        )
        for failure in failures[:20]:
            console.print(
                f"[red]failed[/red] contract {failure.contract_id}: {failure.code}: {failure.reason}"
            )
        failures_total += len(failures)
    console.print(table)
    return failures_total


def bill_with_workers(
    factory: sessionmaker[Session],
    database_url: str,
    as_of: date,
    console: Console,
    organisation_id: uuid.UUID | None = None,
    chunk_size: int = runs.DEFAULT_CHUNK_SIZE,
    wait: bool = True,
    lease_seconds: float = leases.DEFAULT_SECONDS,  # float-ok: seconds
) -> int:
    """`faktur bill --workers`: queue each organisation's run, then follow it to the end (queueing
    it again if its lease expires meanwhile); database outages are waited out.

    The number of failures (0 without `wait`).
    """
    outage = console_outage(console)

    def queued(run_id: uuid.UUID, jobs: int) -> None:
        console.print(f"run {run_id}: {jobs} chunks queued for `faktur worker`")

    started = queue.start_queued_runs(
        factory, database_url, as_of, outage, queued, organisation_id, chunk_size, lease_seconds
    )
    if not wait:
        return 0

    def requeue(org_id: uuid.UUID, run_id: uuid.UUID) -> None:
        jobs = queue.queue_run(
            factory, database_url, org_id, run_id, datetime.now(UTC), chunk_size, lease_seconds
        )
        console.print(f"run {run_id}: its executor stopped; {jobs} chunks queued again")

    return follow(factory, started, as_of, console, outage, on_expired=requeue)
