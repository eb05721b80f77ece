"""Request bodies and helpers for the order tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def order_line(
    name: str = "Widget", quantity: str = "10", unit_price: str = "12.50", percent: str = "19", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "quantity": quantity,
        "unit_price": unit_price,
        "tax": {"category": "S", "percent": percent},
    }
    body.update(extra)
    return body


def create_order(
    client: TestClient,
    headers: dict[str, str],
    customer_id: str,
    lines: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body = {"customer_id": customer_id, "lines": lines or [order_line()], **extra}
    response = client.post("/v1/orders", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def invoice_order(
    client: TestClient,
    headers: dict[str, str],
    order_id: str,
    lines: list[tuple[str, str]] | None = None,
    **extra: Any,
):
    body: dict[str, Any] = dict(extra)
    if lines is not None:
        body["lines"] = [{"order_line_id": line_id, "quantity": quantity} for line_id, quantity in lines]
    return client.post(f"/v1/orders/{order_id}/invoices", json=body, headers=headers)
