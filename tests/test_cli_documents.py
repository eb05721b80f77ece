"""`faktur invoice pdf|ubl|cii ID -o FILE` against the test database: the same bytes the API serves."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import Tenant
from documents.document_api import complete_seller, embedded_files, issued_invoice
from faktur import config
from faktur.cli import app as cli


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the CLI (which reads cached settings) at the test database of this backend."""
    monkeypatch.setenv("FAKTUR_DATABASE_URL", database_url)
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


@pytest.fixture
def seller(client: TestClient, tenant: Tenant) -> Tenant:
    complete_seller(client, tenant.headers)
    return tenant


def _run(*args: str):
    return CliRunner().invoke(cli, ["invoice", *args])


@pytest.mark.usefixtures("cli_env")
def test_cli_writes_the_documents_the_api_serves(client: TestClient, seller: Tenant, tmp_path: Path) -> None:
    invoice = issued_invoice(client, seller.headers)
    for kind in ("pdf", "ubl", "cii"):
        target = tmp_path / f"out.{kind}"
        result = _run(kind, invoice["id"], "-o", str(target))
        assert result.exit_code == 0, result.output
        served = client.get(f"/v1/invoices/{invoice['id']}/{kind}", headers=seller.headers)
        assert target.read_bytes() == served.content
        assert hashlib.sha256(served.content).hexdigest() in result.output
    # The PDF of an EU seller is Factur-X; the CLI stored the CII it embeds first.
    assert embedded_files((tmp_path / "out.pdf").read_bytes()) == {
        "factur-x.xml": (tmp_path / "out.cii").read_bytes()
    }


@pytest.mark.usefixtures("cli_env")
def test_cli_profile_and_plain_pdf_options(client: TestClient, seller: Tenant, tmp_path: Path) -> None:
    invoice = issued_invoice(client, seller.headers)
    result = _run("ubl", invoice["id"], "-o", str(tmp_path / "x.xml"), "--profile", "xrechnung")
    assert result.exit_code == 0, result.output
    assert b"xrechnung_3.0" in (tmp_path / "x.xml").read_bytes()
    result = _run("pdf", invoice["id"], "-o", str(tmp_path / "plain.pdf"), "--no-embed")
    assert result.exit_code == 0, result.output
    assert embedded_files((tmp_path / "plain.pdf").read_bytes()) == {}


@pytest.mark.usefixtures("cli_env")
def test_cli_writes_to_standard_output(client: TestClient, seller: Tenant) -> None:
    invoice = issued_invoice(client, seller.headers)
    result = _run("cii", invoice["id"], "-o", "-")
    assert result.exit_code == 0
    assert (
        result.stdout_bytes == client.get(f"/v1/invoices/{invoice['id']}/cii", headers=seller.headers).content
    )


@pytest.mark.usefixtures("cli_env")
def test_cli_draft_has_a_pdf_but_no_xml(client: TestClient, seller: Tenant, tmp_path: Path) -> None:
    invoice = issued_invoice(client, seller.headers, finalize=False)
    result = _run("pdf", invoice["id"], "-o", str(tmp_path / "draft.pdf"))
    assert result.exit_code == 0, result.output
    assert "draft, not stored" in result.output
    assert (tmp_path / "draft.pdf").read_bytes().startswith(b"%PDF-")
    result = _run("ubl", invoice["id"], "-o", str(tmp_path / "draft.xml"))
    assert result.exit_code == 1
    assert "invoice_not_final" in result.output
    assert not (tmp_path / "draft.xml").exists()


@pytest.mark.usefixtures("cli_env")
def test_cli_lists_missing_fields_and_writes_nothing(
    client: TestClient, seller: Tenant, tmp_path: Path
) -> None:
    invoice = issued_invoice(client, seller.headers, customer={"buyer_reference": None})
    target = tmp_path / "x.xml"
    result = _run("cii", invoice["id"], "-o", str(target), "--profile", "xrechnung")
    assert result.exit_code == 1
    assert "document_data_missing" in result.output
    assert "buyer_reference" in result.output
    assert not target.exists()


@pytest.mark.usefixtures("cli_env")
def test_cli_unknown_and_malformed_ids(tmp_path: Path, tenant: Tenant) -> None:
    unknown = _run("pdf", str(uuid.uuid4()), "-o", str(tmp_path / "x.pdf"))
    assert unknown.exit_code == 1
    assert "invoice_not_found" in unknown.output
    malformed = _run("pdf", "INV-2026-00001", "-o", str(tmp_path / "x.pdf"))
    assert malformed.exit_code == 2
    assert "not an invoice id" in malformed.output
    bad_profile = _run("ubl", str(uuid.uuid4()), "-o", str(tmp_path / "x.xml"), "--profile", "zugferd")
    assert bad_profile.exit_code == 2
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "x.xml").exists()


@pytest.mark.usefixtures("cli_env")
def test_cli_pdf_with_a_profile_the_invoice_cannot_meet_is_an_error(
    client: TestClient, seller: Tenant, tmp_path: Path
) -> None:
    invoice = issued_invoice(client, seller.headers, customer={"buyer_reference": None})
    target = tmp_path / "x.pdf"
    result = _run("pdf", invoice["id"], "-o", str(target), "--profile", "xrechnung")
    assert result.exit_code == 1
    assert "document_data_missing" in result.output and "buyer_reference" in result.output
    assert not target.exists()
    # Without a profile the same invoice still gets its PDF (Factur-X en16931).
    result = _run("pdf", invoice["id"], "-o", str(target))
    assert result.exit_code == 0, result.output
    assert "factur-x.xml" in embedded_files(target.read_bytes())


@pytest.mark.usefixtures("cli_env")
def test_cli_pdf_with_a_profile_and_no_embed_is_refused(
    client: TestClient, seller: Tenant, tmp_path: Path
) -> None:
    invoice = issued_invoice(client, seller.headers)
    result = _run("pdf", invoice["id"], "-o", str(tmp_path / "x.pdf"), "--profile", "peppol", "--no-embed")
    assert result.exit_code == 2
    assert not (tmp_path / "x.pdf").exists()
