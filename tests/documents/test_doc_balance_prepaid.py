"""Credit balance applied at finalization is the e-invoice's prepaid amount (BT-113) and reduces the
amount due (BT-115); every profile passes the official rules with zero fatal findings."""

from __future__ import annotations

from document_api import complete_seller
from einvoice_corpus import buyer, check_documents
from fastapi.testclient import TestClient
from lxml import etree

from conftest import Tenant
from factories import create_invoice, line
from official_validator import OfficialValidator

UBL_NS = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
CII_NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def _issued_with_balance(client: TestClient, tenant: Tenant, balance: str) -> str:
    complete_seller(client, tenant.headers)
    customer = buyer(client, tenant.headers)
    credited = client.post(
        f"/v1/customers/{customer}/balance-transactions",
        json={"amount": balance, "description": "Goodwill"},
        headers=tenant.headers,
    )
    assert credited.status_code == 201, credited.text
    # 84.03 net + 15.97 VAT = 100.00
    draft = create_invoice(client, tenant.headers, customer, [line("Consulting", "1", "84.03", "19")])
    finalized = client.post(f"/v1/invoices/{draft['id']}/finalize", headers=tenant.headers)
    assert finalized.status_code == 200, finalized.text
    return draft["id"]


def _amounts(client: TestClient, tenant: Tenant, invoice_id: str) -> tuple[list[str], list[str]]:
    ubl = etree.fromstring(client.get(f"/v1/invoices/{invoice_id}/ubl", headers=tenant.headers).content)
    cii = etree.fromstring(client.get(f"/v1/invoices/{invoice_id}/cii", headers=tenant.headers).content)
    return (
        [ubl.findtext(f".//cbc:{name}", namespaces=UBL_NS) for name in ("PrepaidAmount", "PayableAmount")],
        [
            cii.findtext(f".//ram:{name}", namespaces=CII_NS)
            for name in ("TotalPrepaidAmount", "DuePayableAmount")
        ],
    )


def test_a_partly_applied_balance_is_the_prepaid_amount_in_every_profile(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    invoice_id = _issued_with_balance(client, tenant, "30.00")
    assert _amounts(client, tenant, invoice_id) == (["30.00", "70.00"], ["30.00", "70.00"])
    assert check_documents(client, tenant.headers, official_validator, invoice_id, "balance 30 of 100") == []


def test_an_invoice_paid_entirely_from_the_balance_passes_every_profile(
    client: TestClient, tenant: Tenant, official_validator: OfficialValidator
) -> None:
    invoice_id = _issued_with_balance(client, tenant, "250.00")
    assert _amounts(client, tenant, invoice_id) == (["100.00", "0.00"], ["100.00", "0.00"])
    assert check_documents(client, tenant.headers, official_validator, invoice_id, "balance 250 of 100") == []
