"""GET /v1/invoices/{id}/pdf, /ubl and /cii on invoices created through the native API."""

from __future__ import annotations

import uuid

import pytest
from document_api import complete_seller, embedded_files, issued_invoice, pdf_text
from fastapi.testclient import TestClient
from lxml import etree

from conftest import Tenant, make_tenant
from factories import create_customer, create_invoice, line
from faktur.db import session_scope
from faktur.documents.profiles import PEPPOL_CUSTOMIZATION, XRECHNUNG_CUSTOMIZATION
from faktur.models import Invoice
from official_validator import OfficialValidator


@pytest.fixture
def seller(client: TestClient, tenant: Tenant) -> Tenant:
    complete_seller(client, tenant.headers)
    return tenant


def _get(client: TestClient, tenant: Tenant, invoice_id: str, path: str, **params: str):
    return client.get(f"/v1/invoices/{invoice_id}/{path}", params=params, headers=tenant.headers)


def _customization(xml: bytes) -> str | None:
    root = etree.fromstring(xml)
    return root.findtext("{*}CustomizationID") or root.findtext(
        ".//{*}GuidelineSpecifiedDocumentContextParameter/{*}ID"
    )


def test_finalized_invoice_serves_ubl_and_cii_that_pass_the_official_rules(
    client: TestClient, seller: Tenant, official_validator: OfficialValidator
) -> None:
    invoice = issued_invoice(client, seller.headers)
    ubl = _get(client, seller, invoice["id"], "ubl")
    cii = _get(client, seller, invoice["id"], "cii")
    for response in (ubl, cii):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/xml"
        assert response.headers["content-disposition"] == f'attachment; filename="{invoice["number"]}.xml"'
    official_validator.assert_valid(ubl.content, "ubl", "en16931")
    official_validator.assert_valid(cii.content, "cii", "en16931")
    # The documents carry the invoice's own numbers.
    assert (
        etree.fromstring(ubl.content).findtext(".//{*}LegalMonetaryTotal/{*}PayableAmount")
        == invoice["total"]
    )
    assert invoice["number"].encode() in cii.content


@pytest.mark.parametrize(
    ("path", "profile", "customization"),
    [
        ("ubl", "peppol", PEPPOL_CUSTOMIZATION),
        ("ubl", "xrechnung", XRECHNUNG_CUSTOMIZATION),
        ("cii", "xrechnung", XRECHNUNG_CUSTOMIZATION),
    ],
)
def test_peppol_and_xrechnung_documents_carry_their_ids_and_pass_their_rules(
    client: TestClient,
    seller: Tenant,
    official_validator: OfficialValidator,
    path: str,
    profile: str,
    customization: str,
) -> None:
    invoice = issued_invoice(client, seller.headers)
    response = _get(client, seller, invoice["id"], path, profile=profile)
    assert response.status_code == 200, response.text
    assert _customization(response.content) == customization
    official_validator.assert_valid(response.content, path, profile)


def test_facturx_pdf_of_an_eu_seller_embeds_exactly_the_served_cii(
    client: TestClient, seller: Tenant
) -> None:
    invoice = issued_invoice(client, seller.headers)
    pdf = _get(client, seller, invoice["id"], "pdf")
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == f'attachment; filename="{invoice["number"]}.pdf"'
    assert pdf.headers["faktur-document-kind"] == "facturx"
    cii = _get(client, seller, invoice["id"], "cii")
    assert embedded_files(pdf.content) == {"factur-x.xml": cii.content}
    assert invoice["number"] in pdf_text(pdf.content)


def test_embed_false_serves_the_plain_pdf_without_attachment(client: TestClient, seller: Tenant) -> None:
    invoice = issued_invoice(client, seller.headers)
    plain = _get(client, seller, invoice["id"], "pdf", embed="false")
    assert plain.status_code == 200, plain.text
    assert plain.headers["faktur-document-kind"] == "pdf"
    assert plain.content.startswith(b"%PDF-")
    assert embedded_files(plain.content) == {}
    assert invoice["number"] in pdf_text(plain.content)


def test_xrechnung_facturx_embeds_the_xrechnung_cii(client: TestClient, seller: Tenant) -> None:
    invoice = issued_invoice(client, seller.headers)
    pdf = _get(client, seller, invoice["id"], "pdf", profile="xrechnung")
    cii = _get(client, seller, invoice["id"], "cii", profile="xrechnung")
    assert embedded_files(pdf.content)["factur-x.xml"] == cii.content
    assert _customization(cii.content) == XRECHNUNG_CUSTOMIZATION


