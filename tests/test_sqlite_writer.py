"""SQLite's one writer at a time: bounded waits for the write lock (threads and processes), and
readers that never wait for it. SQLite only: PostgreSQL has row locks and no such queue."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openapi_schema_validator import OAS31Validator
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from conftest import Tenant, make_tenant
from factories import create_customer, create_invoice, line
from faktur.app import create_app
from faktur.config import Settings
from faktur.db import make_engine, make_read_engine, make_session_factory
from faktur.sqlite_writer import WriterLock, lock_path_for
from served import served, write_lock_held_by_stopped_process

HOLD_FILE_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "faktur.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def _hold_file_lock(database: Path, seconds: float) -> subprocess.Popen[bytes]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_FILE_LOCK, str(lock_path_for(str(database))), str(seconds)],
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
    return holder


def _other_connection_can_write(path: str) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        other.close()


def test_a_wait_for_another_process_ends_at_the_bound_and_later_ones_give_up_at_once(tmp_path: Path) -> None:
    database = tmp_path / "faktur.sqlite3"
    holder = _hold_file_lock(database, 600)
    lock = WriterLock(str(database), timeout=0.3)
    try:
        started = time.monotonic()
        assert lock.acquire() is False
        assert 0.3 <= time.monotonic() - started < 2
        # The holder is known to be stuck: the next writer of this process does not wait again.
        started = time.monotonic()
        assert lock.acquire() is False
        assert time.monotonic() - started < 0.1
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    deadline = time.monotonic() + 5
    while not lock.acquire():  # the kernel freed the lock with its dead holder
        assert time.monotonic() < deadline
        time.sleep(0.05)
    lock.release()


def test_a_process_that_releases_within_the_bound_hands_the_lock_over(tmp_path: Path) -> None:
    database = tmp_path / "faktur.sqlite3"
    holder = _hold_file_lock(database, 0.5)
    lock = WriterLock(str(database), timeout=5)
    started = time.monotonic()
    assert lock.acquire() is True
    assert time.monotonic() - started >= 0.2  # it waited for the holder, and got the lock after it
    lock.release()
    assert holder.wait(timeout=5) == 0
    holder.stdout.close()


def test_a_writing_transaction_holds_the_write_lock_from_its_first_read(sqlite_url: str) -> None:
    """What a write decides on is read under the lock: a read-then-write cannot be overtaken."""
    path = sqlite_url.removeprefix("sqlite:///")
    engine = make_engine(sqlite_url)
    session = make_session_factory(engine)()
    try:
        session.execute(text("SELECT count(*) FROM organisations")).scalar_one()
        assert _other_connection_can_write(path) is False
        session.rollback()
        assert _other_connection_can_write(path) is True
    finally:
        session.close()
        engine.dispose()


def test_a_reading_transaction_takes_no_write_lock_and_cannot_write(sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    engine = make_engine(sqlite_url)
    reader = make_read_engine(engine)
    session = make_session_factory(reader)()
    try:
        session.execute(text("SELECT count(*) FROM organisations")).scalar_one()
        assert _other_connection_can_write(path) is True
        with pytest.raises(OperationalError, match="readonly"):
            session.execute(text("UPDATE organisations SET legal_name = legal_name"))
    finally:
        session.close()
        reader.dispose()
        engine.dispose()


def _app_and_a_writer(
    sqlite_url: str, bound_ms: int, before: Callable[[TestClient, Tenant], None] | None = None
) -> tuple[Engine, FastAPI, Tenant, Session]:
    """The app with a write-lock bound of `bound_ms`, a tenant (given what `before` does through
    the API), and an open writing session of another thread that holds the write lock until it
    ends."""
    engine = make_engine(sqlite_url, write_lock_timeout_ms=bound_ms)
    settings = Settings(
        database_url=sqlite_url, create_demo_organisation=False, sqlite_write_lock_timeout_ms=bound_ms
    )
    app = create_app(settings, engine)
    factory = make_session_factory(engine)
    tenant = make_tenant(factory)
    if before is not None:
        with TestClient(app) as client:
            before(client, tenant)
    holder = factory()
    holder.execute(text("UPDATE organisations SET legal_name = legal_name"))
    return engine, app, tenant, holder


def test_a_write_waiting_past_the_bound_is_503_database_busy_while_reads_answer(sqlite_url: str) -> None:
    engine, app, tenant, holder = _app_and_a_writer(sqlite_url, 300)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            started = time.monotonic()
            response = client.post("/v1/customers", json={"name": "Kunde AG"}, headers=tenant.headers)
            waited = time.monotonic() - started
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "database_busy"
            assert response.headers["Retry-After"] == "1"
            assert 0.3 <= waited < 3
            # The OpenAPI document lists the answer, in faktur's error schema, with its header.
            spec = client.get("/openapi.json").json()
            documented = spec["paths"]["/v1/customers"]["post"]["responses"]["503"]
            assert "Retry-After" in documented["headers"]
            schema = {**documented["content"]["application/json"]["schema"], "components": spec["components"]}
            assert [e.message for e in OAS31Validator(schema).iter_errors(response.json())] == []

            started = time.monotonic()
            listed = client.get("/v1/customers", headers=tenant.headers)
            assert listed.status_code == 200 and listed.json()["data"] == []
            assert time.monotonic() - started < 0.3  # a reader does not queue behind the writer
    finally:
        holder.rollback()
        holder.close()
    with TestClient(app, raise_server_exceptions=False) as client:
        created = client.post("/v1/customers", json={"name": "Kunde AG"}, headers=tenant.headers)
        assert created.status_code == 201
    engine.dispose()


def test_a_writer_authenticates_before_it_queues_for_the_write_lock(sqlite_url: str) -> None:
    """The API key is read by a WAL reader before the write transaction: while another writer
    holds the lock, a wrong key is refused at once (401), and a right one waits for the lock."""
    engine, app, tenant, holder = _app_and_a_writer(sqlite_url, 1000)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            started = time.monotonic()
            refused = client.post(
                "/v1/customers", json={"name": "Kunde AG"}, headers={"Authorization": "Bearer fk_wrong"}
            )
            assert refused.status_code == 401, refused.text
            assert refused.json()["error"]["code"] == "invalid_api_key"
            assert time.monotonic() - started < 0.5  # not after the lock's 1 s bound

            started = time.monotonic()
            waited = client.post("/v1/customers", json={"name": "Kunde AG"}, headers=tenant.headers)
            assert waited.status_code == 503 and time.monotonic() - started >= 1.0
    finally:
        holder.rollback()
        holder.close()
    with TestClient(app, raise_server_exceptions=False) as client:
        created = client.post("/v1/customers", json={"name": "Kunde AG"}, headers=tenant.headers)
        assert created.status_code == 201, created.text
        renamed = client.patch("/v1/organisation", json={"trading_name": "Seller"}, headers=tenant.headers)
        assert renamed.status_code == 200 and renamed.json()["trading_name"] == "Seller"
        assert client.get("/v1/organisation", headers=tenant.headers).json()["trading_name"] == "Seller"
    engine.dispose()


def test_a_new_invoice_reads_its_customer_before_it_queues_for_the_write_lock(sqlite_url: str) -> None:
    """POST /v1/invoices reads the customer (and whether it holds credit) through a WAL reader and
    builds the invoice before its first write (faktur.http.reads): while another writer holds the
    lock, an unknown customer is refused at once (404), and a known one waits for the lock."""
    customer: dict[str, str] = {}

    def add_customer(client: TestClient, tenant: Tenant) -> None:
        created = client.post("/v1/customers", json={"name": "Kunde AG"}, headers=tenant.headers)
        customer["id"] = created.json()["id"]

    engine, app, tenant, holder = _app_and_a_writer(sqlite_url, 1000, add_customer)

    def invoice(customer_id: str) -> dict[str, object]:
        line = {
            "description": "Beratung",
            "quantity": "2",
            "unit_price": "100.00",
            "tax": {"category": "S", "percent": "19"},
        }
        return {"customer_id": customer_id, "lines": [line], "finalize": True}

    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            started = time.monotonic()
            unknown = client.post(
                "/v1/invoices", json=invoice("0193c1f0-0000-7000-8000-000000000000"), headers=tenant.headers
            )
            assert unknown.status_code == 404, unknown.text
            assert unknown.json()["error"]["code"] == "customer_not_found"
            assert time.monotonic() - started < 0.5  # not after the lock's 1 s bound

            started = time.monotonic()
            waited = client.post("/v1/invoices", json=invoice(customer["id"]), headers=tenant.headers)
            assert waited.status_code == 503 and time.monotonic() - started >= 1.0
    finally:
        holder.rollback()
        holder.close()
    with TestClient(app, raise_server_exceptions=False) as client:
        created = client.post("/v1/invoices", json=invoice(customer["id"]), headers=tenant.headers)
        assert created.status_code == 201, created.text
        assert created.json()["number"] is not None
        assert created.json()["customer"]["name"] == "Kunde AG"
        listed = client.get("/v1/invoices", headers=tenant.headers).json()["data"]
        assert [i["id"] for i in listed] == [created.json()["id"]]  # the refused ones left nothing
    engine.dispose()


@pytest.mark.slow
def test_reads_and_health_answer_while_a_writer_process_is_stopped(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    tenant = make_tenant(make_session_factory(engine))
    engine.dispose()
    bound_s = 3.0
    settings = {"FAKTUR_SQLITE_WRITE_LOCK_TIMEOUT_MS": str(int(bound_s * 1000))}
    with served(sqlite_url, workers=2, settings=settings) as api:

        def post_customer(name: str) -> tuple[httpx.Response, float]:
            started = time.monotonic()
            response = httpx.post(
                f"{api}/v1/customers", json={"name": name}, headers=tenant.headers, timeout=30
            )
            return response, time.monotonic() - started

        assert post_customer("before")[0].status_code == 201
        with write_lock_held_by_stopped_process(sqlite_url), ThreadPoolExecutor(8) as pool:
            writes = [pool.submit(post_customer, f"during {i}") for i in range(6)]
            time.sleep(0.2)
            for _ in range(5):  # while the writes wait: health and reads answer at once
                started = time.monotonic()
                assert httpx.get(f"{api}/health", timeout=5).status_code == 200
                listed = httpx.get(f"{api}/v1/customers", headers=tenant.headers, timeout=5)
                assert listed.status_code == 200
                assert [c["name"] for c in listed.json()["data"]] == ["before"]
                assert time.monotonic() - started < bound_s / 2  # not queued behind the writes
            results = [write.result() for write in writes]
        for response, waited in results:
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "database_busy"
            assert response.headers["Retry-After"] == "1"
            assert waited < bound_s + 3
        assert max(waited for _, waited in results) >= bound_s - 0.2

        # The stopped writer is gone (killed): writes go through again, none of the refused stored.
        deadline = time.monotonic() + 10
        while (after := post_customer("after")[0]).status_code == 503:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert after.status_code == 201
        listed = httpx.get(f"{api}/v1/customers", headers=tenant.headers, timeout=5).json()["data"]
        assert sorted(c["name"] for c in listed) == ["after", "before"]


def test_previews_compute_while_another_writer_holds_the_lock(sqlite_url: str) -> None:
    """A preview stores nothing: it reads (a WAL reader) instead of queueing for the write lock,
    and it claims no Idempotency-Key, so the key stays free for the request that stores."""
    made: dict[str, str] = {}

    def before(client: TestClient, tenant: Tenant) -> None:
        made["customer"] = create_customer(client, tenant.headers)["id"]
        made["invoice"] = create_invoice(client, tenant.headers, made["customer"], finalize=True)["id"]

    engine, app, tenant, holder = _app_and_a_writer(sqlite_url, 1000, before)
    body = {"customer_id": made["customer"], "lines": [line(quantity="2")]}
    keyed = {**tenant.headers, "Idempotency-Key": "order-7"}
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            started = time.monotonic()
            preview = client.post("/v1/invoices/preview", json=body, headers=keyed)
            credit = client.post(
                f"/v1/invoices/{made['invoice']}/credit-notes/preview", json={}, headers=tenant.headers
            )
            took = time.monotonic() - started
            assert preview.status_code == 200, preview.text
            assert preview.json()["total"] == "238.00"
            assert credit.status_code == 200, credit.text
            assert took < 0.5  # not queued behind the writer (the bound is 1 s)
    finally:
        holder.rollback()
        holder.close()
    with TestClient(app, raise_server_exceptions=False) as client:
        created = client.post("/v1/invoices", json=body, headers=keyed)
        assert created.status_code == 201, created.text  # the preview did not take the key
        assert "Idempotent-Replayed" not in created.headers
    engine.dispose()
