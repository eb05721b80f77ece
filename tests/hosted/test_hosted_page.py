"""The hosted invoice page over HTTP: what it shows, what it hides, its headers, its documents, its token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, create_invoice, line

IBAN = "DE89370400440532013000"


def issued_invoice(client: TestClient, tenant: Tenant, locale: str = "de", **customer: Any) -> dict[str, Any]:
    response = client.patch(
        "/v1/organisation",
        json={"iban": IBAN, "bic": "COBADEFFXXX", "email": "billing@seller.example"},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    buyer = create_customer(client, tenant.headers, locale=locale, **customer)
    return create_invoice(
        client, tenant.headers, buyer["id"], lines=[line("Beratung", "2", "50.00")], finalize=True
    )


def page_path(invoice: dict[str, Any]) -> str:
    url = invoice["hosted_url"]
    assert url and url.startswith("http://testserver/hosted/invoices/"), url
    return url.removeprefix("http://testserver")


def test_drafts_have_no_hosted_url_and_issued_invoices_do(client: TestClient, tenant: Tenant) -> None:
    buyer = create_customer(client, tenant.headers)
    draft = create_invoice(client, tenant.headers, buyer["id"])
    assert draft["hosted_url"] is None
    finalized = client.post(f"/v1/invoices/{draft['id']}/finalize", headers=tenant.headers).json()
    token = page_path(finalized).rsplit("/", 1)[1]
    assert len(token) >= 43
    again = client.get(f"/v1/invoices/{draft['id']}", headers=tenant.headers).json()
    assert again["hosted_url"] == finalized["hosted_url"]


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", ["Invoice", "Amount due", "Download PDF", "Bill to"]),
        ("de", ["Rechnung", "Zahlbetrag", "PDF herunterladen", "Rechnungsempfänger"]),
        ("fr", ["Facture", "PDF", "Télécharger"]),
    ],
)
def test_the_page_shows_the_invoice_in_the_customers_language(
    client: TestClient, tenant: Tenant, locale: str, words: list[str]
) -> None:
    invoice = issued_invoice(client, tenant, locale=locale)
    response = client.get(page_path(invoice))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert f'<html lang="{locale}">' in html
    for word in words:
        assert word in html, word
    assert invoice["number"] in html
    assert "Seller GmbH" in html and "Kunde AG" in html and "Beratung" in html
    assert "119" in html  # total and amount due
    assert 'id="giro-code"' in html and "<svg" in html
    assert "<script" not in html


def test_the_page_reveals_no_ids(client: TestClient, tenant: Tenant) -> None:
    invoice = issued_invoice(client, tenant)
    html = client.get(page_path(invoice)).text
    for secret in (invoice["id"], invoice["customer_id"], str(tenant.organisation_id), tenant.api_key):
        assert secret not in html
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", html)


def test_the_page_is_private_noindex_and_locked_down(client: TestClient, tenant: Tenant) -> None:
    invoice = issued_invoice(client, tenant)
    for path in (page_path(invoice), page_path(invoice) + "/pdf", "/hosted/invoices/wrong"):
        headers = client.get(path).headers
        assert headers["cache-control"].startswith("private"), path
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert "noindex" in headers["x-robots-tag"]
        assert headers["referrer-policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in client.get(page_path(invoice)).text


def test_downloads_return_the_stored_documents(client: TestClient, tenant: Tenant) -> None:
    invoice = issued_invoice(client, tenant)
    pdf = client.get(page_path(invoice) + "/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xml = client.get(page_path(invoice) + "/xml")
    assert xml.status_code == 200 and b"<Invoice" in xml.content
    api_pdf = client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=tenant.headers)
    api_xml = client.get(f"/v1/invoices/{invoice['id']}/ubl", headers=tenant.headers)
    assert pdf.content == api_pdf.content
    assert xml.content == api_xml.content


def test_a_wrong_or_rotated_token_is_the_not_found_page(client: TestClient, tenant: Tenant) -> None:
    invoice = issued_invoice(client, tenant)
    old = page_path(invoice)
    rotated = client.post(f"/v1/invoices/{invoice['id']}/hosted-link/rotate", headers=tenant.headers)
    assert rotated.status_code == 200, rotated.text
    new = page_path(rotated.json())
    assert new != old
    assert client.get(new).status_code == 200
    for path in (
        old,
        old + "/pdf",
        old + "/xml",
        old[:-1],
        "/hosted/invoices/x",
        "/hosted/invoices/" + "a" * 500,
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]
        assert invoice["number"] not in response.text
    assert (
        client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()["hosted_url"].endswith(new)
    )


def test_a_drafts_token_opens_nothing(client: TestClient, tenant: Tenant, session_factory: Any) -> None:
    from faktur.db import session_scope
    from faktur.models import Invoice

    buyer = create_customer(client, tenant.headers)
    draft = create_invoice(client, tenant.headers, buyer["id"])
    with session_scope(session_factory) as session:
        token = session.get(
            Invoice, (tenant.organisation_id, __import__("uuid").UUID(draft["id"]))
        ).hosted_token
    assert token
    assert client.get(f"/hosted/invoices/{tenant.organisation_id}/{token}").status_code == 404
    rotate = client.post(f"/v1/invoices/{draft['id']}/hosted-link/rotate", headers=tenant.headers)
    assert rotate.status_code == 409 and rotate.json()["error"]["code"] == "invoice_not_final"


def test_no_qr_code_for_other_currencies_or_paid_invoices(client: TestClient, tenant: Tenant) -> None:
    invoice = issued_invoice(client, tenant)
    paid = client.post(
        f"/v1/invoices/{invoice['id']}/payments",
        json={"amount": "119.00", "paid_on": "2026-01-05"},
        headers=tenant.headers,
    )
    assert paid.status_code == 201, paid.text
    html = client.get(page_path(invoice)).text
    assert 'id="giro-code"' not in html
    buyer = create_customer(client, tenant.headers, currency="USD")
    usd = create_invoice(client, tenant.headers, buyer["id"], currency="USD", finalize=True)
    assert 'id="giro-code"' not in client.get(page_path(usd)).text


def test_the_not_found_page_speaks_the_readers_language(client: TestClient) -> None:
    german = client.get("/hosted/invoices/nothing", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"})
    assert german.status_code == 404 and "Rechnung nicht gefunden" in german.text
    french = client.get("/hosted/invoices/nothing", headers={"Accept-Language": "it, fr;q=0.5"})
    assert "Facture introuvable" in french.text
    assert "Invoice not found" in client.get("/hosted/invoices/nothing").text
