"""Test fixtures: every database test runs on SQLite and, when FAKTUR_TEST_POSTGRES_URL is set,
on PostgreSQL too. The schema comes from the Alembic migrations, applied once per backend."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from faktur.app import create_app
from faktur.config import Settings
from faktur.db import make_engine, make_session_factory, normalise_url, session_scope
from faktur.migrations import upgrade_to_head
from faktur.models import Base
from faktur.organisations import service as organisations
from faktur.organisations.schemas import OrganisationCreate
from official_validator import OfficialValidator
from official_validator import load_module as load_official_validator

# The e-mail tests' SMTP server on loopback and their app (tests/sending/smtp_server.py).
pytest_plugins = ["sending.smtp_server"]

POSTGRES_URL = os.environ.get("FAKTUR_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("postgres_only") is None:
            continue
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        if backend == "sqlite" or not POSTGRES_URL:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (FAKTUR_TEST_POSTGRES_URL)"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "faktur.sqlite3"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@contextmanager
def new_postgres_database(prefix: str) -> Iterator[str]:
    """The URL of a new, migrated PostgreSQL database named after `prefix`, dropped afterwards."""
    assert POSTGRES_URL
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(POSTGRES_URL)).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database for this test run (and xdist worker), migrated once, dropped after."""
    with new_postgres_database(f"faktur_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}") as url:
        yield url


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        path = tmp_path / "faktur.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_database")
    _truncate_all(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=40)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine):
    return make_session_factory(engine)


@pytest.fixture
def app(database_url: str, engine: Engine) -> FastAPI:
    return create_app(Settings(database_url=database_url, create_demo_organisation=False), engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class Tenant:
    organisation_id: uuid.UUID
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def make_tenant(session_factory, name: str = "Seller GmbH", **fields: object) -> Tenant:
    now = datetime.now(UTC)
    defaults: dict[str, object] = {
        "country": "DE",
        "vat_id": "DE136695976",
        "address_line1": "Hauptstraße 5",
        "city": "Berlin",
        "postal_code": "10115",
        "default_currency": "EUR",
    }
    defaults.update(fields)
    with session_scope(session_factory) as session:
        organisation = organisations.create_organisation(
            session, OrganisationCreate(legal_name=name, **defaults), now
        )
        key = organisations.create_api_key(session, organisation.id, "test", now)
    return Tenant(organisation.id, key.plaintext)


@pytest.fixture
def tenant(session_factory) -> Tenant:
    return make_tenant(session_factory)


@pytest.fixture
def other_tenant(session_factory) -> Tenant:
    return make_tenant(session_factory, "Other Ltd", country="FR", vat_id="FR40303265045")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by a real uvicorn on a loopback port, for tests with concurrent clients."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def official_validator() -> OfficialValidator:
    """The official e-invoice rule sets (../shared/einvoice-validator), compiled once per process."""
    module, reason = load_official_validator()
    if module is None:
        pytest.skip(reason)
    return OfficialValidator(module)
