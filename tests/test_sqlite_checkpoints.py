"""WAL checkpoints off the write path (faktur.sqlite_checkpoints): faktur's writers checkpoint only
past the backstop, and the server's thread checkpoints what they write. SQLite only."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from conftest import make_tenant
from faktur.app import create_app
from faktur.config import Settings
from faktur.db import make_engine, make_session_factory
from faktur.sqlite_checkpoints import BACKSTOP_PAGES

PAGE = 4096
BLOB = 64 * PAGE  # a quarter of a megabyte per transaction


def test_a_commit_checkpoints_only_past_the_backstop(tmp_path: Path) -> None:
    """SQLite's own default checkpoints in the COMMIT that takes the WAL past 1,000 pages; faktur's
    writers leave the database file untouched until the backstop, and checkpoint themselves then."""
    database = tmp_path / "faktur.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE filler (data BLOB NOT NULL)"))
        size = database.stat().st_size

        def write(pages: int) -> None:
            for _ in range(pages * PAGE // BLOB):
                with engine.begin() as connection:
                    connection.execute(text("INSERT INTO filler (data) VALUES (zeroblob(:n))"), {"n": BLOB})

        write(2_000)  # twice SQLite's default
        assert database.stat().st_size == size
        assert Path(f"{database}-wal").stat().st_size > 2_000 * PAGE

        write(BACKSTOP_PAGES)
        assert database.stat().st_size > size + 2_000 * PAGE
    finally:
        engine.dispose()


def test_the_server_checkpoints_from_a_thread_of_its_own(tmp_path: Path, sqlite_template: Path) -> None:
    database = tmp_path / "faktur.sqlite3"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    tenant = make_tenant(make_session_factory(engine))
    size = database.stat().st_size
    try:
        with TestClient(
            create_app(Settings(database_url=url, create_demo_organisation=False), engine)
        ) as client:
            for i in range(30):
                created = client.post(
                    "/v1/customers", json={"name": f"Kunde {i} " + "x" * 150}, headers=tenant.headers
                )
                assert created.status_code == 201, created.text
            # Far below the backstop: only the server's thread copies these pages into the file.
            deadline = time.monotonic() + 10
            while database.stat().st_size == size and time.monotonic() < deadline:
                time.sleep(0.1)
            assert database.stat().st_size > size
            listed = client.get("/v1/customers", params={"limit": 30}, headers=tenant.headers)
            assert len(listed.json()["data"]) == 30
    finally:
        engine.dispose()
