"""The writing requests of one server process take turns on SQLite, not on PostgreSQL
(faktur.http.writer_turns); reading requests never wait for a turn."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from conftest import Tenant, make_tenant
from faktur.app import create_app
from faktur.config import Settings
from faktur.db import make_engine, make_session_factory

WRONG_KEY = {"Authorization": "Bearer fk_wrong"}


def _hold_the_organisation(engine: Engine, tenant: Tenant) -> Session:
    """Another writer's open transaction that changed the organisation: on SQLite it holds the
    write lock, on PostgreSQL the organisation's row."""
    holder = make_session_factory(engine)()
    holder.execute(
        text("UPDATE organisations SET legal_name = legal_name WHERE id = :id"),
        {"id": tenant.organisation_id.hex if engine.dialect.name == "sqlite" else tenant.organisation_id},
    )
    return holder


def _blocked_rename(pool: ThreadPoolExecutor, client: TestClient, tenant: Tenant) -> Future:
    renaming = pool.submit(
        client.patch, "/v1/organisation", json={"trading_name": "Seller"}, headers=tenant.headers
    )
    time.sleep(1.0)  # it reaches the database and waits there for the holder
    assert not renaming.done()
    return renaming


def test_a_writing_request_waits_for_its_turn_on_sqlite_only(
    backend: str, engine: Engine, app, tenant: Tenant
) -> None:
    """While a writing request waits in the database, the process's next writing request waits
    for its turn on SQLite (even a wrong API key is answered only after the first request), and is
    answered at once on PostgreSQL; a reading request answers at once on both."""
    holder = _hold_the_organisation(engine, tenant)
    try:
        with TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(2) as pool:
            renaming = _blocked_rename(pool, client, tenant)
            refusing = pool.submit(client.post, "/v1/customers", json={"name": "Kunde AG"}, headers=WRONG_KEY)
            started = time.monotonic()
            listed = client.get("/v1/customers", headers=tenant.headers)
            assert listed.status_code == 200 and listed.json()["data"] == []
            assert time.monotonic() - started < 0.5
            if backend == "sqlite":
                time.sleep(0.5)
                assert not refusing.done()
            else:
                refused = refusing.result(timeout=0.5)
                assert refused.status_code == 401 and not renaming.done()
            holder.rollback()
            assert renaming.result(timeout=10).status_code == 200
            refused = refusing.result(timeout=10)
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
            assert client.get("/v1/organisation", headers=tenant.headers).json()["trading_name"] == "Seller"
    finally:
        holder.rollback()
        holder.close()


def test_a_turn_waited_for_past_the_bound_is_503_database_busy_and_stores_nothing(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """The turn is waited for as long as the write lock is (`sqlite_write_lock_timeout_ms`): here
    the lock's own bound is longer than the turn's, so the second request's 503 is the turn's."""
    path = tmp_path / "faktur.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{path}"
    engine = make_engine(url, write_lock_timeout_ms=10_000)
    app = create_app(
        Settings(database_url=url, create_demo_organisation=False, sqlite_write_lock_timeout_ms=300), engine
    )
    tenant = make_tenant(make_session_factory(engine))
    holder = _hold_the_organisation(engine, tenant)
    try:
        with TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(2) as pool:
            renaming = _blocked_rename(pool, client, tenant)
            started = time.monotonic()
            busy = client.post("/v1/customers", json={"name": "Kunde AG"}, headers=tenant.headers)
            waited = time.monotonic() - started
            assert busy.status_code == 503, busy.text
            assert busy.json()["error"]["code"] == "database_busy"
            assert busy.headers["Retry-After"] == "1"
            assert 0.3 <= waited < 3 and not renaming.done()
            holder.rollback()
            assert renaming.result(timeout=10).status_code == 200
            assert client.get("/v1/customers", headers=tenant.headers).json()["data"] == []
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
