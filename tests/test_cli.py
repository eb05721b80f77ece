"""The faktur command line against a temporary SQLite file: migrate, organisations and API keys.

Each command reads FAKTUR_DATABASE_URL through faktur.config.get_settings(), which is cached, so
the fixture sets the variable and clears the cache (before and after, so no other test sees it).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from faktur import config
from faktur.app import create_app
from faktur.cli import app as cli

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture
def cli_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("FAKTUR_DATABASE_URL", url)
    monkeypatch.setenv("FAKTUR_CREATE_DEMO_ORGANISATION", "false")
    config.get_settings.cache_clear()
    yield url
    config.get_settings.cache_clear()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli, list(args))


@pytest.fixture
def migrated(runner: CliRunner, cli_database_url: str) -> str:
    result = invoke(runner, "migrate")
    assert result.exit_code == 0, result.output
    return cli_database_url


def created_org(runner: CliRunner, name: str = "X GmbH") -> tuple[str, str]:
    result = invoke(runner, "org", "create", name, "--country", "DE")
    assert result.exit_code == 0, result.output
    organisation = re.search(rf"organisation ({UUID_PATTERN})", result.output)
    key = re.search(r"(fk_[A-Za-z0-9_-]+)", result.output)
    assert organisation and key, result.output
    return organisation.group(1), key.group(1)


def created_key(runner: CliRunner, organisation_id: str) -> tuple[str, str]:
    result = invoke(runner, "key", "create", organisation_id)
    assert result.exit_code == 0, result.output
    key_id = re.search(rf"key id ({UUID_PATTERN})", result.output)
    key = re.search(r"(fk_[A-Za-z0-9_-]+)", result.output)
    assert key_id and key, result.output
    return key_id.group(1), key.group(1)


@pytest.fixture
def api(migrated: str) -> Iterator[TestClient]:
    """The HTTP API on the CLI's database, configured the same way (from the environment)."""
    app = create_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.engine.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_migrate_creates_the_schema(runner: CliRunner, cli_database_url: str) -> None:
    result = invoke(runner, "migrate")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    engine = create_engine(cli_database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"alembic_version", "organisations", "api_keys", "customers", "invoices"} <= tables


def test_migrate_twice_is_a_no_op(runner: CliRunner, migrated: str) -> None:
    result = invoke(runner, "migrate")
    assert result.exit_code == 0, result.output


def test_org_create_prints_the_organisation_and_a_working_key(runner: CliRunner, api: TestClient) -> None:
    organisation_id, key = created_org(runner, "X GmbH")
    response = api.get("/v1/organisation", headers=bearer(key))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == organisation_id
    assert body["legal_name"] == "X GmbH"
    assert body["country"] == "DE"
    assert body["default_currency"] == "EUR"


def test_org_create_takes_currency_and_vat_id(runner: CliRunner, api: TestClient) -> None:
    result = invoke(
        runner, "org", "create", "Y SA", "--country", "FR", "--currency", "chf", "--vat-id", "FR40303265045"
    )
    assert result.exit_code == 0, result.output
    key = re.search(r"(fk_[A-Za-z0-9_-]+)", result.output)
    assert key
    body = api.get("/v1/organisation", headers=bearer(key.group(1))).json()
    assert (body["country"], body["default_currency"], body["vat_id"]) == ("FR", "CHF", "FR40303265045")


@pytest.mark.parametrize(
    "args",
    [
        ["--country", "XX"],
        ["--currency", "EURO"],
        ["--country", "DE", "--vat-id", "DE123456789"],
    ],
    ids=["unknown_country", "unknown_currency", "invalid_vat_id"],
)
def test_org_create_with_bad_details_fails_and_creates_nothing(
    runner: CliRunner, migrated: str, args: list[str]
) -> None:
    result = invoke(runner, "org", "create", "Z GmbH", *args)
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    engine = create_engine(migrated)
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM organisations").scalar_one()
    engine.dispose()
    assert count == 0


def test_key_create_prints_a_key_that_authenticates(runner: CliRunner, api: TestClient) -> None:
    organisation_id, _ = created_org(runner)
    key_id, key = created_key(runner, organisation_id)
    response = api.get("/v1/organisation", headers=bearer(key))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == organisation_id
    assert key_id != organisation_id


def test_each_key_create_prints_a_new_key(runner: CliRunner, api: TestClient) -> None:
    organisation_id, first = created_org(runner)
    _, second = created_key(runner, organisation_id)
    _, third = created_key(runner, organisation_id)
    assert len({first, second, third}) == 3
    for key in (first, second, third):
        assert api.get("/v1/organisation", headers=bearer(key)).status_code == 200


def test_key_revoke_makes_the_key_fail_with_401(runner: CliRunner, api: TestClient) -> None:
    organisation_id, first = created_org(runner)
    key_id, key = created_key(runner, organisation_id)
    assert api.get("/v1/organisation", headers=bearer(key)).status_code == 200

    result = invoke(runner, "key", "revoke", key_id)
    assert result.exit_code == 0, result.output
    assert "revoked" in result.output

    response = api.get("/v1/organisation", headers=bearer(key))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    # Only that key: the organisation's first key still works.
    assert api.get("/v1/organisation", headers=bearer(first)).status_code == 200


def test_key_revoke_twice_still_succeeds(runner: CliRunner, api: TestClient) -> None:
    organisation_id, _ = created_org(runner)
    key_id, key = created_key(runner, organisation_id)
    assert invoke(runner, "key", "revoke", key_id).exit_code == 0
    again = invoke(runner, "key", "revoke", key_id)
    assert again.exit_code == 0, again.output
    assert api.get("/v1/organisation", headers=bearer(key)).status_code == 401


def test_key_create_for_unknown_organisation_exits_1_with_a_message(runner: CliRunner, migrated: str) -> None:
    unknown = str(uuid.uuid4())
    result = invoke(runner, "key", "create", unknown)
    assert result.exit_code == 1
    assert "No organisation" in result.output
    assert unknown in result.output.replace("\n", "")
    assert "fk_" not in result.output


def test_key_create_with_malformed_organisation_id_exits_1(runner: CliRunner, migrated: str) -> None:
    result = invoke(runner, "key", "create", "not-a-uuid")
    assert result.exit_code == 1
    assert result.output.strip()
    assert "fk_" not in result.output


def test_key_revoke_unknown_key_exits_1_with_a_message(runner: CliRunner, migrated: str) -> None:
    unknown = str(uuid.uuid4())
    result = invoke(runner, "key", "revoke", unknown)
    assert result.exit_code == 1
    assert "No API key" in result.output


def test_key_revoke_does_not_revoke_by_organisation_id(runner: CliRunner, api: TestClient) -> None:
    organisation_id, key = created_org(runner)
    result = invoke(runner, "key", "revoke", organisation_id)
    assert result.exit_code == 1
    assert api.get("/v1/organisation", headers=bearer(key)).status_code == 200
