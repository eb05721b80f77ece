"""Helpers for credit-note document tests: issue credit notes through the API, read what they say."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from lxml import etree

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


def issue_credit_note(
    client: TestClient, headers: dict[str, str], invoice_id: str, **body: Any
) -> dict[str, Any]:
    response = client.post(f"/v1/invoices/{invoice_id}/credit-notes", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def pay(client: TestClient, headers: dict[str, str], invoice_id: str, amount: str) -> dict[str, Any]:
    response = client.post(f"/v1/invoices/{invoice_id}/payments", json={"amount": amount}, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def ubl_facts(xml: bytes) -> dict[str, Any]:
    """What a UBL CreditNote says it is, which invoice it corrects and what it credits."""
    root = etree.fromstring(xml)
    reference = "cac:BillingReference/cac:InvoiceDocumentReference"
    return {
        "root": etree.QName(root).localname,
        "type": root.findtext("cbc:CreditNoteTypeCode", namespaces=NS),
        "number": root.findtext("cbc:ID", namespaces=NS),
        "preceding": (
            root.findtext(f"{reference}/cbc:ID", namespaces=NS),
            root.findtext(f"{reference}/cbc:IssueDate", namespaces=NS),
        ),
        "notes": [note.text for note in root.findall("cbc:Note", namespaces=NS)],
        "tax_total": root.findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=NS),
        "groups": [
            (
                group.findtext("cac:TaxCategory/cbc:ID", namespaces=NS),
                group.findtext("cac:TaxCategory/cbc:Percent", namespaces=NS),
                group.findtext("cbc:TaxableAmount", namespaces=NS),
                group.findtext("cbc:TaxAmount", namespaces=NS),
            )
            for group in root.findall("cac:TaxTotal/cac:TaxSubtotal", namespaces=NS)
        ],
        "line_nets": [
            line.findtext("cbc:LineExtensionAmount", namespaces=NS)
            for line in root.findall("cac:CreditNoteLine", namespaces=NS)
        ],
        "payable": root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS),
        "prepaid": root.findtext("cac:LegalMonetaryTotal/cbc:PrepaidAmount", namespaces=NS),
    }


def cii_facts(xml: bytes) -> dict[str, Any]:
    root = etree.fromstring(xml)
    settlement = ".//ram:ApplicableHeaderTradeSettlement"
    reference = f"{settlement}/ram:InvoiceReferencedDocument"
    return {
        "type": root.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=NS),
        "number": root.findtext("rsm:ExchangedDocument/ram:ID", namespaces=NS),
        "preceding": (
            root.findtext(f"{reference}/ram:IssuerAssignedID", namespaces=NS),
            root.findtext(f"{reference}/ram:FormattedIssueDateTime/*", namespaces=NS),
        ),
        "payable": root.findtext(f"{settlement}//ram:DuePayableAmount", namespaces=NS),
    }
