"""The EN 16931 fields of issue 13 through the API: delivery date (BT-72), invoicing period (BG-14),
deliver-to party (BG-13), payment means beyond credit transfer (BG-18, BG-19) and the prepaid amount
(BT-113). Each is stored, frozen at finalization, rendered in UBL and CII, and every document passes
the official rule sets of its profile (../shared/einvoice-validator) with zero fatal findings."""

from __future__ import annotations

from typing import Any

import pytest
from document_api import BUYER_DETAILS, complete_seller, embedded_files
from fastapi.testclient import TestClient
from lxml import etree

from conftest import Tenant
from factories import create_customer, create_invoice, line
from official_validator import OfficialValidator
from recurring_factories import billed, create_contract, flat

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
# Every e-invoice faktur serves: (syntax, profile). Peppol is UBL only.
DOCUMENTS = [
    ("ubl", "en16931"),
    ("cii", "en16931"),
    ("ubl", "peppol"),
    ("ubl", "xrechnung"),
    ("cii", "xrechnung"),
]
CREDITOR_ID = "DE98ZZZ09999999999"
DEBITED_IBAN = "DE02120300000000202051"
# Peppol accepts no e-mail endpoints (EAS "EM"): buyers here are addressed by their VAT id.
PEPPOL_BUYER = {**BUYER_DETAILS, "electronic_address": "DE123456788", "electronic_address_scheme": "9930"}
DIRECT_DEBIT = {
    "method": "sepa_direct_debit",
    "mandate_reference": "MANDATE-2026-001",
    "debited_iban": DEBITED_IBAN,
}
O_TAX = {"category": "O", "percent": "0"}
SERVICE_PERIOD = {"period_start": "2026-02-01", "period_end": "2026-03-01"}
DELIVER_TO = {
    "name": "Kunde AG, Lager Nord",
    "address_line1": "Lagerweg 3",
    "city": "Hamburg",
    "postal_code": "20095",
    "country": "DE",
}


@pytest.fixture
def seller(client: TestClient, tenant: Tenant) -> Tenant:
    complete_seller(
        client,
        tenant.headers,
        sepa_creditor_id=CREDITOR_ID,
        register_court="Amtsgericht Charlottenburg",
        register_number="HRB 123456 B",
        managing_directors="Jana Vogel, Tom Berger",
    )
    return tenant


