"""Alembic environment: the migrations are the only source of schema (SQLite via batch mode)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from faktur.db import make_engine
from faktur.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    if not sqlite:
        with context.begin_transaction():
            context.run_migrations()
        return
    # A batch migration drops and recreates tables; with foreign keys on, SQLite would delete the
    # rows referring to a dropped table (ON DELETE CASCADE). The pragma is ignored inside a
    # transaction, so it is set on the driver's connection before one begins; the references are
    # checked before the migrations commit instead.
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"the migrations left rows referring to nothing: {broken[:10]}")
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic.ini names no sqlalchemy.url and no connection was passed in")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("faktur migrations run online only")
run_migrations_online()
