"""Order-platform ("axim") dialect (seed 004): invoice an order's remaining quantities."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from seed_openapi import seed_text

from factories import create_customer

URL = "/compat/axim/invoices"
HEX_ID = "69ab24db449866373d5e3e35"  # the seed's sample orderId


def seed_json_after(marker: str) -> dict[str, Any]:
    """The JSON object printed after `marker` in seed 004."""
    text = seed_text("004")
    start = text.index("{", text.index(marker))
    return json.JSONDecoder().raw_decode(text[start:])[0]


SAMPLE_REQUEST = seed_json_after("Sample Request Body")
SAMPLE_RESPONSE = seed_json_after("Sample Response Body")


def create_order(
    client: TestClient, headers: dict[str, str], reference: str | None = HEX_ID
) -> dict[str, Any]:
    customer = create_customer(client, headers)
    tax = {"category": "S", "percent": "19"}
    body = {
        "customer_id": customer["id"],
        "external_reference": reference,
        "lines": [
            {"name": "Widget", "sku": "W-1", "quantity": "30", "unit_price": "10.00", "tax": tax},
            {"name": "Gadget", "sku": "G-1", "quantity": "2", "unit_price": "99.99", "tax": tax},
        ],
    }
    response = client.post("/v1/orders", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def token(key: str) -> dict[str, str]:
    # Exactly the seed's curl: Content-Type and accessToken.
    return {"Content-Type": "application/json", "accessToken": key}


def test_seed_samples_are_read() -> None:
    assert SAMPLE_REQUEST == {"orderId": HEX_ID}
    assert SAMPLE_RESPONSE["success"] is True and len(SAMPLE_RESPONSE["data"]["lineItems"]) == 5


def test_end_to_end_seed_request_then_native_read_back(client, tenant) -> None:
    order = create_order(client, tenant.headers)
    response = client.post(URL, content=json.dumps(SAMPLE_REQUEST), headers=token(tenant.api_key))
    assert response.status_code == 201, response.text
    body = response.json()
    # The seed documents success, data and message; its sample shows data's fields.
    assert set(body) == {"success", "data", "message"}
    assert body["success"] is True and isinstance(body["message"], str)
    data = body["data"]
    assert set(data) == set(SAMPLE_RESPONSE["data"])
    assert data["order"] == HEX_ID
    assert data["entityId"] == str(tenant.organisation_id)
    assert [set(item) for item in data["lineItems"]] == [set(SAMPLE_RESPONSE["data"]["lineItems"][0])] * 2
    assert [(i["lineItemId"], i["quantity"]) for i in data["lineItems"]] == [
        (order["lines"][0]["id"], 30),
        (order["lines"][1]["id"], 2),
    ]
    # 30 x 10.00 + 2 x 99.99 = 499.98 net, 95.00 VAT at 19 %.
    assert data["total"] == 594.98 and '"total":594.98' in response.text
    assert set(data["createdBy"]) == set(SAMPLE_RESPONSE["data"]["createdBy"])
    assert data["createdBy"]["type"] == "api_key" and data["createdBy"]["name"].startswith("api_key:")
    assert data["metaFields"] == []
    for key in ("createdAt", "updatedAt"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data[key]), data[key]

    native = client.get(f"/v1/invoices/{data['id']}", headers=tenant.headers).json()
    assert native["number"].startswith("INV-") and native["number"].endswith("-00001")
    assert (native["status"], native["source"], native["total"]) == ("open", "order", "594.98")
    assert [ln["id"] for ln in native["lines"]] == [i["id"] for i in data["lineItems"]]
    assert [ln["source"]["id"] for ln in native["lines"]] == [i["lineItemId"] for i in data["lineItems"]]


def test_only_remaining_quantities_are_invoiced_and_nothing_left_is_the_seeds_400(client, tenant) -> None:
    order = create_order(client, tenant.headers)
    partial = {"lines": [{"order_line_id": order["lines"][0]["id"], "quantity": "10"}], "finalize": True}
    assert (
        client.post(f"/v1/orders/{order['id']}/invoices", json=partial, headers=tenant.headers).status_code
        == 201
    )
    # By faktur id this time, with the Bearer form of the header.
    response = client.post(
        URL, json={"orderId": order["id"]}, headers={"accessToken": f"Bearer {tenant.api_key}"}
    )
    assert response.status_code == 201, response.text
    assert [(i["lineItemId"], i["quantity"]) for i in response.json()["data"]["lineItems"]] == [
        (order["lines"][0]["id"], 20),
        (order["lines"][1]["id"], 2),
    ]
    again = client.post(URL, json=SAMPLE_REQUEST, headers=token(tenant.api_key))
    # Differs from the vendor (README): nothing is invoiced twice, and the seed lists no 409, so
    # an order with nothing left is its closest documented answer, a 400 validation error.
    assert again.status_code == 400
    assert again.json()["success"] is False and set(again.json()) == {"success", "message"}
    assert again.json()["message"].startswith("Validation error: ")
    assert "nothing remains to invoice" in again.json()["message"]
    assert len(client.get("/v1/invoices", headers=tenant.headers).json()["data"]) == 2
    # Voiding gives the quantities back: the order can be invoiced again.
    invoice_id = response.json()["data"]["id"]
    assert client.post(f"/v1/invoices/{invoice_id}/void", headers=tenant.headers).status_code == 200
    assert client.post(URL, json=SAMPLE_REQUEST, headers=token(tenant.api_key)).status_code == 201


@pytest.mark.parametrize("body", [{}, {"orderId": ""}, {"orderId": None}])
def test_missing_order_id_is_the_seeds_400(client, tenant, body) -> None:
    response = client.post(URL, json=body, headers=token(tenant.api_key))
    assert (response.status_code, response.json()) == (
        400,
        {"success": False, "message": "Validation error: orderId is required"},
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"[]",
        b'{"orderId": 12}',
        b'{"orderId": "a\\u0000"}',
        b"\xff",
        # Nothing is silently ignored: a field the seed does not document is refused.
        b'{"order_id": "69ab24db449866373d5e3e35"}',
        b'{"orderId": "69ab24db449866373d5e3e35", "lineItems": []}',
    ],
)
def test_malformed_bodies_are_400_validation_errors(client, tenant, raw) -> None:
    response = client.post(URL, content=raw, headers=token(tenant.api_key))
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["message"].startswith("Validation error: ")


def test_unknown_or_foreign_order_is_the_seeds_404(client, tenant, other_tenant) -> None:
    foreign = create_order(client, other_tenant.headers)
    for order_id in (HEX_ID, foreign["id"], "00000000-0000-4000-8000-000000000000"):
        response = client.post(URL, json={"orderId": order_id}, headers=token(tenant.api_key))
        assert (response.status_code, response.json()) == (
            404,
            {"success": False, "message": "Order not found"},
        )
    assert client.get("/v1/invoices", headers=other_tenant.headers).json()["data"] == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"accessToken": ""},
        {"accessToken": "fk_wrong"},
        {"accessToken": "Bearer "},
        {"Authorization": "Bearer {key}"},
    ],
)
def test_missing_or_wrong_token_is_the_seeds_401(client, tenant, headers) -> None:
    headers = {k: v.format(key=tenant.api_key) for k, v in headers.items()}
    response = client.post(URL, json=SAMPLE_REQUEST, headers=headers)
    assert (response.status_code, response.json()) == (
        401,
        {"success": False, "message": "Invalid or missing access token"},
    )


def test_only_documented_statuses_whatever_goes_wrong(client, tenant) -> None:
    """A reused Idempotency-Key with another body is faktur's 409; here it is the seed's 400."""
    create_order(client, tenant.headers)
    create_order(client, tenant.headers, reference="other-order")
    headers = {**token(tenant.api_key), "Idempotency-Key": "axim-1"}
    assert client.post(URL, json=SAMPLE_REQUEST, headers=headers).status_code == 201
    reused = client.post(URL, json={"orderId": "other-order"}, headers=headers)
    assert reused.status_code == 400
    assert reused.json()["message"].startswith("Validation error: ")
