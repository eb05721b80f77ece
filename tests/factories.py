"""Request bodies for tests, built in code rather than fixture files."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def customer_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Kunde AG",
        "email": "ap@kunde.example",
        "address_line1": "Ringstraße 9",
        "city": "München",
        "postal_code": "80331",
        "country": "DE",
        "vat_id": "DE123456788",
        "locale": "de",
    }
    body.update(overrides)
    return body


def line(
    description: str = "Consulting",
    quantity: str = "1",
    unit_price: str = "100.00",
    percent: str = "19",
    category: str = "S",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
        "tax": {"category": category, "percent": percent},
    }
    body.update(extra)
    return body


def create_customer(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/customers", json=customer_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def create_invoice(
    client: TestClient,
    headers: dict[str, str],
    customer_id: str,
    lines: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body = {"customer_id": customer_id, "lines": lines or [line()], **extra}
    response = client.post("/v1/invoices", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()
