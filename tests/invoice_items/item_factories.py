"""Request bodies and helpers for the invoice item tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def item_body(customer_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "description": "Extra seats",
        "quantity": "2",
        "unit_price": "15.00",
        "tax": {"category": "S", "percent": "19"},
    }
    body.update(overrides)
    return body


def create_item(
    client: TestClient, headers: dict[str, str], customer_id: str, **overrides: Any
) -> dict[str, Any]:
    response = client.post("/v1/invoice-items", json=item_body(customer_id, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def gather(client: TestClient, headers: dict[str, str], **body: Any):
    return client.post("/v1/invoice-items/invoice", json=body, headers=headers)
