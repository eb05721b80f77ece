"""Database faults a client cannot fix (a full disk, an I/O error, a lost connection) are answered
with their own code and status (507, 503), never a 500 or a traceback, and leave the data intact."""

from __future__ import annotations

import errno
import resource
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from conftest import make_tenant
from faktur.db import make_engine, make_session_factory, normalise_url
from served import FAKTUR, free_port, serve_env, served


@contextmanager
def small_disk(tmp_path: Path, size_kib: int) -> Iterator[Path]:
    """A tmpfs of `size_kib` KiB mounted for the test (needs root, as in CI)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(mount)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; its removal frees the space again."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _customers_in(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return sorted(name for (name,) in connection.execute("SELECT name FROM customers"))
    finally:
        connection.close()


def _prepared_database(directory: Path, sqlite_template: Path) -> tuple[str, Path, dict[str, str]]:
    path = directory / "faktur.sqlite3"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    tenant = make_tenant(make_session_factory(engine))
    engine.dispose()
    return url, path, tenant.headers


@pytest.mark.slow
def test_a_full_disk_is_507_storage_full_and_the_database_stays_intact(
    tmp_path: Path, sqlite_template: Path
) -> None:
    with small_disk(tmp_path, 4096) as disk:
        url, path, headers = _prepared_database(disk, sqlite_template)
        with served(url) as api:
            created = [f"stored before {i}" for i in range(3)]
            for name in created:
                response = httpx.post(f"{api}/v1/customers", json={"name": name}, headers=headers)
                assert response.status_code == 201
            filler = fill(disk)
            answers = []
            for i in range(400):  # until the database needs space it has not got
                name = f"while full {i} " + "x" * 150
                response = httpx.post(f"{api}/v1/customers", json={"name": name}, headers=headers, timeout=30)
                answers.append(response.status_code)
                assert response.status_code in (201, 507), response.text
                if response.status_code == 201:
                    created.append(name)
                else:
                    error = response.json()["error"]
                    assert error["code"] == "storage_full"
                    assert "disk" in error["message"] and "full" in error["message"]
                    assert "Traceback" not in response.text
                    spec = httpx.get(f"{api}/openapi.json").json()
                    assert "507" in spec["paths"]["/v1/customers"]["post"]["responses"]
                    if answers.count(507) >= 3:
                        break
            assert 507 in answers
            # Reads and health still answer on a full disk.
            assert httpx.get(f"{api}/health").status_code == 200
            listed = httpx.get(f"{api}/v1/customers?limit=100", headers=headers)
            assert listed.status_code == 200
            filler.unlink()
            response = httpx.post(f"{api}/v1/customers", json={"name": "after"}, headers=headers)
            assert response.status_code == 201, response.text
            created.append("after")
        assert _customers_in(path) == sorted(created)


@pytest.mark.slow
def test_a_disk_io_error_is_503_database_io_error_and_the_database_stays_intact(
    tmp_path: Path, sqlite_template: Path
) -> None:
    url, path, headers = _prepared_database(tmp_path, sqlite_template)
    limit = path.stat().st_size + 64 * 1024

    def limit_file_size() -> None:
        # Writes past the limit fail with EFBIG, which SQLite reports as a disk I/O error
        # (SIGXFSZ is ignored by Python, so the server lives on).
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    created: list[str] = []
    with served(url, preexec_fn=limit_file_size) as api:
        answers = []
        for i in range(400):
            name = f"customer {i} " + "x" * 150
            response = httpx.post(f"{api}/v1/customers", json={"name": name}, headers=headers, timeout=30)
            answers.append(response.status_code)
            assert response.status_code in (201, 503), response.text
            if response.status_code == 201:
                created.append(name)
            else:
                assert response.json()["error"]["code"] == "database_io_error"
                assert response.headers["Retry-After"] == "5"
                if answers.count(503) >= 3:
                    break
        assert 503 in answers
        assert httpx.get(f"{api}/health").status_code == 200
    assert _customers_in(path) == sorted(created)


@pytest.mark.slow
def test_serve_on_a_full_disk_says_so_in_one_line(tmp_path: Path) -> None:
    with small_disk(tmp_path, 256) as disk:
        fill(disk)
        url = f"sqlite:///{disk / 'faktur.sqlite3'}"
        result = subprocess.run(
            [str(FAKTUR), "serve", "--port", str(free_port())],
            env=serve_env(url, FAKTUR_CREATE_DEMO_ORGANISATION="true"),
            capture_output=True,
            timeout=60,
        )
    output = (result.stdout + result.stderr).decode()
    assert result.returncode == 1, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "full" in lines[0] and "faktur.sqlite3" in lines[0]
    assert "Traceback" not in output


@pytest.mark.postgres_only
def test_a_postgresql_connection_lost_mid_request_is_503(backend: str, client, tenant, database_url) -> None:
    """The request's connection is terminated by the server while it waits for a lock."""
    admin = create_engine(normalise_url(database_url), isolation_level="AUTOCOMMIT")
    locker = create_engine(normalise_url(database_url))
    answer: list[httpx.Response] = []
    with locker.connect() as lock_holder:
        lock_holder.execute(text("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE"))
        request = threading.Thread(
            target=lambda: answer.append(client.get("/v1/customers", headers=tenant.headers))
        )
        request.start()
        with admin.connect() as conn:
            deadline = time.monotonic() + 20
            while True:
                pids = (
                    conn.execute(
                        text(
                            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock' AND query LIKE '%customers%'"
                        )
                    )
                    .scalars()
                    .all()
                )
                if pids:
                    break
                assert time.monotonic() < deadline, "the request never waited for the lock"
                time.sleep(0.05)
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
        request.join(timeout=30)
        lock_holder.rollback()
    admin.dispose()
    locker.dispose()
    response = answer[0]
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "2"
    assert "503" in client.get("/openapi.json").json()["paths"]["/v1/customers"]["get"]["responses"]
    assert "Traceback" not in response.text
    # The pool replaces the lost connection: the next request is answered normally.
    assert client.get("/v1/customers", headers=tenant.headers).status_code == 200
