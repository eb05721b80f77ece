"""The CLI as a new user meets it: listing and revoking keys, listing organisations, finding the
default database from any directory, one-line messages instead of tracebacks, a busy port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import Tenant
from factories import create_customer, create_invoice, line
from faktur import config
from faktur.cli import app as cli


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI on this backend's test database (settings are cached: cleared before and after)."""
    monkeypatch.setenv("FAKTUR_DATABASE_URL", database_url)
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def key_rows(*args: str) -> list[dict[str, str | None]]:
    result = run("key", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.usefixtures("cli_env")
def test_key_list_shows_id_prefix_created_last_use_and_revocation(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    created = run("key", "create", str(tenant.organisation_id), "--name", "second", "--json")
    assert created.exit_code == 0, created.output
    second = json.loads(created.stdout)
    assert second["key"].startswith("fk_") and second["organisation_id"] == str(tenant.organisation_id)

    rows = {row["id"]: row for row in key_rows("--org", str(tenant.organisation_id))}
    assert set(rows) == {row["id"] for row in key_rows()} - {
        row["id"] for row in key_rows("--org", str(other_tenant.organisation_id))
    }
    assert len(rows) == 2
    assert rows[second["id"]]["prefix"] == second["key"][:10]
    assert rows[second["id"]]["created_at"] is not None
    assert all(row["last_used_at"] is None and row["revoked_at"] is None for row in rows.values())

    # A change made with the second key is its last use; the first key stays unused.
    headers = {"Authorization": f"Bearer {second['key']}"}
    customer = create_customer(client, headers)
    create_invoice(client, headers, customer["id"], [line()], finalize=True)
    rows = {row["id"]: row for row in key_rows("--org", str(tenant.organisation_id))}
    assert rows[second["id"]]["last_used_at"] is not None
    assert [row["last_used_at"] for row_id, row in rows.items() if row_id != second["id"]] == [None]

    table = run("key", "list", "--org", str(tenant.organisation_id))
    assert table.exit_code == 0, table.output
    assert second["id"] in table.output and second["key"][:10] in table.output
    assert second["key"] not in table.output


@pytest.mark.usefixtures("cli_env")
def test_key_revoke_by_the_key_itself(client: TestClient, tenant: Tenant) -> None:
    assert client.get("/v1/organisation", headers=tenant.headers).status_code == 200
    result = run("key", "revoke", tenant.api_key)
    assert result.exit_code == 0, result.output
    assert "revoked key" in result.output
    response = client.get("/v1/organisation", headers=tenant.headers)
    assert response.status_code == 401
    [row] = key_rows("--org", str(tenant.organisation_id))
    assert row["revoked_at"] is not None
    assert row["id"] in result.output


@pytest.mark.usefixtures("cli_env")
def test_key_revoke_refuses_what_is_neither_an_id_nor_a_key(tenant: Tenant) -> None:
    for given, code in (("badly-formed", 2), ("fk_never_issued", 1)):
        result = run("key", "revoke", given)
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
    assert "neither a key id" in run("key", "revoke", "badly-formed").output
    assert [row["revoked_at"] for row in key_rows("--org", str(tenant.organisation_id))] == [None]


@pytest.mark.usefixtures("cli_env")
def test_org_list_shows_every_organisation(tenant: Tenant, other_tenant: Tenant) -> None:
    result = run("org", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = {row["id"]: row for row in json.loads(result.stdout)}
    assert {str(tenant.organisation_id), str(other_tenant.organisation_id)} <= set(listed)
    assert listed[str(tenant.organisation_id)]["active_keys"] == 1
    table = run("org", "list")
    assert table.exit_code == 0 and str(other_tenant.organisation_id) in table.output


def faktur(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from faktur.cli import app; app()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """A user's environment without FAKTUR_* settings, with a private home and data directory."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("FAKTUR_")}
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["COLUMNS"] = "200"
    return env


def test_cli_finds_the_same_default_database_from_any_directory(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    first, second = tmp_path / "project", tmp_path / "elsewhere"
    first.mkdir()
    second.mkdir()
    assert faktur(["migrate"], first, clean_env).returncode == 0
    created = faktur(["org", "create", "Anywhere GmbH", "--country", "DE"], first, clean_env)
    assert created.returncode == 0, created.stderr
    listed = faktur(["org", "list", "--json"], second, clean_env)
    assert listed.returncode == 0, listed.stderr
    assert [row["legal_name"] for row in json.loads(listed.stdout)] == ["Anywhere GmbH"]
    assert (tmp_path / "data" / "faktur" / "faktur.sqlite3").is_file()
    assert not (first / "var").exists() and not (second / "var").exists()
    # The service reads the same setting.
    probe = "from faktur.config import get_settings; print(get_settings().database_url)"
    served = subprocess.run(
        [sys.executable, "-c", probe], cwd=second, env=clean_env, capture_output=True, text=True, check=True
    )
    assert served.stdout.strip() == f"sqlite:///{tmp_path / 'data' / 'faktur' / 'faktur.sqlite3'}"


@pytest.mark.parametrize(
    "args",
    [["org", "list"], ["key", "list"], ["invoice", "pdf", str(uuid.uuid4()), "-o", "x.pdf"]],
    ids=["org_list", "key_list", "invoice_pdf"],
)
def test_a_missing_database_or_schema_is_one_line_saying_what_to_do(
    tmp_path: Path, clean_env: dict[str, str], args: list[str]
) -> None:
    missing = tmp_path / "nowhere" / "faktur.sqlite3"
    result = faktur(args, tmp_path, {**clean_env, "FAKTUR_DATABASE_URL": f"sqlite:///{missing}"})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "faktur migrate" in result.stderr and str(missing) in result.stderr
    assert not missing.parent.exists()

    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    result = faktur(args, tmp_path, {**clean_env, "FAKTUR_DATABASE_URL": f"sqlite:///{empty}"})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "no faktur schema" in result.stderr and "run `faktur migrate`" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_serve_on_a_busy_port_changes_nothing(tmp_path: Path, clean_env: dict[str, str]) -> None:
    database = tmp_path / "serve.sqlite3"
    env = {**clean_env, "FAKTUR_DATABASE_URL": f"sqlite:///{database}"}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = faktur(["serve", "--port", str(port)], tmp_path, env)
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stdout and "Nothing was changed" in result.stdout
    assert "API key" not in result.stdout
    assert not database.exists()


def test_serve_help_shows_the_real_defaults(clean_env: dict[str, str], tmp_path: Path) -> None:
    result = faktur(["serve", "--help"], tmp_path, clean_env)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "FAKTUR_PORT, else 8000" in text and "FAKTUR_HOST, else 127.0.0.1" in text
