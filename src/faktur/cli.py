"""The faktur command line: serve, migrate, organisations and API keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from faktur.config import get_settings
from faktur.db import is_sqlite, make_engine, make_session_factory, session_scope
from faktur.documents.cli import invoice_app
from faktur.errors import FakturError
from faktur.migrations import is_up_to_date, upgrade_to_head

app = typer.Typer(help="faktur: invoicing service", no_args_is_help=True)
org_app = typer.Typer(help="Organisations", no_args_is_help=True)
key_app = typer.Typer(help="API keys", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(key_app, name="key")
app.add_typer(invoice_app, name="invoice")
console = Console()


def _session_factory():  # type: ignore[no-untyped-def]
    settings = get_settings()
    if not is_up_to_date(settings.database_url):
        console.print("[red]The database is not migrated to this faktur version: run `faktur migrate`.[/red]")
        raise typer.Exit(1)
    return make_session_factory(make_engine(settings.database_url))


@app.command()
def migrate() -> None:
    """Apply database migrations (FAKTUR_DATABASE_URL)."""
    upgrade_to_head(get_settings().database_url)
    console.print("[green]database is up to date[/green]")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 0,
    workers: Annotated[int, typer.Option(help="Worker processes (SQLite: writes queue on a lock file)")] = 1,
) -> None:
    """Migrate, create a demo organisation on first start, and serve the HTTP API."""
    import uvicorn

    from faktur.bootstrap import create_demo_organisation_if_empty

    settings = get_settings()
    upgrade_to_head(settings.database_url)
    if settings.create_demo_organisation:
        with session_scope(_session_factory()) as session:
            demo = create_demo_organisation_if_empty(session)
        if demo is not None:
            console.print(f"[bold]Demo organisation[/bold] {demo.organisation_id}")
            console.print(f"[bold]API key[/bold] (shown once): [yellow]{demo.api_key}[/yellow]")
    host = host or settings.host
    port = port or settings.port
    console.print(f"API docs: http://{host}:{port}/docs")
    uvicorn.run(
        "faktur.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


@org_app.command("create")
def org_create(
    legal_name: Annotated[str, typer.Argument(help="Legal name of the seller")],
    country: Annotated[str | None, typer.Option(help="ISO country code")] = None,
    currency: Annotated[str, typer.Option(help="Default currency")] = "EUR",
    vat_id: Annotated[str | None, typer.Option(help="VAT identifier")] = None,
) -> None:
    """Create an organisation and its first API key."""
    from pydantic import ValidationError

    from faktur.organisations import service
    from faktur.organisations.schemas import OrganisationCreate

    now = datetime.now(UTC)
    try:
        data = OrganisationCreate(
            legal_name=legal_name, country=country, default_currency=currency, vat_id=vat_id
        )
        with session_scope(_session_factory()) as session:
            organisation = service.create_organisation(session, data, now)
            key = service.create_api_key(session, organisation.id, "default", now)
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(f"organisation {organisation.id}")
    console.print(f"API key (shown once): [yellow]{key.plaintext}[/yellow]")


@key_app.command("create")
def key_create(
    organisation_id: Annotated[str, typer.Argument(help="Organisation id")],
    name: Annotated[str, typer.Option(help="A name to recognise the key by")] = "cli",
) -> None:
    """Create an API key for an organisation; it is shown once."""
    from faktur.organisations import service

    try:
        with session_scope(_session_factory()) as session:
            key = service.create_api_key(session, uuid.UUID(organisation_id), name, datetime.now(UTC))
    except (ValueError, FakturError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"key id {key.api_key.id}")
    console.print(f"API key (shown once): [yellow]{key.plaintext}[/yellow]")


@key_app.command("revoke")
def key_revoke(key_id: Annotated[str, typer.Argument(help="API key id")]) -> None:
    """Revoke an API key at once."""
    from faktur.organisations import service

    try:
        with session_scope(_session_factory()) as session:
            service.revoke_api_key(session, uuid.UUID(key_id), datetime.now(UTC))
    except (ValueError, FakturError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print("revoked")


@app.command()
def bill(
    as_of: Annotated[str, typer.Option("--as-of", help="Invoice periods completed by this day (YYYY-MM-DD)")],
    organisation: Annotated[str | None, typer.Option(help="Only this organisation id")] = None,
    chunk_size: Annotated[int, typer.Option(min=1, max=10_000, help="Contracts per transaction")] = 100,
    workers: Annotated[
        bool | None,
        typer.Option(
            "--workers/--in-process",
            help="Queue the chunks for `faktur worker` (PostgreSQL) or run them here "
            "[default: FAKTUR_BILLING_WORKERS]",
            show_default=False,
        ),
    ] = None,
    wait: Annotated[bool, typer.Option(help="With --workers: follow the run until it completes")] = True,
) -> None:
    """Run billing: invoice every contract's completed, uninvoiced periods (resumes a killed run,
    follows a run another executor has, waits out database outages)."""
    from datetime import date

    from faktur.billing import queue, runs
    from faktur.billing.command import bill as run_billing
    from faktur.billing.command import console_outage
    from faktur.outages import retrying

    try:
        day = date.fromisoformat(as_of)
        organisation_id = uuid.UUID(organisation) if organisation else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    try:
        runs.check_as_of(day, datetime.now(UTC).date())
    except FakturError as exc:
        raise typer.BadParameter(exc.message, param_hint="--as-of") from exc
    settings = get_settings()
    if workers is None:
        workers = queue.uses_workers(settings)
    if workers and is_sqlite(settings.database_url):
        console.print("[red]--workers needs PostgreSQL; on SQLite, billing runs in-process.[/red]")
        raise typer.Exit(2)
    factory = retrying(_session_factory, console_outage(console))
    lease_seconds = settings.billing_run_lease_seconds
    if workers:
        failures = queue.bill_with_workers(
            factory, settings.database_url, day, console, organisation_id, chunk_size, wait, lease_seconds
        )
    else:
        failures = run_billing(factory, day, console, organisation_id, chunk_size, lease_seconds)
    raise typer.Exit(1 if failures else 0)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Chunks processed at once")] = 1,
    heartbeat: Annotated[float, typer.Option(min=0.1, help="Seconds between heartbeats")] = 10.0,
    stalled_after: Annotated[
        float, typer.Option(min=0.5, help="Requeue the jobs of workers silent this many seconds")
    ] = 30.0,
) -> None:
    """Process queued billing chunks (PostgreSQL) until SIGINT/SIGTERM; run as many as you like."""
    import logging

    from faktur.billing import queue
    from faktur.outages import Outage, retrying

    settings = get_settings()
    if is_sqlite(settings.database_url):
        console.print("[red]faktur worker needs PostgreSQL; on SQLite, billing runs in-process.[/red]")
        raise typer.Exit(2)
    if heartbeat >= stalled_after:
        raise typer.BadParameter("--heartbeat must be shorter than --stalled-after")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # During a database outage the pool would warn at every reconnection attempt; the worker says
    # once what it waits for (faktur.outages).
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
    factory = retrying(_session_factory, Outage("faktur worker", logging.getLogger("faktur.worker").warning))
    queue.run_worker(
        factory,
        settings.database_url,
        concurrency=concurrency,
        heartbeat=heartbeat,
        stalled_after=stalled_after,
        lease_seconds=settings.billing_run_lease_seconds,
    )