def _xml(client: TestClient, tenant: Tenant, invoice_id: str, syntax: str, profile: str) -> bytes:
    response = client.get(
        f"/v1/invoices/{invoice_id}/{syntax}", params={"profile": profile}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return response.content


def _passes_everywhere(
    client: TestClient, tenant: Tenant, validator: OfficialValidator, invoice_id: str
) -> dict[tuple[str, str], Any]:
    """Every profile's document of the invoice, each checked with the official rules (and every layer
    its profile needs); parsed."""
    parsed = {}
    for syntax, profile in DOCUMENTS:
        xml = _xml(client, tenant, invoice_id, syntax, profile)
        validator.assert_valid(xml, syntax, profile)
        parsed[syntax, profile] = etree.fromstring(xml)
    for profile in ("en16931", "xrechnung"):
        pdf = client.get(
            f"/v1/invoices/{invoice_id}/pdf",
            params={"profile": profile, "embed": "true"},
            headers=tenant.headers,
        )
        assert pdf.status_code == 200, pdf.text
        (embedded,) = embedded_files(pdf.content).values()
        validator.assert_valid(embedded, "cii", profile, f"the CII in the Factur-X PDF ({profile})")
    return parsed


def _text(root: Any, path: str) -> list[str]:
    return [element.text for element in root.xpath(path, namespaces=NS)]


def test_delivery_period_deliver_to_and_direct_debit_round_trip_and_pass_every_profile(
    client: TestClient, seller: Tenant, official_validator: OfficialValidator
) -> None:
    customer = create_customer(client, seller.headers, **PEPPOL_BUYER, payment_means=DIRECT_DEBIT)
    assert customer["payment_means"] == DIRECT_DEBIT
    fields = {"delivery_date": "2026-03-02", **SERVICE_PERIOD, "deliver_to": DELIVER_TO}
    created = create_invoice(client, seller.headers, customer["id"], finalize=True, **fields)
    stored = client.get(f"/v1/invoices/{created['id']}", headers=seller.headers).json()
    for invoice in (created, stored):
        assert {name: invoice[name] for name in fields} == fields
        assert invoice["payment_means"] is None  # the customer's default applies
        assert invoice["customer"]["payment_means"] == DIRECT_DEBIT  # frozen with the customer

    documents = _passes_everywhere(client, seller, official_validator, created["id"])
    for profile in ("en16931", "peppol", "xrechnung"):
        ubl = documents["ubl", profile]
        assert _text(ubl, "cac:Delivery/cbc:ActualDeliveryDate") == ["2026-03-02"]
        assert _text(ubl, "cac:InvoicePeriod/cbc:StartDate") == ["2026-02-01"]
        assert _text(ubl, "cac:InvoicePeriod/cbc:EndDate") == ["2026-02-28"]  # the last day (BT-74)
        assert _text(ubl, "cac:Delivery/cac:DeliveryParty/cac:PartyName/cbc:Name") == [DELIVER_TO["name"]]
        assert _text(ubl, "cac:Delivery/cac:DeliveryLocation/cac:Address/cbc:CityName") == ["Hamburg"]
        assert _text(ubl, "cac:PaymentMeans/cbc:PaymentMeansCode") == ["59"]
        assert _text(ubl, "cac:PaymentMeans/cac:PaymentMandate/cbc:ID") == ["MANDATE-2026-001"]
        assert _text(ubl, "cac:PaymentMeans/cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID") == [
            DEBITED_IBAN
        ]
        assert _text(
            ubl, "cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID[@schemeID='SEPA']"
        ) == [CREDITOR_ID]
        # A direct debit is not a transfer: the seller's own account is not offered (BR-DE-25-b).
        assert _text(ubl, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == []
    for profile in ("en16931", "xrechnung"):
        cii = documents["cii", profile]
        settlement = "//ram:ApplicableHeaderTradeSettlement"
        assert _text(cii, "//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString") == ["20260302"]
        assert _text(cii, f"{settlement}/ram:BillingSpecifiedPeriod/ram:EndDateTime/udt:DateTimeString") == [
            "20260228"
        ]
        assert _text(cii, "//ram:ShipToTradeParty/ram:Name") == [DELIVER_TO["name"]]
        assert _text(cii, f"{settlement}/ram:CreditorReferenceID") == [CREDITOR_ID]
        assert _text(cii, f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID") == [
            "MANDATE-2026-001"
        ]
        assert _text(cii, "//ram:PayerPartyDebtorFinancialAccount/ram:IBANID") == [DEBITED_IBAN]
        assert _text(cii, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == []


def test_a_card_paying_buyer_gets_xrechnung_from_a_seller_without_iban(
    client: TestClient, seller: Tenant, official_validator: OfficialValidator
) -> None:
    complete_seller(client, seller.headers, iban=None, bic=None)
    customer = create_customer(client, seller.headers, **PEPPOL_BUYER)
    transfer = create_invoice(client, seller.headers, customer["id"], finalize=True)
    refused = client.get(
        f"/v1/invoices/{transfer['id']}/ubl", params={"profile": "xrechnung"}, headers=seller.headers
    )
    assert refused.status_code == 422
    assert [d["field"] for d in refused.json()["error"]["details"]] == ["seller.iban"]

    card = {
        "method": "credit_card",
        "card_last_digits": "4242",
        "card_holder": "Max Kunde",
        "card_network": "VISA",
    }
    invoice = create_invoice(client, seller.headers, customer["id"], finalize=True, payment_means=card)
    assert invoice["payment_means"] == card
    documents = _passes_everywhere(client, seller, official_validator, invoice["id"])
    ubl, cii = documents["ubl", "xrechnung"], documents["cii", "xrechnung"]
    assert _text(ubl, "cac:PaymentMeans/cbc:PaymentMeansCode") == ["54"]
    assert _text(ubl, "cac:PaymentMeans/cac:CardAccount/cbc:PrimaryAccountNumberID") == ["4242"]
    assert _text(ubl, "cac:PaymentMeans/cac:CardAccount/cbc:HolderName") == ["Max Kunde"]
    assert _text(cii, "//ram:ApplicableTradeSettlementFinancialCard/ram:ID") == ["4242"]


def test_bank_card_is_code_48_and_the_invoice_overrides_the_customer_default(
    client: TestClient, seller: Tenant, official_validator: OfficialValidator
) -> None:
    customer = create_customer(client, seller.headers, **PEPPOL_BUYER, payment_means=DIRECT_DEBIT)
    card = {"method": "bank_card", "card_last_digits": "0005"}
    invoice = create_invoice(client, seller.headers, customer["id"], finalize=True, payment_means=card)
    documents = _passes_everywhere(client, seller, official_validator, invoice["id"])
    ubl = documents["ubl", "peppol"]
    assert _text(ubl, "cac:PaymentMeans/cbc:PaymentMeansCode") == ["48"]
    assert _text(ubl, "cac:PaymentMeans/cac:CardAccount/cbc:NetworkID") == ["NA"]
    assert _text(ubl, "cac:PaymentMeans/cac:PaymentMandate/cbc:ID") == []


def test_category_k_with_delivery_date_and_deliver_to_passes_every_profile(
    client: TestClient, seller: Tenant, official_validator: OfficialValidator
) -> None:
    buyer = {
        **BUYER_DETAILS,
        "name": "Client SARL",
        "address_line1": "12 rue de la Paix",
        "city": "Paris",
        "postal_code": "75002",
        "country": "FR",
        "vat_id": "FR40303265045",
        "locale": "fr",
        "electronic_address": "FR40303265045",
        "electronic_address_scheme": "9957",
    }
    customer = create_customer(client, seller.headers, **buyer)
    k_line = line(
        "Industrial pump",
        "2",
        "1250.00",
        "0",
        category="K",
        tax={
            "category": "K",
            "percent": "0",
            "exemption_reason": "Intra-community supply",
            "exemption_reason_code": "VATEX-EU-IC",
        },
    )
    deliver_to = {
        "name": "Client SARL, entrepôt",
        "address_line1": "5 quai de Seine",
        "city": "Rouen",
        "country": "FR",
    }
    body = {"customer_id": customer["id"], "lines": [k_line], "finalize": True}

    missing = client.post("/v1/invoices", json=body, headers=seller.headers)
    assert missing.status_code == 422, missing.text
    assert {d["field"] for d in missing.json()["error"]["details"]} == {"delivery_date", "deliver_to.country"}

    invoice = create_invoice(
        client,
        seller.headers,
        customer["id"],
        [k_line],
        finalize=True,
        delivery_date="2026-03-05",
        deliver_to=deliver_to,
    )
    refused = client.get(
        f"/v1/invoices/{invoice['id']}/ubl", params={"profile": "xrechnung"}, headers=seller.headers
    )
    assert refused.status_code == 422, refused.text
    assert [d["field"] for d in refused.json()["error"]["details"]] == ["deliver_to.postal_code"]  # BR-DE-11

    deliver_to["postal_code"] = "76000"
    invoice = create_invoice(
        client,
        seller.headers,
        customer["id"],
        [k_line],
        finalize=True,
        delivery_date="2026-03-05",
        deliver_to=deliver_to,
    )
    documents = _passes_everywhere(client, seller, official_validator, invoice["id"])
    for syntax, profile in DOCUMENTS:
        root = documents[syntax, profile]
        if syntax == "ubl":
            assert _text(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == ["K"]
            assert _text(
                root, "cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode"
            ) == ["FR"]
        else:
            assert _text(root, "//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID") == ["FR"]


def test_an_imported_paid_amount_is_prepaid_and_reduces_the_amount_due(
    client: TestClient, seller: Tenant, official_validator: OfficialValidator
) -> None:
    customer = create_customer(client, seller.headers, **PEPPOL_BUYER)
    invoice = create_invoice(client, seller.headers, customer["id"])  # a draft, to compare totals with
    body = {
        "reference_id": "INV-W-1",
        "order_id": "ORD-W-1",
        "invoice_number": "WIZ-2025-0001",
        "total_amount": 269.96,
        "paid_amount": 100,
        "status": "PARTIALLY_PAID",
        "due_date": "2025-01-31T00:00:00Z",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "items": [
            {"reference_id": "ITEM-1", "sku": "SKU-1", "quantity": 2, "amount": 99.99, "name": "Boots"},
            {"reference_id": "ITEM-2", "sku": "SKU-2", "quantity": 1, "amount": 69.98, "name": "Socks"},
        ],
    }
    order = {
        "customer_id": customer["id"],
        "currency": "EUR",
        "external_reference": "ORD-W-1",
        "created_at": "2024-12-30T09:00:00Z",
        # The import uses up the order's quantities: the order holds what its items bill.
        "lines": [
            {"name": "Boots", "sku": "SKU-1", "quantity": "2", "unit_price": "99.99", "tax": O_TAX},
            {"name": "Socks", "sku": "SKU-2", "quantity": "1", "unit_price": "69.98", "tax": O_TAX},
        ],
    }
    assert client.post("/v1/orders", json=order, headers=seller.headers).status_code == 201
    response = client.post(
        "/compat/wizcommerce/v1/invoices", json=body, headers={"X-API-Key": seller.api_key}
    )
    assert response.status_code == 201, response.text
    imported = client.get(f"/v1/invoices/{response.json()['data']['id']}", headers=seller.headers).json()
    assert (imported["total"], imported["prepaid_amount"], imported["amount_due"]) == (
        "269.96",
        "100.00",
        "169.96",
    )
    assert invoice["prepaid_amount"] == "0.00"

    # WizCommerce lines are category O (not subject to VAT); every profile of such an import is in
    # the corpus (test_doc_official_corpus.py); here: the prepaid amount in EN 16931.
    for syntax in ("ubl", "cii"):
        xml = _xml(client, seller, imported["id"], syntax, "en16931")
        official_validator.assert_valid(xml, syntax, "en16931")
        root = etree.fromstring(xml)
        if syntax == "ubl":
            assert _text(root, "cac:LegalMonetaryTotal/cbc:PrepaidAmount") == ["100.00"]
            assert _text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == ["169.96"]
        else:
            assert _text(root, "//ram:TotalPrepaidAmount") == ["100.00"]
            assert _text(root, "//ram:DuePayableAmount") == ["169.96"]


def test_a_contract_period_invoice_carries_its_period_and_keeps_it(
    client: TestClient, seller: Tenant
) -> None:
    customer = create_customer(client, seller.headers, **PEPPOL_BUYER)
    contract = create_contract(client, seller.headers, [flat()], customer_id=customer["id"])
    invoice = billed(client, seller.headers, contract["id"], "2024-01-01", "2024-02-01")
    moved = client.patch(
        f"/v1/invoices/{invoice['id']}",
        json={"period_start": "2024-03-01", "period_end": "2024-04-01"},
        headers=seller.headers,
    )
    assert moved.status_code == 409, moved.text
    assert moved.json()["error"]["code"] == "invoice_period_locked"
    if invoice["status"] == "draft":
        assert (
            client.post(f"/v1/invoices/{invoice['id']}/finalize", headers=seller.headers).status_code == 200
        )
    ubl = etree.fromstring(_xml(client, seller, invoice["id"], "ubl", "en16931"))
    assert _text(ubl, "cac:InvoicePeriod/cbc:StartDate") == ["2024-01-01"]
    assert _text(ubl, "cac:InvoicePeriod/cbc:EndDate") == ["2024-01-31"]


def test_draft_fields_are_patched_and_cleared(client: TestClient, seller: Tenant) -> None:
    customer = create_customer(client, seller.headers)
    draft = create_invoice(client, seller.headers, customer["id"])
    url = f"/v1/invoices/{draft['id']}"
    patch = {
        "delivery_date": "2026-01-15",
        **SERVICE_PERIOD,
        "deliver_to": {"name": "Site B"},
        "payment_means": DIRECT_DEBIT,
    }
    patched = client.patch(url, json=patch, headers=seller.headers)
    assert patched.status_code == 200, patched.text
    assert {name: patched.json()[name] for name in patch} == patch
    untouched = client.patch(url, json={"memo": "Thanks"}, headers=seller.headers).json()
    assert {name: untouched[name] for name in patch} == patch
    cleared = client.patch(
        url,
        json={
            "delivery_date": None,
            "period_start": None,
            "period_end": None,
            "deliver_to": None,
            "payment_means": None,
        },
        headers=seller.headers,
    ).json()
    assert [cleared[name] for name in patch] == [None] * 5


def test_documents_keep_the_payment_means_frozen_at_finalization(client: TestClient, seller: Tenant) -> None:
    customer = create_customer(client, seller.headers, **PEPPOL_BUYER, payment_means=DIRECT_DEBIT)
    invoice = create_invoice(client, seller.headers, customer["id"], finalize=True)
    card = {"method": "credit_card", "card_last_digits": "4242"}
    changed = client.patch(
        f"/v1/customers/{customer['id']}", json={"payment_means": card}, headers=seller.headers
    )
    assert changed.status_code == 200 and changed.json()["payment_means"] == card
    assert (
        client.patch("/v1/organisation", json={"sepa_creditor_id": None}, headers=seller.headers).status_code
        == 200
    )
    ubl = etree.fromstring(
        _xml(client, seller, invoice["id"], "ubl", "xrechnung")
    )  # first render: after the edits
    assert _text(ubl, "cac:PaymentMeans/cbc:PaymentMeansCode") == ["59"]
    assert _text(ubl, "cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID") == [CREDITOR_ID]


def test_direct_debit_needs_the_creditor_id_and_euro_at_finalization(
    client: TestClient, seller: Tenant
) -> None:
    customer = create_customer(client, seller.headers, payment_means=DIRECT_DEBIT)
    assert (
        client.patch("/v1/organisation", json={"sepa_creditor_id": None}, headers=seller.headers).status_code
        == 200
    )
    draft = create_invoice(client, seller.headers, customer["id"])
    refused = client.post(f"/v1/invoices/{draft['id']}/finalize", headers=seller.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "sepa_creditor_id_missing"
    assert client.get(f"/v1/invoices/{draft['id']}", headers=seller.headers).json()["status"] == "draft"

    complete_seller(client, seller.headers, sepa_creditor_id=CREDITOR_ID)
    dollars = create_invoice(client, seller.headers, customer["id"], currency="USD")
    refused = client.post(f"/v1/invoices/{dollars['id']}/finalize", headers=seller.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "direct_debit_currency"
    assert client.post(f"/v1/invoices/{draft['id']}/finalize", headers=seller.headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"deliver_to": {"name": "Depot", "city": "Köln"}}, "deliver_to"),
        ({"deliver_to": {}}, "deliver_to"),
        ({"period_start": "2026-02-01"}, "period_end"),
        ({"period_end": "2026-02-01"}, "period_end"),
        ({"period_start": "2026-02-01", "period_end": "2026-02-01"}, "period_end"),
        ({"payment_means": {"method": "sepa_direct_debit", "debited_iban": DEBITED_IBAN}}, "payment_means"),
        (
            {"payment_means": {**DIRECT_DEBIT, "debited_iban": "DE02120300000000202052"}},
            "payment_means.debited_iban",
        ),
        (
            {"payment_means": {"method": "credit_card", "card_last_digits": "4242424242424242"}},
            "payment_means",
        ),
        ({"payment_means": {"method": "credit_card"}}, "payment_means"),
        ({"payment_means": {"method": "credit_transfer", "card_last_digits": "4242"}}, "payment_means"),
        (
            {"payment_means": {**DIRECT_DEBIT, "mandate_reference": "M\u00e4ndat"}},
            "payment_means.mandate_reference",
        ),
        ({"payment_means": {"method": "cheque"}}, "payment_means.method"),
    ],
)
def test_bad_new_fields_are_422_naming_the_field_and_store_nothing(
    client: TestClient, seller: Tenant, body: dict[str, Any], field: str
) -> None:
    customer = create_customer(client, seller.headers)
    response = client.post(
        "/v1/invoices",
        json={"customer_id": customer["id"], "lines": [line()], **body},
        headers=seller.headers,
    )
    assert response.status_code == 422, response.text
    fields = [detail["field"] for detail in response.json()["error"]["details"]]
    assert any(name.startswith(field) for name in fields), fields
    assert client.get("/v1/invoices", headers=seller.headers).json()["data"] == []


def test_organisation_register_fields_and_creditor_id_are_checked_and_stored(
    client: TestClient, seller: Tenant
) -> None:
    organisation = client.get("/v1/organisation", headers=seller.headers).json()
    assert (
        organisation["register_court"],
        organisation["register_number"],
        organisation["managing_directors"],
    ) == (
        "Amtsgericht Charlottenburg",
        "HRB 123456 B",
        "Jana Vogel, Tom Berger",
    )
    assert organisation["sepa_creditor_id"] == CREDITOR_ID
    bad = client.patch(
        "/v1/organisation", json={"sepa_creditor_id": "DE99ZZZ09999999999"}, headers=seller.headers
    )
    assert bad.status_code == 422
    assert [d["field"] for d in bad.json()["error"]["details"]] == ["sepa_creditor_id"]
    assert client.get("/v1/organisation", headers=seller.headers).json()["sepa_creditor_id"] == CREDITOR_ID


def test_peppol_between_german_parties_refuses_a_deliver_to_address_without_city_or_postcode(
    client: TestClient, seller: Tenant, official_validator: OfficialValidator
) -> None:
    """Peppol BIS applies the German CIUS (DE-R-*) when seller and buyer are in Germany: a deliver-to
    address without city and postcode is a 422 at the profile check (DE-R-010/011), not a document
    with fatal findings; to a French buyer the same address is fine in Peppol."""
    place = {"name": "Lager", "address_line1": "Lagerweg 3", "country": "DE"}
    german = create_customer(client, seller.headers, **PEPPOL_BUYER)
    invoice = create_invoice(client, seller.headers, german["id"], finalize=True, deliver_to=place)
    refused = client.get(
        f"/v1/invoices/{invoice['id']}/ubl", params={"profile": "peppol"}, headers=seller.headers
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "document_data_missing"
    assert [(d["field"], d["reason"][-9:]) for d in error["details"]] == [
        ("deliver_to.city", "DE-R-010)"),
        ("deliver_to.postal_code", "DE-R-011)"),
    ]
    # What the refusal stands for: the same invoice without the German parties' check is rejected.
    en16931 = _xml(client, seller, invoice["id"], "ubl", "en16931")
    peppol_ish = en16931.replace(
        b"urn:cen.eu:en16931:2017</cbc:CustomizationID>",
        b"urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>"
        b"<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>",
    )
    assert {"DE-R-010", "DE-R-011"} <= set(official_validator.validate(peppol_ish).fatal_rules)

    french = create_customer(
        client,
        seller.headers,
        **{
            **PEPPOL_BUYER,
            "country": "FR",
            "city": "Paris",
            "postal_code": "75002",
            "vat_id": "FR40303265045",
        },
    )
    abroad = create_invoice(client, seller.headers, french["id"], finalize=True, deliver_to=place)
    official_validator.assert_valid(_xml(client, seller, abroad["id"], "ubl", "peppol"), "ubl", "peppol")