def test_non_eu_seller_gets_the_plain_pdf_by_default(client: TestClient, session_factory) -> None:
    swiss = make_tenant(session_factory, "Alpen AG", country="CH", vat_id=None, default_currency="CHF")
    complete_seller(
        client, swiss.headers, country="CH", vat_id="CHE-116.281.710 MWST", iban="CH9300762011623852957"
    )
    invoice = issued_invoice(client, swiss.headers, customer={"country": "CH", "vat_id": None})
    pdf = _get(client, swiss, invoice["id"], "pdf")
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["faktur-document-kind"] == "pdf"
    assert embedded_files(pdf.content) == {}
    forced = _get(client, swiss, invoice["id"], "pdf", embed="true")
    assert forced.status_code == 200, forced.text
    assert forced.headers["faktur-document-kind"] == "facturx"


def test_documents_do_not_change_when_customer_and_organisation_change(
    client: TestClient, seller: Tenant
) -> None:
    invoice = issued_invoice(client, seller.headers)
    paths = [
        ("pdf", {}),
        ("pdf", {"embed": "false"}),
        ("ubl", {}),
        ("cii", {}),
        ("ubl", {"profile": "peppol"}),
    ]
    first = [_get(client, seller, invoice["id"], path, **params) for path, params in paths]
    assert all(r.status_code == 200 for r in first)

    renamed = client.patch(
        f"/v1/customers/{invoice['customer_id']}",
        json={"name": "Umbenannt GmbH", "city": "Hamburg", "postal_code": "20095", "locale": "fr"},
        headers=seller.headers,
    )
    assert renamed.status_code == 200, renamed.text
    complete_seller(client, seller.headers, legal_name="Neuer Name AG", iban="DE02120300000000202051")
    again = [_get(client, seller, invoice["id"], path, **params) for path, params in paths]

    assert [r.content for r in again] == [r.content for r in first]
    assert [r.headers["etag"] for r in again] == [r.headers["etag"] for r in first]
    assert b"Kunde AG" in again[2].content and b"Umbenannt" not in again[2].content
    assert b"Nordlicht Software GmbH" in again[3].content and b"Neuer Name" not in again[3].content


def test_first_render_uses_the_snapshot_taken_at_finalization(client: TestClient, seller: Tenant) -> None:
    """Lazy rendering must not pick up edits made between finalization and the first request."""
    invoice = issued_invoice(client, seller.headers)
    client.patch(
        f"/v1/customers/{invoice['customer_id']}", json={"name": "Later Ltd"}, headers=seller.headers
    )
    complete_seller(client, seller.headers, legal_name="Later Seller SE")
    ubl = _get(client, seller, invoice["id"], "ubl").content
    assert b"Kunde AG" in ubl and b"Later" not in ubl
    assert "Later" not in pdf_text(_get(client, seller, invoice["id"], "pdf").content)


