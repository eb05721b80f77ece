"""WizCommerce dialect (seed 002): an invoice issued by the shop is imported as given."""

from __future__ import annotations

import itertools
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from seed_openapi import seed_openapi

from factories import create_customer
from schemathesis_harness import run_contract

URL = "/compat/wizcommerce/v1/invoices"
_SCHEMAS = seed_openapi("002")["components"]["schemas"]
REQUEST_FIELDS = _SCHEMAS["dtos.InvoiceCreateRequest"]["properties"]
ITEM_FIELDS = _SCHEMAS["dtos.InvoiceItemCreateRequest"]["properties"]


def order_body(customer_id: str, reference: str = "ORD-20250101", **extra: Any) -> dict[str, Any]:
    body = {
        "customer_id": customer_id,
        "currency": "USD",
        "external_reference": reference,
        "created_at": "2024-12-30T09:00:00Z",
        "lines": [
            {
                "name": "Item Name",
                "sku": "SKU-20250101",
                "quantity": "2",
                "unit_price": "100.00",
                "tax": {"category": "S", "percent": "19"},
            },
        ],
    }
    body.update(extra)
    return body


def create_order(client: TestClient, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    customer = create_customer(client, headers)
    response = client.post("/v1/orders", json=order_body(customer["id"], **extra), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def invoice_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference_id": "INV-20250101",
        "order_id": "ORD-20250101",
        "invoice_number": "INV-20250101",
        "total_amount": 269.96,
        "paid_amount": 100,
        "status": "PARTIALLY_PAID",
        "due_date": "2025-01-31T00:00:00Z",
        "remarks": "Remarks",
        "url": "https://example.com/invoice/INV-20250101",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "items": [
            {"reference_id": "ITEM-1", "sku": "SKU-1", "quantity": 2, "amount": 99.99, "name": "Boots"},
            {"reference_id": "ITEM-2", "sku": "SKU-2", "quantity": 1, "amount": 69.98, "name": "Socks"},
        ],
    }
    body.update(overrides)
    return body


def wiz(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


_numbers = itertools.count(1)
# What faktur refuses in any text (faktur.fields): steered cases must not carry it.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def steer_toward_success(case: Any, draw: Any) -> None:
    """Three of four valid cases get valid dates, sane money and a total that matches their
    items, and by turns a known and an unknown order, so 201 and 404 answers are generated and
    checked against the schema too (by chance alone, one run in about sixteen saw no 404)."""
    body = case.body
    if not isinstance(body, dict) or draw(st.integers(0, 3)) == 0:
        return
    # Fields the document does not name are refused (nothing is silently ignored): drop them.
    for key in set(body) - set(REQUEST_FIELDS):
        del body[key]
    number = next(_numbers)
    body["order_id"] = "ORD-20250101" if number % 2 else "ORD-UNKNOWN"
    body["invoice_number"] = f"WIZ-{number}"
    for key in ("due_date", "created_at", "updated_at"):
        body[key] = "2025-01-01T00:00:00Z"
    body["items"] = [item for item in body.get("items") or [] if isinstance(item, dict)] or [
        {"reference_id": "ITEM-1", "sku": "SKU-1", "name": "Item"}
    ]
    for key in ("reference_id", "remarks", "url"):
        if isinstance(body.get(key), str):
            body[key] = XML_ILLEGAL.sub("", body[key])[:200]
    total = Decimal(0)
    for item in body["items"]:
        for key in set(item) - set(ITEM_FIELDS):
            del item[key]
        for key in ("reference_id", "sku"):
            item[key] = XML_ILLEGAL.sub("", str(item.get(key, "")))[:100]
        quantity = draw(st.integers(1, 1000))
        amount = draw(st.decimals(Decimal("0"), Decimal("10000"), places=2))
        item.update(quantity=quantity, amount=float(amount), name="Item")
        total += quantity * amount
    body["total_amount"] = float(total)
    body["paid_amount"] = float(draw(st.sampled_from([Decimal(0), total, total + 1])))
    body.pop("status", None)
    # faktur refuses such characters anywhere in a body, fields the dialect ignores included.
    clean = _without_illegal_text(body)
    body.clear()
    body.update(clean)


def _without_illegal_text(value: Any) -> Any:
    if isinstance(value, str):
        return XML_ILLEGAL.sub("", value)
    if isinstance(value, dict):
        return {XML_ILLEGAL.sub("", str(k)): _without_illegal_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_illegal_text(v) for v in value]
    return value


def test_contract_of_seed_openapi(app, client, tenant) -> None:
    create_order(client, tenant.headers)
    statuses = run_contract(
        app, seed_openapi("002"), "/compat/wizcommerce", wiz(tenant.api_key), prepare=steer_toward_success
    )
    # Every status documented by the seed's operation shows up, and never a 500.
    assert {201, 400, 401, 404} <= set(statuses) <= {201, 400, 401, 403, 404}


def count_invoices(client: TestClient, headers: dict[str, str]) -> int:
    return len(client.get("/v1/invoices", params={"limit": 100}, headers=headers).json()["data"])


def test_end_to_end_import_then_read_back_natively(client, tenant) -> None:
    order = create_order(client, tenant.headers)
    response = client.post(
        URL, json=invoice_body(), headers={"X-API-Key": tenant.api_key, "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert set(data) == {
        "id",
        "reference_id",
        "order_id",
        "invoice_number",
        "total_amount",
        "paid_amount",
        "status",
        "due_date",
        "remarks",
        "url",
        "created_at",
        "updated_at",
        "items",
    }
    assert (data["invoice_number"], data["reference_id"], data["order_id"]) == (
        "INV-20250101",
        "INV-20250101",
        "ORD-20250101",
    )
    assert (data["total_amount"], data["paid_amount"], data["status"]) == (269.96, 100, "PARTIALLY_PAID")
    assert '"total_amount":269.96' in response.text  # an exact JSON number, not a string
    assert (data["due_date"], data["created_at"], data["updated_at"]) == (
        "2025-01-31T00:00:00Z",
        "2025-01-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
    )
    assert [
        (i["reference_id"], i["product_id"], i["quantity"], i["amount"], i["item_total"])
        for i in data["items"]
    ] == [
        ("ITEM-1", "SKU-1", 2, 99.99, 199.98),
        ("ITEM-2", "SKU-2", 1, 69.98, 69.98),
    ]

    native = client.get(f"/v1/invoices/{data['id']}", headers=tenant.headers).json()
    assert native["number"] == "INV-20250101"
    assert (native["status"], native["payment_status"], native["source"]) == (
        "open",
        "partially_paid",
        "import",
    )
    assert (native["currency"], native["total"], native["amount_paid"], native["amount_due"]) == (
        "USD",
        "269.96",
        "100.00",
        "169.96",
    )
    assert (native["issue_date"], native["due_date"]) == ("2025-01-01", "2025-01-31")
    assert native["customer_id"] == order["customer_id"]
    assert (native["external_reference"], native["memo"]) == ("INV-20250101", "Remarks")
    assert [
        (ln["description"], ln["sku"], ln["quantity"], ln["unit_price"], ln["net_amount"])
        for ln in native["lines"]
    ] == [
        ("Boots", "SKU-1", "2", "99.99", "199.98"),
        ("Socks", "SKU-2", "1", "69.98", "69.98"),
    ]
    assert [p["amount"] for p in native["payments"]] == ["100.00"]
    assert [(h["from_status"], h["to_status"]) for h in native["status_history"]] == [
        (None, "draft"),
        ("draft", "open"),
    ]


@pytest.mark.parametrize(
    ("paid", "status", "native_status", "payment_status"),
    [
        (0, "PENDING", "open", "unpaid"),
        (100, "PARTIALLY_PAID", "open", "partially_paid"),
        (269.96, "PAID", "paid", "paid"),
        (300, "OVERPAID", "paid", "overpaid"),
        (300, None, "paid", "overpaid"),
    ],
)
def test_status_follows_paid_amount(client, tenant, paid, status, native_status, payment_status) -> None:
    create_order(client, tenant.headers)
    body = invoice_body(paid_amount=paid, status=status)
    if status is None:
        del body["status"]
    response = client.post(URL, json=body, headers=wiz(tenant.api_key))
    assert response.status_code == 201, response.text
    assert response.json()["data"]["status"] == (status or "OVERPAID")
    native = client.get(f"/v1/invoices/{response.json()['data']['id']}", headers=tenant.headers).json()
    assert (native["status"], native["payment_status"]) == (native_status, payment_status)


@pytest.mark.parametrize(
    ("paid", "status", "payment_status"),
    [(0, "PAID", "unpaid"), (100, "PENDING", "partially_paid"), (269.96, "UNPAID", "paid")],
)
def test_status_is_stored_and_answered_as_given(client, tenant, paid, status, payment_status) -> None:
    """An import records what the shop issued: its status, even where its paid_amount says
    otherwise (faktur's own payment status follows the amount actually paid)."""
    create_order(client, tenant.headers)
    response = client.post(
        URL, json=invoice_body(paid_amount=paid, status=status), headers=wiz(tenant.api_key)
    )
    assert response.status_code == 201, response.text
    assert (response.json()["data"]["status"], response.json()["data"]["paid_amount"]) == (status, paid)
    native = client.get(f"/v1/invoices/{response.json()['data']['id']}", headers=tenant.headers).json()
    assert native["payment_status"] == payment_status


def test_invoice_number_is_unique_per_organisation(client, tenant, other_tenant) -> None:
    create_order(client, tenant.headers)
    create_order(client, other_tenant.headers)
    assert client.post(URL, json=invoice_body(), headers=wiz(tenant.api_key)).status_code == 201
    again = client.post(URL, json=invoice_body(reference_id="other"), headers=wiz(tenant.api_key))
    assert again.status_code == 400
    assert again.json()["code"] == "invoice_number_taken"
    assert again.json()["details"] == [{"field": "invoice_number", "reason": "already used"}]
    # Another organisation may use the same number.
    assert client.post(URL, json=invoice_body(), headers=wiz(other_tenant.api_key)).status_code == 201
    assert count_invoices(client, tenant.headers) == 1


def test_number_of_the_automatic_series_is_refused(client, tenant) -> None:
    create_order(client, tenant.headers)
    response = client.post(
        URL, json=invoice_body(invoice_number="INV-2025-00001"), headers=wiz(tenant.api_key)
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invoice_number_in_automatic_series"
    assert response.json()["details"][0]["field"] == "invoice_number"


@pytest.mark.parametrize(
    ("total", "kind", "amount", "reason"),
    [
        (300, "charge", "30.04", "As invoiced: not itemized (tax, shipping or other charges)"),
        (250, "allowance", "19.96", "As invoiced: not itemized (discount)"),
    ],
)
def test_total_the_items_do_not_explain_is_an_explicit_document_charge_or_allowance(
    client, tenant, total, kind, amount, reason
) -> None:
    create_order(client, tenant.headers)
    response = client.post(URL, json=invoice_body(total_amount=total), headers=wiz(tenant.api_key))
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["total_amount"] == total
    assert [i["item_total"] for i in data["items"]] == [199.98, 69.98]
    native = client.get(f"/v1/invoices/{data['id']}", headers=tenant.headers).json()
    assert (native["subtotal"], native["total"]) == ("269.96", f"{total}.00")
    assert [(a["kind"], a["computed_amount"], a["reason"]) for a in native["adjustments"]] == [
        (kind, amount, reason)
    ]
    assert (native["charge_total"], native["allowance_total"]) == (
        (amount, "0.00") if kind == "charge" else ("0.00", amount)
    )


def test_updated_at_must_be_after_the_order_was_created(client, tenant) -> None:
    create_order(client, tenant.headers)  # created 2024-12-30T09:00:00Z
    for updated_at in ("2024-12-30T09:00:00Z", "2024-12-30T10:00:00+02:00", "2024-01-01"):
        response = client.post(URL, json=invoice_body(updated_at=updated_at), headers=wiz(tenant.api_key))
        assert response.status_code == 400, updated_at
        assert [d["field"] for d in response.json()["details"]] == ["updated_at"]
    later = client.post(
        URL, json=invoice_body(updated_at="2024-12-30T09:00:01Z"), headers=wiz(tenant.api_key)
    )
    assert later.status_code == 201


def test_order_found_by_faktur_id_too(client, tenant) -> None:
    order = create_order(client, tenant.headers)
    response = client.post(URL, json=invoice_body(order_id=order["id"]), headers=wiz(tenant.api_key))
    assert response.status_code == 201
    assert response.json()["data"]["order_id"] == order["id"]


def test_unknown_or_foreign_order_is_404(client, tenant, other_tenant) -> None:
    foreign = create_order(client, other_tenant.headers)
    for order_id in ("ORD-NOPE", foreign["id"], "ORD-20250101"):
        response = client.post(URL, json=invoice_body(order_id=order_id), headers=wiz(tenant.api_key))
        assert response.status_code == 404
        body = response.json()
        assert set(body) == {"code", "message", "details"}
        assert body["details"] == [{"field": "order_id", "reason": "unknown order"}]


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "fk_wrong"}, {"X-API-Key": ""}, {"Authorization": "Bearer {key}"}],
    ids=["missing", "wrong", "empty", "native-header-only"],
)
def test_missing_or_wrong_key_is_401_in_wizcommerce_shape(client, tenant, headers) -> None:
    headers = {k: v.format(key=tenant.api_key) for k, v in headers.items()}
    response = client.post(URL, json=invoice_body(), headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["details"] == []
    assert "error" not in body


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"reference_id": "x", ', None),
        (b"[]", None),
        (b"null", None),
        (json.dumps(invoice_body(total_amount="269.96")).encode(), "total_amount"),
        (json.dumps(invoice_body(paid_amount=-1)).encode(), "paid_amount"),
        (json.dumps(invoice_body(total_amount=10**40)).encode(), "total_amount"),
        (b'{"total_amount": 1e999}', None),
        (
            json.dumps(
                invoice_body(
                    items=[{"reference_id": "r", "sku": "s", "quantity": 1.5, "amount": 1, "name": "n"}]
                )
            ).encode(),
            "items[0].quantity",
        ),
        (json.dumps(invoice_body(items=None)).encode(), "items"),
        (json.dumps(invoice_body(extra_field=1)).encode(), "extra_field"),
        (json.dumps(invoice_body(status="DONE")).encode(), "status"),
        (json.dumps(invoice_body(due_date="tomorrow")).encode(), "due_date"),
        (json.dumps(invoice_body(due_date="2025-01-01T00:00:00")).encode(), "due_date"),
        (json.dumps(invoice_body(invoice_number="x" * 256)).encode(), "invoice_number"),
        (json.dumps(invoice_body(remarks="a\u0000b")).encode(), "remarks"),
        (json.dumps(invoice_body(due_date="2024-12-31T00:00:00Z")).encode(), "due_date"),
    ],
)
def test_bad_input_is_400_in_wizcommerce_shape_and_stores_nothing(client, tenant, raw, field) -> None:
    create_order(client, tenant.headers)
    response = client.post(
        URL, content=raw, headers={**wiz(tenant.api_key), "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    if field is not None:
        assert field in [d["field"] for d in body["details"]]
    assert count_invoices(client, tenant.headers) == 0


def test_idempotency_key_replays_the_import(client, tenant) -> None:
    create_order(client, tenant.headers)
    headers = {**wiz(tenant.api_key), "Idempotency-Key": "wiz-1"}
    first = client.post(URL, json=invoice_body(), headers=headers)
    second = client.post(URL, json=invoice_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json() == first.json()
    assert count_invoices(client, tenant.headers) == 1


@pytest.mark.postgres_only
def test_concurrent_imports_of_one_number_store_one_invoice(client, live_server, tenant) -> None:
    create_order(client, tenant.headers)
    barrier = threading.Barrier(6)

    def post(index: int) -> int:
        barrier.wait()
        body = invoice_body(reference_id=f"ref-{index}")
        return httpx.post(live_server + URL, json=body, headers=wiz(tenant.api_key), timeout=30).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(post, range(6)))
    assert statuses == [201, 400, 400, 400, 400, 400]
    assert count_invoices(client, tenant.headers) == 1
