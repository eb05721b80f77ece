"""`faktur bill`: run billing for every organisation (or one) with a progress bar and a summary."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from faktur.billing import runs
from faktur.db import session_scope
from faktur.organisations import repository as organisations


def bill(
    factory: sessionmaker[Session],
    as_of: date,
    console: Console,
    organisation_id: uuid.UUID | None = None,
    chunk_size: int = runs.DEFAULT_CHUNK_SIZE,
) -> int:
    """Run (or resume) the billing run for `as_of` of each organisation; the number of failures."""
    now = datetime.now(UTC)
    with session_scope(factory) as session:
        organisation_ids = organisations.organisation_ids(session, organisation_id)
        run_ids = [runs.start_run(session, org_id, as_of, now).id for org_id in organisation_ids]
    table = Table(title=f"Billing run as of {as_of}")
    for column in ("organisation", "run", "contracts", "invoices", "failures"):
        table.add_column(column)
    failures_total = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[invoices]} invoices"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        for org_id, run_id in zip(organisation_ids, run_ids, strict=True):
            task = progress.add_task(f"organisation {str(org_id)[:8]}", total=None, invoices=0)
            invoices = 0

            def advance(contracts: int, created: int, _outcome: runs.ChunkOutcome, task=task) -> None:  # type: ignore[no-untyped-def]
                nonlocal invoices
                invoices += created
                progress.update(task, advance=contracts, invoices=invoices)

            runs.run_in_process(
                factory,
                org_id,
                run_id,
                now,
                chunk_size=chunk_size,
                on_plan=lambda total, task=task: progress.update(task, total=total),  # type: ignore[misc]
                on_chunk=advance,
            )
            with session_scope(factory) as session:
                failures_total += summarise_run(session, console, table, org_id, run_id)
    console.print(table)
    return failures_total


def summarise_run(
    session: Session, console: Console, table: Table, organisation_id: uuid.UUID, run_id: uuid.UUID
) -> int:
    """Add a run's row to the summary table and print its first failures; returns how many failed."""
    run = runs.get_run(session, organisation_id, run_id)
    failures = runs.run_failures(session, organisation_id, run_id)
    table.add_row(
        str(organisation_id),
        str(run_id),
        str(run.contracts_total),
        str(run.invoices_created),
        str(len(failures)),
    )
    for failure in failures[:20]:
        console.print(f"[red]failed[/red] contract {failure.contract_id}: {failure.code}: {failure.reason}")
    return len(failures)
