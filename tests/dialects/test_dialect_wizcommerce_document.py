"""WizCommerce (seed 002) walked field by field: every request field of the document with its
type, limits and enum values, every response field, the document's own example sent verbatim,
the TypeScript SDK's request, and each way faktur differs from the vendor (README)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from seed_openapi import seed_openapi

from factories import create_customer
from official_validator import OfficialValidator

URL = "/compat/wizcommerce/v1/invoices"
SCHEMAS = seed_openapi("002")["components"]["schemas"]
REQUEST = SCHEMAS["dtos.InvoiceCreateRequest"]
ITEM_REQUEST = SCHEMAS["dtos.InvoiceItemCreateRequest"]
RESPONSE = SCHEMAS["dtos.InvoiceResponse"]
ITEM_RESPONSE = SCHEMAS["dtos.InvoiceItemResponse"]
JSON_TYPES = {"string": str, "number": (int, float), "integer": int, "array": list}

_numbers = itertools.count(1)


def wiz(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def create_order(
    client: TestClient, headers: dict[str, str], reference: str = "ORD-20250101", **line: Any
) -> dict[str, Any]:
    customer = create_customer(client, headers)
    body = {
        "customer_id": customer["id"],
        "currency": "USD",
        "external_reference": reference,
        "created_at": "2024-12-30T09:00:00Z",
        "lines": [
            {
                "name": "Item Name",
                "sku": "SKU-20250101",
                "quantity": "10",
                "unit_price": "100.00",
                "tax": {"category": "O", "percent": "0", "exemption_reason_code": "VATEX-EU-O"},
                **line,
            }
        ],
    }
    response = client.post("/v1/orders", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def example(property_schema: dict[str, Any]) -> Any:
    return property_schema["example"]


def seed_example() -> dict[str, Any]:
    """The request the document shows: every property at its documented example."""
    body = {name: example(prop) for name, prop in REQUEST["properties"].items() if name != "items"}
    body["items"] = [{name: example(prop) for name, prop in ITEM_REQUEST["properties"].items()}]
    return body


def valid_body(**overrides: Any) -> dict[str, Any]:
    """The seed example with consistent small amounts and a fresh invoice number."""
    body = seed_example()
    body.update(invoice_number=f"WZ-{next(_numbers)}", total_amount=10, paid_amount=0, status="PENDING")
    body["items"] = [{**body["items"][0], "quantity": 1, "amount": 10}]
    body.update(overrides)
    return body


def native(client: TestClient, headers: dict[str, str], invoice_id: str) -> dict[str, Any]:
    return client.get(f"/v1/invoices/{invoice_id}", headers=headers).json()


def test_the_documents_example_request_is_accepted_verbatim(client, tenant) -> None:
    """The example shows 1,000,000 items at 1,000,000 each with a total of 1,000,000, status PAID
    and paid_amount 0: a record of an invoice issued elsewhere, stored as given."""
    order = create_order(client, tenant.headers, quantity="1000000", unit_price="1000000")
    body = seed_example()
    assert body["total_amount"] == 1000000 and body["status"] == "PAID" and body["paid_amount"] == 0
    response = client.post(URL, json=body, headers=wiz(tenant.api_key))
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert (data["invoice_number"], data["total_amount"], data["paid_amount"], data["status"]) == (
        "INV-20250101",
        1000000,
        0,
        "PAID",
    )
    assert [(i["quantity"], i["amount"], i["item_total"]) for i in data["items"]] == [
        (1000000, 1000000, 1000000000000)
    ]
    stored = native(client, tenant.headers, data["id"])
    # The items come to 10^12; the invoice was issued for 10^6: the rest is an explicit allowance.
    assert (stored["subtotal"], stored["allowance_total"], stored["total"]) == (
        "1000000000000.00",
        "999999000000.00",
        "1000000.00",
    )
    # The import billed the order's 1,000,000 units: nothing remains to invoice natively.
    again = client.post(f"/v1/orders/{order['id']}/invoices", json={}, headers=tenant.headers)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "order_fully_invoiced")


def test_every_documented_response_field_has_its_documented_type(client, tenant) -> None:
    create_order(client, tenant.headers)
    response = client.post(URL, json=valid_body(), headers=wiz(tenant.api_key))
    assert response.status_code == 201  # the documented success status
    data = response.json()["data"]
    assert set(data) == set(RESPONSE["properties"])
    for name, prop in RESPONSE["properties"].items():
        assert isinstance(data[name], JSON_TYPES[prop["type"]]), name
    item = data["items"][0]
    assert set(item) == set(ITEM_RESPONSE["properties"])
    for name, prop in ITEM_RESPONSE["properties"].items():
        assert isinstance(item[name], JSON_TYPES[prop["type"]]), name


def _string_fields() -> list[tuple[str, str, int]]:
    found = [
        ("", name, prop["maxLength"]) for name, prop in REQUEST["properties"].items() if "maxLength" in prop
    ]
    found += [
        ("items", name, p["maxLength"]) for name, p in ITEM_REQUEST["properties"].items() if "maxLength" in p
    ]
    return found


def _set(body: dict[str, Any], where: str, name: str, value: Any) -> None:
    (body["items"][0] if where else body)[name] = value


@pytest.mark.parametrize(("where", "name", "limit"), _string_fields())
def test_every_string_limit_is_the_documents(client, tenant, where, name, limit) -> None:
    assert limit == 255  # what the document says, for every limited string
    create_order(client, tenant.headers)
    longest = valid_body()
    _set(longest, where, name, "x" * limit)
    response = client.post(URL, json=longest, headers=wiz(tenant.api_key))
    if name == "order_id":
        # Accepted as a request; no order has such a reference, so it is the documented 404.
        assert (response.status_code, response.json()["code"]) == (404, "order_not_found")
    else:
        assert response.status_code == 201, response.text
        data = response.json()["data"]
        answered = {"sku": "product_id"}.get(name, name)
        assert (data["items"][0] if where else data)[answered] == "x" * limit
    too_long = valid_body()
    _set(too_long, where, name, "x" * (limit + 1))
    refused = client.post(URL, json=too_long, headers=wiz(tenant.api_key))
    assert refused.status_code == 400
    field = f"items[0].{name}" if where else name
    assert field in [d["field"] for d in refused.json()["details"]]


@pytest.mark.parametrize("status", REQUEST["properties"]["status"]["enum"])
def test_every_documented_status_is_accepted_and_answered(client, tenant, status) -> None:
    create_order(client, tenant.headers)
    response = client.post(URL, json=valid_body(status=status), headers=wiz(tenant.api_key))
    assert response.status_code == 201, response.text
    assert response.json()["data"]["status"] == status


@pytest.mark.parametrize(
    ("where", "name"),
    [("", name) for name in REQUEST["required"]] + [("items", name) for name in ITEM_REQUEST["required"]],
)
def test_every_required_field_missing_is_the_documented_400(client, tenant, where, name) -> None:
    create_order(client, tenant.headers)
    body = valid_body()
    del (body["items"][0] if where else body)[name]
    response = client.post(URL, json=body, headers=wiz(tenant.api_key))
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "details"}
    field = f"items[0].{name}" if where else name
    assert field in [d["field"] for d in response.json()["details"]]


@pytest.mark.parametrize(
    ("where", "name", "wrong"),
    [
        ("", "total_amount", "10"),
        ("", "paid_amount", "0"),
        ("", "paid_amount", -0.01),  # minimum: 0
        ("", "reference_id", 1),
        ("items", "quantity", 1.5),  # an integer
        ("items", "quantity", "1"),
        ("items", "amount", "10"),
        ("", "status", "DONE"),
    ],
)
def test_documented_types_minimum_and_enum_are_enforced(client, tenant, where, name, wrong) -> None:
    create_order(client, tenant.headers)
    body = valid_body()
    _set(body, where, name, wrong)
    response = client.post(URL, json=body, headers=wiz(tenant.api_key))
    assert response.status_code == 400
    field = f"items[0].{name}" if where else name
    assert field in [d["field"] for d in response.json()["details"]]


def test_empty_items_are_accepted_with_one_unitemized_line(client, tenant) -> None:
    create_order(client, tenant.headers)
    response = client.post(URL, json=valid_body(items=[], total_amount=49.5), headers=wiz(tenant.api_key))
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert (data["items"], data["total_amount"]) == ([], 49.5)
    stored = native(client, tenant.headers, data["id"])
    assert [(ln["description"], ln["net_amount"]) for ln in stored["lines"]] == [
        ("As invoiced: not itemized", "49.50")
    ]


def test_due_date_keeps_its_time_of_day(client, tenant) -> None:
    create_order(client, tenant.headers)
    body = valid_body(due_date="2025-01-31T17:30:00+01:00", created_at="2025-01-01T08:00:00Z")
    response = client.post(URL, json=body, headers=wiz(tenant.api_key))
    assert response.status_code == 201, response.text
    assert response.json()["data"]["due_date"] == "2025-01-31T16:30:00Z"
    assert native(client, tenant.headers, response.json()["data"]["id"])["due_date"] == "2025-01-31"


def test_without_created_at_a_past_due_date_is_accepted(client, tenant) -> None:
    create_order(client, tenant.headers)
    body = valid_body(due_date="2025-01-01T00:00:00Z")
    del body["created_at"]
    response = client.post(URL, json=body, headers=wiz(tenant.api_key))
    assert response.status_code == 201, response.text
    stored = native(client, tenant.headers, response.json()["data"]["id"])
    # Issued by the time it fell due: the issue date is the due date, not today.
    assert (stored["issue_date"], stored["due_date"]) == ("2025-01-01", "2025-01-01")


def test_the_typescript_sdks_invoice_create_request(client, tenant) -> None:
    """WizCommerce's TypeScript SDK (class `WizCommerce` with `invoice.create(data:
    Invoice.InvoiceCreateRequest)`, sending the body as JSON with `X-API-Key` to `<base>/v1/invoices`)
    puts `description`, `discount`, `rate` and `item_total` on items and knows the status UNPAID,
    none of which the document lists. The SDK's own repository was not found in the public code
    index; the fields are those issue 17 reports from it. It reads `data` of the answer."""
    order = create_order(client, tenant.headers)
    body = {
        "reference_id": "SO-1001",
        "order_id": "ORD-20250101",
        "invoice_number": "WZ-SDK-1",
        "total_amount": 280.5,
        "paid_amount": 0,
        "status": "UNPAID",
        "due_date": "2025-02-15T12:00:00Z",
        "created_at": "2025-01-15T09:00:00Z",
        "updated_at": "2025-01-15T09:00:00Z",
        "items": [
            {
                "reference_id": "LI-1",
                "sku": "SKU-20250101",
                "name": "Item Name",
                "description": "Blue, size 42",
                "quantity": 3,
                "amount": 100,
                "rate": 100,
                "discount": 25,
                "item_total": 275,
            }
        ],
    }
    response = client.post(
        URL, json=body, headers={**wiz(tenant.api_key), "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert (data["status"], data["total_amount"], data["paid_amount"]) == ("UNPAID", 280.5, 0)
    item = data["items"][0]
    assert (item["description"], item["discount"], item["rate"], item["item_total"]) == (
        "Blue, size 42",
        25,
        100,
        275,
    )
    stored = native(client, tenant.headers, data["id"])
    line = stored["lines"][0]
    assert (line["amount"], line["allowance_total"], line["net_amount"]) == ("300.00", "25.00", "275.00")
    assert [a["reason"] for a in line["allowances"]] == ["Discount"]
    assert [(a["kind"], a["computed_amount"]) for a in stored["adjustments"]] == [("charge", "5.50")]
    assert stored["total"] == "280.50" and stored["payment_status"] == "unpaid"
    # The 3 units were billed from the order: 7 remain.
    lines = client.get(f"/v1/orders/{order['id']}", headers=tenant.headers).json()["lines"]
    assert [ln["remaining_quantity"] for ln in lines] == ["7"]


def test_sdk_item_total_differing_from_its_items_math_is_a_line_adjustment(client, tenant) -> None:
    create_order(client, tenant.headers)
    item = {"reference_id": "LI-1", "sku": "S", "name": "n", "quantity": 2, "amount": 10, "item_total": 23.8}
    response = client.post(URL, json=valid_body(items=[item], total_amount=23.8), headers=wiz(tenant.api_key))
    assert response.status_code == 201, response.text
    line = native(client, tenant.headers, response.json()["data"]["id"])["lines"][0]
    assert (line["amount"], line["charge_total"], line["net_amount"]) == ("20.00", "3.80", "23.80")
    assert [c["reason"] for c in line["charges"]] == ["As invoiced: line total"]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"rate": 11}, "items[0]"),  # rate and amount disagree
        ({"discount": -1}, "items[0].discount"),
        ({"colour": "red"}, "items[0].colour"),  # nothing is silently ignored
        ({"item_total": 10.001}, "items[0].item_total"),
    ],
)
def test_sdk_item_fields_are_checked(client, tenant, item, field) -> None:
    create_order(client, tenant.headers)
    body = valid_body()
    body["items"][0].update(item)
    response = client.post(URL, json=body, headers=wiz(tenant.api_key))
    assert response.status_code == 400, response.text
    assert any(d["field"].startswith(field) for d in response.json()["details"])


def test_an_import_counts_against_the_orders_quantities(client, tenant) -> None:
    order = create_order(client, tenant.headers)  # 10 x SKU-20250101
    first = valid_body(items=[{**valid_body()["items"][0], "quantity": 6}], total_amount=60)
    assert client.post(URL, json=first, headers=wiz(tenant.api_key)).status_code == 201
    # Differs from the vendor: 5 more would bill 11 of 10; nothing is invoiced twice (400).
    second = valid_body(items=[{**valid_body()["items"][0], "quantity": 5}], total_amount=50)
    refused = client.post(URL, json=second, headers=wiz(tenant.api_key))
    assert (refused.status_code, refused.json()["code"]) == (400, "quantity_exceeds_remaining")
    assert [d["field"] for d in refused.json()["details"]] == ["items[0].quantity"]
    # Natively, only the 4 that remain are invoiced.
    rest = client.post(f"/v1/orders/{order['id']}/invoices", json={}, headers=tenant.headers)
    assert rest.status_code == 201
    assert [ln["quantity"] for ln in rest.json()["lines"]] == ["4"]
    # An item that is not on the order (shipping) bills nothing of it.
    shipping = {"reference_id": "SHIP", "sku": "SHIPPING", "name": "Shipping", "quantity": 1, "amount": 5}
    assert (
        client.post(
            URL, json=valid_body(items=[shipping], total_amount=5), headers=wiz(tenant.api_key)
        ).status_code
        == 201
    )


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        # An invoice cannot fall due before it is issued.
        ({"due_date": "2024-12-31T00:00:00Z"}, "due_date", "due_date_before_issue_date"),
        # A negative total is a credit note, not an invoice.
        ({"total_amount": -5}, None, "negative_total"),
        # Every invoice has a number (EN 16931 BT-1).
        ({"invoice_number": ""}, "invoice_number", "invalid_invoice_number"),
        # USD has 2 decimals; an amount is never rounded silently.
        ({"total_amount": 10.001}, "total_amount", "amount_precision"),
        ({"paid_amount": 0.001}, "paid_amount", "amount_precision"),
    ],
)
def test_what_differs_from_the_vendor_is_a_400(client, tenant, overrides, field, code) -> None:
    create_order(client, tenant.headers)
    response = client.post(URL, json=valid_body(**overrides), headers=wiz(tenant.api_key))
    assert (response.status_code, response.json()["code"]) == (400, code), response.text
    if field is not None:
        assert field in [d["field"] for d in response.json()["details"]]
    assert client.get("/v1/invoices", headers=tenant.headers).json()["data"] == []


@pytest.mark.parametrize("total", [300, 250])
def test_an_import_with_unitemized_amounts_renders_valid_e_invoices(
    client, tenant, total, official_validator: OfficialValidator
) -> None:
    # A seller identified by its register entry (not subject to VAT: no VAT id, BR-O-02).
    seller = {
        "legal_name": "Nordlicht Shop GmbH",
        "address_line1": "Friedrichstraße 68",
        "city": "Berlin",
        "postal_code": "10117",
        "country": "DE",
        "vat_id": None,
        "legal_registration_id": "HRB 123456 B",
        "electronic_address": "billing@nordlicht.example",
        "electronic_address_scheme": "EM",
    }
    assert client.patch("/v1/organisation", json=seller, headers=tenant.headers).status_code == 200
    create_order(client, tenant.headers)
    items = [
        {"reference_id": "1", "sku": "A", "name": "Boots", "quantity": 2, "amount": 99.99},
        {"reference_id": "2", "sku": "B", "name": "Socks", "quantity": 1, "amount": 69.98, "discount": 5},
    ]
    response = client.post(URL, json=valid_body(items=items, total_amount=total), headers=wiz(tenant.api_key))
    assert response.status_code == 201, response.text
    invoice_id = response.json()["data"]["id"]
    ubl = client.get(f"/v1/invoices/{invoice_id}/ubl", headers=tenant.headers)
    cii = client.get(f"/v1/invoices/{invoice_id}/cii", headers=tenant.headers)
    assert ubl.status_code == cii.status_code == 200
    official_validator.assert_valid(ubl.content, "ubl", "en16931", "the import's UBL")
    official_validator.assert_valid(cii.content, "cii", "en16931", "the import's CII")
    assert (
        f'<cbc:PayableAmount currencyID="USD">{Decimal(total):.2f}</cbc:PayableAmount>'.encode()
        in ubl.content
    )
