"""Extreme values that used to end in a 500: amounts past 10^15 once multiplied or summed, dates
that overflow with their offset, payment dates in year 1 or 9999. Each is a 422 naming the field,
and nothing is stored."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, create_invoice, line

sys.path.insert(0, str(Path(__file__).parent.parent / "dialects"))
from test_dialect_wizcommerce import create_order, invoice_body

TAX = {"category": "S", "percent": "19"}
# 10^6 x 10^9: each within its own limit (10^12), the product 10^15 is not.
HUGE_LINE = line(quantity="1000000", unit_price="1000000000")
# Two lines of 6 x 10^14: each line fits, their total with VAT does not.
BIG_LINE = line(quantity="600000", unit_price="1000000000")


def _error(response: Any, status: int, code: str, field: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert [detail["field"] for detail in error["details"]] == [field]


def _count(client: TestClient, tenant: Tenant, path: str) -> int:
    return len(client.get(path, params={"limit": 100}, headers=tenant.headers).json()["data"])


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/invoices", {"lines": [HUGE_LINE]}, "lines[0]"),
        ("/v1/invoices", {"lines": [line(), BIG_LINE, BIG_LINE]}, "lines"),
        ("/v1/invoices/preview", {"lines": [HUGE_LINE]}, "lines[0]"),
        ("/v1/invoices/preview", {"lines": [BIG_LINE, BIG_LINE]}, "lines"),
        (
            "/v1/orders",
            {"lines": [{"name": "x", "quantity": "1000000", "unit_price": "1000000000", "tax": TAX}]},
            "lines[0]",
        ),
        (
            "/v1/invoice-items",
            {"description": "x", "quantity": "1000000", "unit_price": "1000000000", "tax": TAX},
            "unit_price",
        ),
    ],
    ids=["invoice_line", "invoice_total", "preview_line", "preview_total", "order_line", "invoice_item"],
)
def test_amount_of_10_to_the_15_is_422_amount_out_of_range(
    client: TestClient, tenant: Tenant, path: str, body: dict[str, Any], field: str
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    response = client.post(path, json={"customer_id": customer, **body}, headers=tenant.headers)
    _error(response, 422, "amount_out_of_range", field)
    for listing in ("/v1/invoices", "/v1/orders", "/v1/invoice-items"):
        assert _count(client, tenant, listing) == 0


def test_pending_items_whose_sum_is_out_of_range_are_refused_together_not_with_a_500(
    client: TestClient, tenant: Tenant
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    item = {"customer_id": customer, "description": "x", "quantity": "600000", "unit_price": "1000000000"}
    ids = []
    for _ in range(2):
        created = client.post("/v1/invoice-items", json={**item, "tax": TAX}, headers=tenant.headers)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    response = client.post(
        "/v1/invoice-items/invoice", json={"customer_id": customer}, headers=tenant.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "amount_out_of_range"
    # Each alone can still be invoiced.
    alone = client.post("/v1/invoice-items/invoice", json={"item_ids": ids[:1]}, headers=tenant.headers)
    assert alone.status_code == 201, alone.text


def test_order_date_that_overflows_with_its_offset_is_422(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    body = {
        "customer_id": customer,
        "created_at": "0001-01-01T00:00:00+14:00",
        "lines": [{"name": "x", "quantity": "1", "unit_price": "1", "tax": TAX}],
    }
    _error(
        client.post("/v1/orders", json=body, headers=tenant.headers), 422, "validation_error", "created_at"
    )
    assert _count(client, tenant, "/v1/orders") == 0


@pytest.mark.parametrize("field", ["due_date", "created_at", "updated_at"])
def test_wizcommerce_date_that_overflows_with_its_offset_is_refused(
    client: TestClient, tenant: Tenant, field: str
) -> None:
    create_order(client, tenant.headers)
    body = invoice_body(**{field: "0001-01-01T00:00:00+14:00"})
    response = client.post(
        "/compat/wizcommerce/v1/invoices", json=body, headers={"X-API-Key": tenant.api_key}
    )
    assert response.status_code == 400, response.text
    assert field in response.text
    assert _count(client, tenant, "/v1/invoices") == 0


@pytest.mark.parametrize("paid_on", ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"])
def test_payment_date_outside_the_business_calendar_is_422(
    client: TestClient, tenant: Tenant, paid_on: str
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    invoice = create_invoice(client, tenant.headers, customer, finalize=True)
    response = client.post(
        f"/v1/invoices/{invoice['id']}/payments",
        json={"amount": "1", "paid_on": paid_on},
        headers=tenant.headers,
    )
    _error(response, 422, "validation_error", "paid_on")
    assert client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).json()["amount_paid"] == "0.00"


@pytest.mark.parametrize(
    "payment_date", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00Z"]
)
def test_iw_erp_payment_date_out_of_range_is_400(
    client: TestClient, tenant: Tenant, payment_date: str
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    invoice = {
        "buyer": {"id": customer},
        "items": [{"name": "Beratung", "price": 10}],
        "tax": {"value": 19},
        "status": "paid",
        "paymentDate": payment_date,
    }
    response = client.post(
        "/compat/iw-erp/api/invoice/invoices", json={"invoice": invoice}, headers=tenant.headers
    )
    assert response.status_code == 400, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["invoice.paymentDate"]
    assert _count(client, tenant, "/v1/invoices") == 0
