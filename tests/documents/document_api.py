"""Helpers for document API tests: a seller and a buyer complete enough for every profile."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader

from factories import create_customer, create_invoice, line

SELLER_DETAILS = {
    "legal_name": "Nordlicht Software GmbH",
    "address_line1": "Friedrichstraße 68",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
    "vat_id": "DE136695976",
    "tax_registration_id": "30/123/45678",
    "legal_registration_id": "HRB 123456 B",
    "electronic_address": "DE136695976",
    "electronic_address_scheme": "9930",
    "email": "billing@nordlicht.example",
    "phone": "+49 30 1234567",
    "contact_name": "Jana Vogel",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
}
BUYER_DETAILS = {
    # A GLN (scheme 0088): Peppol routes to it; an e-mail address ("EM") serves XRechnung only.
    "electronic_address": "4000001000005",
    "electronic_address_scheme": "0088",
    "buyer_reference": "04011000-12345-34",
}


def complete_seller(client: TestClient, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = client.patch("/v1/organisation", json={**SELLER_DETAILS, **changes}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def issued_invoice(
    client: TestClient,
    headers: dict[str, str],
    lines: list[dict[str, Any]] | None = None,
    customer: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A finalized invoice of a complete customer (override its fields with `customer`)."""
    customer_id = create_customer(client, headers, **{**BUYER_DETAILS, **(customer or {})})["id"]
    lines = lines or [
        line("Consulting", "12.5", "120.00", "19", unit_code="HUR"),
        line("Handbook", "2", "24.90", "7"),
    ]
    extra.setdefault("finalize", True)
    return create_invoice(client, headers, customer_id, lines, **extra)


def embedded_files(pdf: bytes) -> dict[str, bytes]:
    reader = PdfReader(io.BytesIO(pdf))
    return {name: contents[0] for name, contents in reader.attachments.items()}


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
