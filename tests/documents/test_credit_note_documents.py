"""Credit note documents through the API and the CLI: `GET /v1/credit-notes/{id}/pdf|ubl|cii`, rendered
at the first request from the credit note's stored rows and the parties frozen for its invoice, stored
with their SHA-256 in credit_note_documents and served byte for byte ever after; another
organisation's credit note is 404; `faktur credit-note pdf|ubl|cii ID` writes the bytes the API serves.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from credit_note_api import cii_facts, issue_credit_note, pay, ubl_facts
from document_api import complete_seller, embedded_files, issued_invoice, pdf_text
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from conftest import Tenant
from factories import line
from faktur import config
from faktur.cli import app as cli
from faktur.db import session_scope
from faktur.documents import service
from faktur.documents.profiles import Profile, Syntax
from faktur.documents.snapshots_from_invoice import StoredTotalsMismatch
from faktur.models import CreditNote, CreditNoteDocument


@pytest.fixture
def seller(client: TestClient, tenant: Tenant) -> Tenant:
    complete_seller(client, tenant.headers)
    return tenant


def _rows(session_factory, credit_note_id: str) -> list[CreditNoteDocument]:
    with session_scope(session_factory) as session:
        stmt = select(CreditNoteDocument).where(
            CreditNoteDocument.credit_note_id == uuid.UUID(credit_note_id)
        )
        rows = session.execute(stmt.order_by(CreditNoteDocument.kind, CreditNoteDocument.profile)).scalars()
        return list(rows)


def _partial(client: TestClient, headers: dict[str, str], **customer: object) -> tuple[dict, dict]:
    invoice = issued_invoice(client, headers, customer=customer or None)
    first = invoice["lines"][0]
    note = issue_credit_note(
        client,
        headers,
        invoice["id"],
        lines=[{"invoice_line_id": first["id"], "quantity": "2.5"}],
        reason="order_change",
        memo="Two and a half hours were not worked.",
    )
    return invoice, note


def test_each_document_is_stored_once_with_its_sha256_and_served_as_stored(
    client: TestClient, seller: Tenant, session_factory
) -> None:
    invoice, note = _partial(client, seller.headers)
    served = {}
    for _ in range(2):
        for path, params in (("ubl", {}), ("cii", {}), ("pdf", {}), ("pdf", {"embed": "false"})):
            response = client.get(
                f"/v1/credit-notes/{note['id']}/{path}", params=params, headers=seller.headers
            )
            assert response.status_code == 200, response.text
            key = (path, tuple(params.items()))
            assert served.setdefault(key, response.content) == response.content
    rows = _rows(session_factory, note["id"])
    assert [(r.kind, r.profile) for r in rows] == [
        ("cii", "en16931"),
        ("facturx", "en16931"),
        ("pdf", "none"),
        ("ubl", "en16931"),
    ]
    by_kind = {r.kind: r for r in rows}
    for row in rows:
        assert row.sha256 == hashlib.sha256(row.content).hexdigest()
        assert row.organisation_id == seller.organisation_id
    assert served[("ubl", ())] == by_kind["ubl"].content
    assert served[("pdf", ())] == by_kind["facturx"].content
    assert served[("pdf", (("embed", "false"),))] == by_kind["pdf"].content
    # The Factur-X PDF embeds the stored CII byte for byte.
    assert embedded_files(by_kind["facturx"].content) == {"factur-x.xml": by_kind["cii"].content}
    # Nothing of the credit note went into the invoice's documents.
    assert client.get(f"/v1/invoices/{invoice['id']}/ubl", headers=seller.headers).status_code == 200
    assert ubl_facts(by_kind["ubl"].content)["root"] == "CreditNote"

    response = client.get(f"/v1/credit-notes/{note['id']}/ubl", headers=seller.headers)
    assert response.headers["etag"] == f'"{by_kind["ubl"].sha256}"'
    assert response.headers["content-disposition"] == f'attachment; filename="{note["number"]}.xml"'
    again = client.get(
        f"/v1/credit-notes/{note['id']}/ubl",
        headers={**seller.headers, "If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304


def test_the_documents_name_the_invoice_and_say_what_is_credited(client: TestClient, seller: Tenant) -> None:
    invoice, note = _partial(client, seller.headers)
    ubl = client.get(f"/v1/credit-notes/{note['id']}/ubl", headers=seller.headers).content
    cii = client.get(f"/v1/credit-notes/{note['id']}/cii", headers=seller.headers).content
    # 2.5 hours of 120.00 at 19 %: 300.00 + 57.00.
    assert ubl_facts(ubl) == {
        "root": "CreditNote",
        "type": "381",
        "number": note["number"],
        "preceding": (invoice["number"], invoice["issue_date"]),
        "notes": ["Grund der Korrektur: Änderung der Bestellung.", "Two and a half hours were not worked."],
        "tax_total": "57.00",
        "groups": [("S", "19", "300.00", "57.00")],
        "line_nets": ["300.00"],
        "payable": "357.00",
        "prepaid": None,
    }
    assert note["total"] == "357.00"
    assert cii_facts(cii) == {
        "type": "381",
        "number": note["number"],
        "preceding": (invoice["number"], invoice["issue_date"].replace("-", "")),
        "payable": "357.00",
    }


@pytest.mark.parametrize(
    ("locale", "full", "title"),
    [
        ("en", False, "Credit note"),
        ("de", False, "Rechnungskorrektur"),
        ("de", True, "Stornorechnung"),
        ("fr", False, "Avoir"),
        ("fr", True, "Avoir"),
    ],
)
def test_the_pdf_is_titled_in_the_buyers_language(
    client: TestClient, seller: Tenant, locale: str, full: bool, title: str
) -> None:
    invoice = issued_invoice(client, seller.headers, customer={"locale": locale})
    body = {} if full else {"lines": [{"invoice_line_id": invoice["lines"][1]["id"], "quantity": "1"}]}
    note = issue_credit_note(client, seller.headers, invoice["id"], **body)
    assert note["full_cancellation"] is full
    text = pdf_text(client.get(f"/v1/credit-notes/{note['id']}/pdf", headers=seller.headers).content)
    assert title in [text_line.strip() for text_line in text.splitlines()]
    assert invoice["number"] in text and note["number"] in text
    assert not ({"Stornorechnung", "Rechnungskorrektur"} - {title}) & set(text.split())


def test_voiding_a_paid_invoice_issues_a_stornorechnung_with_its_documents(
    client: TestClient, seller: Tenant
) -> None:
    invoice = issued_invoice(client, seller.headers)
    pay(client, seller.headers, invoice["id"], invoice["total"])
    response = client.post(
        f"/v1/invoices/{invoice['id']}/void",
        json={"reason": "Issued twice", "refund_amount": invoice["total"]},
        headers=seller.headers,
    )
    assert response.status_code == 200, response.text
    [reference] = response.json()["credit_notes"]
    text = pdf_text(client.get(f"/v1/credit-notes/{reference['id']}/pdf", headers=seller.headers).content)
    assert "Stornorechnung" in [text_line.strip() for text_line in text.splitlines()]
    facts = ubl_facts(client.get(f"/v1/credit-notes/{reference['id']}/ubl", headers=seller.headers).content)
    assert (facts["number"], facts["preceding"], facts["payable"]) == (
        reference["number"],
        (invoice["number"], invoice["issue_date"]),
        invoice["total"],
    )


def test_the_parties_are_those_frozen_for_the_invoice(client: TestClient, seller: Tenant) -> None:
    invoice, _ = _partial(client, seller.headers)
    complete_seller(client, seller.headers, legal_name="Renamed Software GmbH")
    customer_id = invoice["customer_id"]
    response = client.patch(
        f"/v1/customers/{customer_id}", json={"name": "Renamed Kunde"}, headers=seller.headers
    )
    assert response.status_code == 200, response.text
    later = issue_credit_note(
        client,
        seller.headers,
        invoice["id"],
        lines=[{"invoice_line_id": invoice["lines"][1]["id"], "quantity": "1"}],
    )
    ubl = client.get(f"/v1/credit-notes/{later['id']}/ubl", headers=seller.headers).content
    assert b"Nordlicht Software GmbH" in ubl and b"Renamed" not in ubl


def test_another_organisations_credit_note_is_not_found(
    client: TestClient, seller: Tenant, other_tenant: Tenant, session_factory
) -> None:
    _, note = _partial(client, seller.headers)
    for path in ("pdf", "ubl", "cii"):
        response = client.get(f"/v1/credit-notes/{note['id']}/{path}", headers=other_tenant.headers)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "credit_note_not_found"
        unknown = client.get(f"/v1/credit-notes/{uuid.uuid4()}/{path}", headers=seller.headers)
        assert unknown.status_code == 404
        assert client.get(f"/v1/credit-notes/not-a-uuid/{path}", headers=seller.headers).status_code == 422
    assert _rows(session_factory, note["id"]) == []


def test_refused_documents_store_nothing(client: TestClient, seller: Tenant, session_factory) -> None:
    invoice = issued_invoice(client, seller.headers, customer={"buyer_reference": None})
    note = issue_credit_note(client, seller.headers, invoice["id"])
    for path in ("ubl", "cii", "pdf"):
        response = client.get(
            f"/v1/credit-notes/{note['id']}/{path}",
            params={"profile": "xrechnung", **({"embed": "true"} if path == "pdf" else {})},
            headers=seller.headers,
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "document_data_missing"
    assert _rows(session_factory, note["id"]) == []
    # Without embed the PDF falls back to the plain one, as for invoices.
    plain = client.get(
        f"/v1/credit-notes/{note['id']}/pdf", params={"profile": "xrechnung"}, headers=seller.headers
    )
    assert (plain.status_code, plain.headers["faktur-document-kind"]) == (200, "pdf")


def test_altered_stored_bytes_and_altered_amounts_are_refused(
    client: TestClient, seller: Tenant, session_factory
) -> None:
    _, note = _partial(client, seller.headers)
    note_id = uuid.UUID(note["id"])
    assert client.get(f"/v1/credit-notes/{note['id']}/cii", headers=seller.headers).status_code == 200
    with session_scope(session_factory) as session:
        session.execute(
            update(CreditNoteDocument)
            .where(CreditNoteDocument.credit_note_id == note_id)
            .values(content=b"x")
        )
    now = datetime.now(UTC)
    with session_scope(session_factory) as session, pytest.raises(service.StoredDocumentCorrupted):
        service.get_credit_note_xml(
            session, seller.organisation_id, note_id, Syntax.CII, Profile.EN16931, now
        )
    with session_scope(session_factory) as session:
        session.execute(
            update(CreditNote).where(CreditNote.id == note_id).values(total_minor=CreditNote.total_minor + 1)
        )
    with (
        session_scope(session_factory) as session,
        pytest.raises(StoredTotalsMismatch, match="total: stored"),
    ):
        service.get_credit_note_xml(
            session, seller.organisation_id, note_id, Syntax.UBL, Profile.EN16931, now
        )


def test_a_credit_after_a_partial_payment_credits_its_total_due_at_once(
    client: TestClient, seller: Tenant
) -> None:
    invoice = issued_invoice(client, seller.headers, lines=[line("Licence", "1", "1000.00", "19")])
    pay(client, seller.headers, invoice["id"], "1000.00")
    note = issue_credit_note(
        client,
        seller.headers,
        invoice["id"],
        lines=[{"invoice_line_id": invoice["lines"][0]["id"], "amount": "400.00"}],
        refund_amount="286.00",
        refund_method="bank_transfer",
    )
    # 1190.00 invoiced, 1000.00 paid: of 400.00 + 76.00 VAT, 190.00 reduce the amount due, 286.00
    # are refunded.
    assert (note["total"], note["settlement"]["amount_due_reduction"]) == ("476.00", "190.00")
    facts = ubl_facts(client.get(f"/v1/credit-notes/{note['id']}/ubl", headers=seller.headers).content)
    # What the invoice had paid is the invoice's business: the credit note credits its whole total.
    assert (facts["payable"], facts["prepaid"]) == ("476.00", None)


@pytest.mark.postgres_only
def test_concurrent_first_requests_store_one_row_and_serve_identical_bytes(
    live_server: str, client: TestClient, seller: Tenant, session_factory
) -> None:
    _, note = _partial(client, seller.headers)
    workers = 8
    barrier = threading.Barrier(workers)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def fetch(path: str) -> None:
        with httpx.Client(base_url=live_server, headers=seller.headers, timeout=60) as http:
            barrier.wait()
            response = http.get(f"/v1/credit-notes/{note['id']}/{path}")
        with lock:
            results.append(response)

    threads = [threading.Thread(target=fetch, args=("pdf" if n % 2 else "cii",)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200] * workers
    rows = _rows(session_factory, note["id"])
    assert sorted(r.kind for r in rows) == ["cii", "facturx"]
    by_kind = {r.kind: r.content for r in rows}
    for response in results:
        kind = response.headers["faktur-document-kind"]
        assert response.content == by_kind[kind]
    assert embedded_files(by_kind["facturx"]) == {"factur-x.xml": by_kind["cii"]}
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.count()).select_from(CreditNoteDocument)) == 2


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FAKTUR_DATABASE_URL", database_url)
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
def test_cli_writes_the_documents_the_api_serves(client: TestClient, seller: Tenant, tmp_path: Path) -> None:
    _, note = _partial(client, seller.headers)
    runner = CliRunner()
    for kind in ("pdf", "ubl", "cii"):
        target = tmp_path / f"out.{kind}"
        result = runner.invoke(cli, ["credit-note", kind, note["id"], "-o", str(target)])
        assert result.exit_code == 0, result.output
        served = client.get(f"/v1/credit-notes/{note['id']}/{kind}", headers=seller.headers)
        assert target.read_bytes() == served.content
        assert hashlib.sha256(served.content).hexdigest() in result.output
    result = runner.invoke(cli, ["credit-note", "ubl", note["id"], "-o", "-", "--profile", "xrechnung"])
    assert result.exit_code == 0, result.output
    assert b"xrechnung_3.0" in result.stdout_bytes
    result = runner.invoke(
        cli, ["credit-note", "pdf", note["id"], "-o", str(tmp_path / "p.pdf"), "--no-embed"]
    )
    assert result.exit_code == 0, result.output
    assert embedded_files((tmp_path / "p.pdf").read_bytes()) == {}


@pytest.mark.usefixtures("cli_env")
def test_cli_unknown_or_malformed_credit_note(client: TestClient, seller: Tenant, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["credit-note", "ubl", str(uuid.uuid4()), "-o", str(tmp_path / "x.xml")])
    assert result.exit_code == 1
    assert "credit_note_not_found" in result.output
    result = runner.invoke(cli, ["credit-note", "ubl", "nope", "-o", str(tmp_path / "x.xml")])
    assert result.exit_code == 2
    assert "not a credit note id" in result.output
    assert not (tmp_path / "x.xml").exists()
