"""How CLI commands open the configured database: checked first, with one line saying what to do."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from faktur.config import get_settings
from faktur.db import is_sqlite, make_engine
from faktur.migrations import is_up_to_date

errors = Console(stderr=True)


def describe(database_url: str) -> str:
    """The database as a person finds it: a SQLite file's absolute path, or the URL without password."""
    url = make_url(database_url)
    if is_sqlite(database_url) and url.database and url.database != ":memory:":
        return str(Path(url.database).resolve())
    return url.render_as_string(hide_password=True)


def _fail(message: str) -> typer.Exit:
    errors.print(message, style="red", soft_wrap=True, markup=False, highlight=False)
    return typer.Exit(1)


def open_engine() -> Engine:
    """The engine of FAKTUR_DATABASE_URL (or the per-user default), at the newest migration.

    A missing SQLite file is not created here, and an unmigrated or unreachable database ends the
    command with exit code 1 and one line naming the database and the fix.
    """
    settings = get_settings()
    database_url = settings.database_url
    where = describe(database_url)
    url = make_url(database_url)
    on_disk = is_sqlite(database_url) and url.database not in (None, "", ":memory:")
    if on_disk and not Path(str(url.database)).exists():
        raise _fail(
            f"No faktur database at {where}: run `faktur migrate` (or `faktur serve`) to create it, "
            "or set FAKTUR_DATABASE_URL to the database you use."
        )
    try:
        current = is_up_to_date(database_url)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise _fail(f"Cannot open the database {where}: {reason}") from exc
    if not current:
        raise _fail(f"The database {where} has no faktur schema or an older one: run `faktur migrate`.")
    return make_engine(
        database_url,
        lock_timeout_ms=settings.postgres_lock_timeout_ms,
        idle_in_transaction_timeout_ms=settings.postgres_idle_in_transaction_timeout_ms,
    )
