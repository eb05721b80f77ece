"""The faktur command line: serve, migrate, organisations and API keys."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from faktur.cli_database import describe, open_engine
from faktur.config import Settings, get_settings
from faktur.database_faults import STORAGE_ERRNOS, database_fault, startup_fault_message
from faktur.db import is_sqlite, make_session_factory, session_scope
from faktur.documents.cli import credit_note_app, invoice_app
from faktur.errors import FakturError
from faktur.migrations import upgrade_to_head
from faktur.webhooks.cli import webhooks_app

app = typer.Typer(help="faktur: invoicing service", no_args_is_help=True)
org_app = typer.Typer(help="Organisations", no_args_is_help=True)
key_app = typer.Typer(help="API keys", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(key_app, name="key")
app.add_typer(invoice_app, name="invoice")
app.add_typer(credit_note_app, name="credit-note")
app.add_typer(webhooks_app, name="webhooks")
console = Console()


def _session_factory() -> sessionmaker[Session]:
    return make_session_factory(open_engine())


def _check_port_free(host: str, port: int) -> None:
    """Bind the address once, before anything is migrated or created, so a busy port changes nothing."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            # uvicorn binds with SO_REUSEADDR too: a port in TIME_WAIT is free for it.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        console.print(
            f"[red]Cannot listen on {host}:{port} ({exc.strerror or exc}): stop what uses it or choose "
            "another port with --port or FAKTUR_PORT. Nothing was changed.[/red]",
            soft_wrap=True,
        )
        raise typer.Exit(1) from exc


@contextmanager
def _database_faults_end_the_command(database_url: str) -> Iterator[None]:
    """A database fault (a full or broken disk, a database that cannot be reached or stays
    locked) ends the command with one line, no traceback: what is wrong and what to do."""
    try:
        yield
    except (DBAPIError, OSError) as exc:
        fault = database_fault(exc)
        if fault is None or (isinstance(exc, OSError) and exc.errno not in STORAGE_ERRNOS):
            raise
        typer.echo(startup_fault_message(fault, describe(database_url)), err=True)
        raise typer.Exit(1) from None


_DEFAULTS = Settings.model_fields


@app.command()
def migrate() -> None:
    """Apply database migrations (FAKTUR_DATABASE_URL, else the per-user default database)."""
    database_url = get_settings().database_url
    with _database_faults_end_the_command(database_url):
        upgrade_to_head(database_url)
    console.print(f"[green]database is up to date[/green]: {describe(database_url)}", soft_wrap=True)


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind", show_default=f"FAKTUR_HOST, else {_DEFAULTS['host'].default}"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Port to listen on", show_default=f"FAKTUR_PORT, else {_DEFAULTS['port'].default}"),
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (SQLite: writes queue on a lock file)")] = 1,
) -> None:
    """Migrate, create a demo organisation on first start, and serve the HTTP API."""
    import uvicorn

    from faktur.bootstrap import create_demo_organisation_if_empty

    settings = get_settings()
    host = settings.host if host is None else host
    port = settings.port if port is None else port
    _check_port_free(host, port)
    demo = None
    with _database_faults_end_the_command(settings.database_url):
        upgrade_to_head(settings.database_url)
        console.print(f"database {describe(settings.database_url)}", soft_wrap=True)
        if settings.create_demo_organisation:
            with session_scope(_session_factory()) as session:
                demo = create_demo_organisation_if_empty(session)
    if demo is not None:
        console.print(f"[bold]Demo organisation[/bold] {demo.organisation_id}")
        console.print(f"[bold]API key[/bold] (shown once): [yellow]{demo.api_key}[/yellow]")
    elif settings.create_demo_organisation:
        console.print("API keys: `faktur key list`; a new one: `faktur key create <organisation id>`")
    console.print(f"API docs: http://{host}:{port}/docs")
    uvicorn.run(
        "faktur.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts, e.g. with jq)")]