def test_if_none_match_with_the_etag_answers_304(client: TestClient, seller: Tenant) -> None:
    invoice = issued_invoice(client, seller.headers)
    first = _get(client, seller, invoice["id"], "ubl")
    etag = first.headers["etag"]
    again = client.get(f"/v1/invoices/{invoice['id']}/ubl", headers={**seller.headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


def test_draft_pdf_is_marked_draft_has_no_number_and_is_not_cached(
    client: TestClient, seller: Tenant
) -> None:
    invoice = issued_invoice(client, seller.headers, finalize=False)
    pdf = _get(client, seller, invoice["id"], "pdf")
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-disposition"] == f'attachment; filename="draft-{invoice["id"]}.pdf"'
    assert "etag" not in pdf.headers
    assert pdf.headers["cache-control"] == "no-store"
    text = pdf_text(pdf.content)
    assert "ENTWURF" in text  # the customer's locale is de
    assert "INV-" not in text
    assert embedded_files(pdf.content) == {}


def test_draft_pdf_follows_edits_of_the_draft(client: TestClient, seller: Tenant) -> None:
    invoice = issued_invoice(client, seller.headers, finalize=False)
    before = pdf_text(_get(client, seller, invoice["id"], "pdf").content)
    edited = client.patch(
        f"/v1/invoices/{invoice['id']}",
        json={"lines": [line("Workshop Tag", "1", "900.00")]},
        headers=seller.headers,
    )
    assert edited.status_code == 200, edited.text
    after = pdf_text(_get(client, seller, invoice["id"], "pdf").content)
    assert "Workshop Tag" in after and "Workshop Tag" not in before


@pytest.mark.parametrize(("path", "params"), [("ubl", {}), ("cii", {}), ("pdf", {"embed": "true"})])
def test_e_invoice_of_a_draft_is_409_invoice_not_final(
    client: TestClient, seller: Tenant, path: str, params: dict[str, str]
) -> None:
    invoice = issued_invoice(client, seller.headers, finalize=False)
    response = _get(client, seller, invoice["id"], path, **params)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invoice_not_final"


def test_kwd_invoice_has_no_e_invoice_and_says_why(client: TestClient, seller: Tenant) -> None:
    invoice = issued_invoice(client, seller.headers, [line("Consulting", "3", "10.125")], currency="KWD")
    for path, params in (("ubl", {}), ("cii", {}), ("pdf", {"embed": "true"})):
        response = _get(client, seller, invoice["id"], path, **params)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "currency_not_supported"
        assert "KWD has 3 decimal places" in error["message"]
        assert error["details"][0]["field"] == "currency"
    # The human PDF is still there, and it is what an EU seller gets by default for KWD.
    pdf = _get(client, seller, invoice["id"], "pdf")
    assert pdf.status_code == 200
    assert pdf.headers["faktur-document-kind"] == "pdf"
    assert "30,375" in pdf_text(pdf.content) or "30.375" in pdf_text(pdf.content)


def test_xrechnung_without_buyer_reference_is_422_naming_bt10(client: TestClient, seller: Tenant) -> None:
    invoice = issued_invoice(client, seller.headers, customer={"buyer_reference": None})
    for path in ("ubl", "cii"):
        response = _get(client, seller, invoice["id"], path, profile="xrechnung")
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "document_data_missing"
        assert [d["field"] for d in error["details"]] == ["buyer_reference"]
        assert "BT-10" in error["details"][0]["reason"]
    # EN 16931 itself does not need it.
    assert _get(client, seller, invoice["id"], "ubl").status_code == 200


def test_peppol_without_electronic_addresses_lists_both(client: TestClient, tenant: Tenant) -> None:
    complete_seller(client, tenant.headers, electronic_address=None, electronic_address_scheme=None)
    invoice = issued_invoice(
        client, tenant.headers, customer={"electronic_address": None, "electronic_address_scheme": None}
    )
    response = _get(client, tenant, invoice["id"], "ubl", profile="peppol")
    assert response.status_code == 422, response.text
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"seller.electronic_address", "buyer.electronic_address"}


def test_peppol_refuses_an_e_mail_endpoint_that_xrechnung_takes(client: TestClient, seller: Tenant) -> None:
    customer = {"electronic_address": "rechnung@kunde.example", "electronic_address_scheme": "EM"}
    invoice = issued_invoice(client, seller.headers, customer=customer)
    response = _get(client, seller, invoice["id"], "ubl", profile="peppol")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "document_data_missing"
    assert [d["field"] for d in error["details"]] == ["buyer.electronic_address_scheme"]
    assert "PEPPOL-EN16931-CL008" in error["details"][0]["reason"]
    assert _get(client, seller, invoice["id"], "ubl", profile="xrechnung").status_code == 200


def test_seller_with_only_a_tax_number_gets_no_e_invoice_until_it_has_a_register_id(
    client: TestClient, tenant: Tenant
) -> None:
    complete_seller(client, tenant.headers, vat_id=None, legal_registration_id=None)
    invoice = issued_invoice(client, tenant.headers)  # S at 19 %: the tax number suffices (BR-S-02)
    for path in ("ubl", "cii"):
        response = _get(client, tenant, invoice["id"], path)
        assert response.status_code == 422, response.text
        details = response.json()["error"]["details"]
        assert [d["field"] for d in details] == ["seller.legal_registration_id"]
        assert "BR-CO-26" in details[0]["reason"]
    assert _get(client, tenant, invoice["id"], "pdf").headers["faktur-document-kind"] == "pdf"


def test_every_missing_field_is_listed_at_once(client: TestClient, tenant: Tenant) -> None:
    """A seller that only has the defaults of the test tenant: XRechnung names all that is missing."""
    customer = create_customer(client, tenant.headers, buyer_reference=None)
    invoice = create_invoice(client, tenant.headers, customer["id"], finalize=True)
    response = _get(client, tenant, invoice["id"], "ubl", profile="xrechnung")
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {
        "buyer_reference",
        "seller.electronic_address",
        "buyer.electronic_address",
        "seller.contact_name",
        "seller.contact_phone",
        "seller.contact_email",
        "seller.iban",
    } <= fields


def test_customer_without_country_is_422_for_every_document(client: TestClient, seller: Tenant) -> None:
    invoice = issued_invoice(client, seller.headers, customer={"country": None, "vat_id": None})
    for path in ("pdf", "ubl", "cii"):
        response = _get(client, seller, invoice["id"], path)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == "buyer.address.country_code"


def test_another_organisations_invoice_is_404(
    client: TestClient, seller: Tenant, other_tenant: Tenant
) -> None:
    invoice = issued_invoice(client, seller.headers)
    for path in ("pdf", "ubl", "cii"):
        response = _get(client, other_tenant, invoice["id"], path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "invoice_not_found"


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("ubl", {"profile": "zugferd"}, 422),
        ("cii", {"profile": ""}, 422),
        ("pdf", {"profile": "PEPPOL "}, 422),
        ("pdf", {"embed": "maybe"}, 422),
    ],
)
def test_bad_query_values_are_422(
    client: TestClient, seller: Tenant, path: str, params: dict[str, str], status: int
) -> None:
    invoice = issued_invoice(client, seller.headers)
    response = _get(client, seller, invoice["id"], path, **params)
    assert response.status_code == status
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("invoice_id", ["not-a-uuid", "1" * 5000, "00000000-0000-4000-8000-000000000000"])
def test_unknown_or_malformed_ids_are_4xx(client: TestClient, seller: Tenant, invoice_id: str) -> None:
    for path in ("pdf", "ubl", "cii"):
        response = _get(client, seller, invoice_id, path)
        assert response.status_code in (404, 422)
        assert "error" in response.json()