@org_app.command("list")
def org_list(as_json: JsonOption = False) -> None:
    """List the organisations of this database with their ids and active API keys."""
    from faktur.organisations import repository

    with session_scope(_session_factory()) as session:
        organisations = repository.list_organisations(session)
        active = repository.count_active_keys(session)
    rows = [
        {
            "id": str(org.id),
            "legal_name": org.legal_name,
            "country": org.country,
            "default_currency": org.default_currency,
            "created_at": _iso(org.created_at),
            "active_keys": active.get(org.id, 0),
        }
        for org in organisations
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        console.print("No organisations yet: `faktur org create NAME`.")
    # One record per organisation: ids stay whole (they are copied into other commands) at any width.
    for org in organisations:
        console.print(f"organisation {org.id}  {org.legal_name}", soft_wrap=True, markup=False)
        console.print(
            f"  {org.country or 'no country'}, {org.default_currency}, created {_when(org.created_at)} UTC, "
            f"{active.get(org.id, 0)} active API key(s)",
            soft_wrap=True,
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
    organisation_id: Annotated[str, typer.Argument(help="Organisation id (`faktur org list`)")],
    name: Annotated[str, typer.Option(help="A name to recognise the key by")] = "cli",
    as_json: JsonOption = False,
) -> None:
    """Create an API key for an organisation; it is shown once."""
    from faktur.organisations import service

    try:
        with session_scope(_session_factory()) as session:
            key = service.create_api_key(session, uuid.UUID(organisation_id), name, datetime.now(UTC))
    except (ValueError, FakturError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    if as_json:
        created = {"id": str(key.api_key.id), "organisation_id": organisation_id, "key": key.plaintext}
        print(json.dumps(created))
        return
    console.print(f"key id {key.api_key.id}")
    console.print(f"API key (shown once): [yellow]{key.plaintext}[/yellow]")


@key_app.command("list")
def key_list(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation's keys")] = None,
    as_json: JsonOption = False,
) -> None:
    """List API keys: id, prefix, created, last used (last invoice change made with it), revoked."""
    from faktur.organisations import repository

    try:
        organisation_id = uuid.UUID(org) if org else None
    except ValueError as exc:
        raise typer.BadParameter(f"{org!r} is not an organisation id (a UUID)", param_hint="--org") from exc
    with session_scope(_session_factory()) as session:
        keys = repository.list_keys(session, organisation_id)
    rows = [
        {
            "id": str(key.id),
            "organisation_id": str(key.organisation_id),
            "name": key.name,
            "prefix": key.prefix,
            "created_at": _iso(key.created_at),
            "last_used_at": _iso(last_used),
            "revoked_at": _iso(key.revoked_at),
        }
        for key, last_used in keys
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        console.print("No API keys: `faktur key create <organisation id>` makes one.")
        return
    for key, last_used in keys:
        state = f"revoked {_when(key.revoked_at)} UTC" if key.revoked_at else "active"
        console.print(f"key {key.id}  {key.prefix}...  {key.name!r}  {state}", soft_wrap=True, markup=False)
        console.print(
            f"  organisation {key.organisation_id}, created {_when(key.created_at)} UTC, "
            f"last used {_when(last_used) + ' UTC' if last_used else 'never'}",
            soft_wrap=True,
        )
    console.print("last used: the last invoice change made with the key (requests are not logged).")


@key_app.command("revoke")
def key_revoke(
    key: Annotated[str, typer.Argument(help="The key's id (`faktur key list`) or the key itself (fk_...)")],
) -> None:
    """Revoke an API key at once."""
    from faktur.organisations import service
    from faktur.organisations.api_keys import KEY_PREFIX

    now = datetime.now(UTC)
    try:
        with session_scope(_session_factory()) as session:
            if key.strip().startswith(KEY_PREFIX):
                revoked = service.revoke_api_key_by_plaintext(session, key, now)
            else:
                try:
                    key_id = uuid.UUID(key)
                except ValueError as exc:
                    raise typer.BadParameter(
                        f"{key!r} is neither a key id (a UUID, see `faktur key list`) "
                        f"nor a key ({KEY_PREFIX}...)"
                    ) from exc
                revoked = service.revoke_api_key(session, key_id, now)
    except FakturError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"revoked key {revoked.id} ({revoked.prefix}...)")


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
    from faktur.billing.cli import bill as run_billing
    from faktur.billing.cli import bill_with_workers, console_outage
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
        failures = bill_with_workers(
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
    """Process queued billing chunks and send webhooks (PostgreSQL) until SIGINT/SIGTERM; run as
    many as you like."""
    import logging

    from faktur.billing import queue
    from faktur.hosted import links
    from faktur.outages import Outage, retrying
    from faktur.outbox import start_loop

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
    # Beside the billing chunks, the worker sends webhooks (and other outbox work): faktur.outbox.
    links.configure(settings.public_url, settings.host, settings.port)
    outbox_loop = start_loop(factory, settings)
    try:
        queue.run_worker(
            factory,
            settings.database_url,
            concurrency=concurrency,
            heartbeat=heartbeat,
            stalled_after=stalled_after,
            lease_seconds=settings.billing_run_lease_seconds,
        )
    finally:
        outbox_loop.stop()