def test_documents_need_an_api_key(client: TestClient, seller: Tenant) -> None:
    invoice = issued_invoice(client, seller.headers)
    response = client.get(f"/v1/invoices/{invoice['id']}/pdf")
    assert response.status_code == 401


def test_reason_codes_outside_the_official_lists_are_422_not_invalid_xml(
    client: TestClient, seller: Tenant
) -> None:
    """The API takes any short reason code; an e-invoice needs UNCL5189 / UNCL7161 ones (BR-CL-19/20)."""
    lines = [line("Consulting", "2", "100.00", allowances=[{"amount": "5", "reason_code": "XYZ"}])]
    adjustments = [
        {"kind": "charge", "amount": "3", "reason_code": "NOPE", "tax": {"category": "S", "percent": "19"}}
    ]
    invoice = issued_invoice(client, seller.headers, lines, adjustments=adjustments)
    response = _get(client, seller, invoice["id"], "ubl")
    assert response.status_code == 422, response.text
    assert {d["field"] for d in response.json()["error"]["details"]} == {
        "lines[0].allowances[0].reason_code",
        "adjustments[0].reason_code",
    }
    assert _get(client, seller, invoice["id"], "pdf", embed="false").status_code == 200


def test_control_characters_stored_before_input_refused_them_are_422_never_500(
    client: TestClient,
    seller: Tenant,
    session_factory,
) -> None:
    """An invoice finalized with text XML cannot carry (input refuses it now) gets a clear 422 for its
    e-invoices and the Factur-X PDF, and its plain PDF still."""
    invoice = issued_invoice(client, seller.headers)
    with session_scope(session_factory) as session:
        stored = session.get(Invoice, (seller.organisation_id, uuid.UUID(invoice["id"])))
        assert stored is not None
        stored.lines[0].description = "Consulting \u0007 bell"
        stored.customer_snapshot = {**stored.customer_snapshot, "name": "Kunde \u001b AG"}
    for path, params in (("ubl", {}), ("cii", {"profile": "xrechnung"}), ("pdf", {"embed": "true"})):
        response = _get(client, seller, invoice["id"], path, **params)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "document_text_not_representable"
        assert {d["field"] for d in error["details"]} == {"lines[0].name", "buyer.legal_name"}
        assert "U+0007" in error["details"][0]["reason"] + error["details"][1]["reason"]
    for params in ({}, {"embed": "false"}):
        pdf = _get(client, seller, invoice["id"], "pdf", **params)
        assert (pdf.status_code, pdf.headers["faktur-document-kind"]) == (200, "pdf")
