"""Orders end to end: creation, quantities per line, partial invoicing with exact discount
shares, the errors of invoicing, voids giving quantities back, and bad input (each backend)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from order_factories import create_order, invoice_order, order_line
from sqlalchemy import func, select

from factories import create_customer
from faktur.db import session_scope
from faktur.models import Invoice, Order, OrderLine


def _lines(order: dict) -> list[tuple[str, str, str]]:
    return [(ln["quantity"], ln["invoiced_quantity"], ln["remaining_quantity"]) for ln in order["lines"]]


def _get(client, headers, order_id: str) -> dict:
    response = client.get(f"/v1/orders/{order_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _count(session_factory, model) -> int:
    with session_scope(session_factory) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_create_order_prices_it_and_shows_quantities(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(
        client,
        tenant.headers,
        customer["id"],
        [
            order_line(quantity="3", unit_price="10.00", discount={"amount": "10.00", "reason": "Bundle"}),
            order_line(name="Book", quantity="2.5", unit_price="12.00", percent="7", sku="B-1"),
        ],
        external_reference="PO-1001",
        metadata={"channel": "shop"},
    )
    assert order["status"] == "open"
    assert order["currency"] == "EUR"
    # 30.00 - 10.00 = 20.00 at 19 % (3.80); 30.00 at 7 % (2.10)
    assert (order["subtotal"], order["tax_total"], order["total"]) == ("50.00", "5.90", "55.90")
    assert _lines(order) == [("3", "0", "3"), ("2.5", "0", "2.5")]
    assert order["lines"][0]["discount_amount"] == "10.00"
    assert order["lines"][1]["sku"] == "B-1"
    assert (order["external_reference"], order["metadata"], order["invoice_ids"]) == (
        "PO-1001",
        {"channel": "shop"},
        [],
    )
    assert _get(client, tenant.headers, order["id"]) == order


def test_created_at_is_taken_from_the_caller(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(client, tenant.headers, customer["id"], created_at="2026-03-01T09:30:00+01:00")
    assert order["created_at"].startswith("2026-03-01T08:30:00")


def test_percent_discount_becomes_an_amount_of_the_whole_line(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(
        client,
        tenant.headers,
        customer["id"],
        [order_line(quantity="3", unit_price="3.33", discount={"percent": "15"})],
    )
    # round(9.99 x 15 %) = round(1.4985) = 1.50
    assert (order["lines"][0]["discount_percent"], order["lines"][0]["discount_amount"]) == ("15", "1.50")


def test_external_reference_is_unique_per_organisation(client, tenant, other_tenant) -> None:
    customer = create_customer(client, tenant.headers)
    create_order(client, tenant.headers, customer["id"], external_reference="PO-7")
    again = client.post(
        "/v1/orders",
        json={"customer_id": customer["id"], "lines": [order_line()], "external_reference": "PO-7"},
        headers=tenant.headers,
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "order_external_reference_taken"
    theirs = create_customer(client, other_tenant.headers)
    create_order(client, other_tenant.headers, theirs["id"], external_reference="PO-7")


def test_invoicing_without_lines_invoices_everything_that_remains(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(
        client,
        tenant.headers,
        customer["id"],
        [
            order_line(
                quantity="3", unit_price="10.00", discount={"amount": "1.00"}, sku="W-1", unit_code="H87"
            ),
            order_line(name="Book", quantity="2", unit_price="12.00", percent="7"),
        ],
        external_reference="PO-9",
    )
    response = invoice_order(client, tenant.headers, order["id"], memo="Thanks", metadata={"batch": "7"})
    assert response.status_code == 201, response.text
    invoice = response.json()
    assert invoice["source"] == "order"
    assert invoice["status"] == "draft"
    assert invoice["memo"] == "Thanks"
    assert invoice["metadata"] == {"batch": "7", "order_id": order["id"], "order_reference": "PO-9"}
    first, second = invoice["lines"]
    assert (
        first["description"],
        first["sku"],
        first["unit_code"],
        first["quantity"],
        first["unit_price"],
    ) == (
        "Widget",
        "W-1",
        "H87",
        "3",
        "10.00",
    )
    assert first["allowances"][0]["amount"] == "1.00"
    assert (first["tax"]["category"], first["tax"]["percent"]) == ("S", "19")
    assert first["source"] == {"kind": "order_line", "id": order["lines"][0]["id"]}
    assert second["source"] == {"kind": "order_line", "id": order["lines"][1]["id"]}
    assert invoice["total"] == order["total"]
    after = _get(client, tenant.headers, order["id"])
    assert after["status"] == "invoiced"
    assert _lines(after) == [("3", "3", "0"), ("2", "2", "0")]
    assert after["invoice_ids"] == [invoice["id"]]


def test_partial_invoices_carry_discount_shares_that_add_up_exactly(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(
        client,
        tenant.headers,
        customer["id"],
        [order_line(quantity="3", unit_price="10.00", discount={"amount": "10.00"})],
    )
    line_id = order["lines"][0]["id"]
    shares = []
    for _ in range(3):
        response = invoice_order(client, tenant.headers, order["id"], [(line_id, "1")])
        assert response.status_code == 201, response.text
        shares.append(response.json()["lines"][0]["allowances"][0]["amount"])
    assert shares == ["3.33", "3.34", "3.33"]
    assert sum(Decimal(s) for s in shares) == Decimal("10.00")
    assert _lines(_get(client, tenant.headers, order["id"])) == [("3", "3", "0")]


def test_fractional_partial_quantities_and_the_completing_invoice(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(
        client,
        tenant.headers,
        customer["id"],
        [order_line(quantity="7", unit_price="1.00", discount={"amount": "1.00"})],
    )
    line_id = order["lines"][0]["id"]
    amounts = []
    for quantity in ("0.5", "2.25", "1"):
        response = invoice_order(client, tenant.headers, order["id"], [(line_id, quantity)])
        amounts.append(response.json()["lines"][0]["allowances"][0]["amount"])
    rest = invoice_order(client, tenant.headers, order["id"]).json()
    assert rest["lines"][0]["quantity"] == "3.25"
    amounts.append(rest["lines"][0]["allowances"][0]["amount"])
    # cumulative round(1.00 x q / 7): 0.07, 0.39, 0.54 -> shares 0.07, 0.32, 0.15, then the rest 0.46
    assert amounts == ["0.07", "0.32", "0.15", "0.46"]
    assert sum(Decimal(a) for a in amounts) == Decimal("1.00")


def test_finalize_due_date_and_terms_are_passed_to_the_invoice(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(client, tenant.headers, customer["id"], [order_line(quantity="4")])
    line_id = order["lines"][0]["id"]
    issued = invoice_order(
        client, tenant.headers, order["id"], [(line_id, "1")], finalize=True, payment_terms_days=14
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["status"] == "open" and body["number"].endswith("00001")
    assert body["payment_terms_days"] == 14
    dated = invoice_order(
        client, tenant.headers, order["id"], [(line_id, "1")], finalize=True, due_date="2099-01-31"
    )
    assert dated.json()["due_date"] == "2099-01-31"


def test_unknown_and_foreign_orders_are_404(client, tenant, other_tenant) -> None:
    theirs = create_order(client, other_tenant.headers, create_customer(client, other_tenant.headers)["id"])
    for order_id in (str(uuid.uuid4()), theirs["id"]):
        response = invoice_order(client, tenant.headers, order_id)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "order_not_found"
        assert client.get(f"/v1/orders/{order_id}", headers=tenant.headers).status_code == 404
    assert _lines(_get(client, other_tenant.headers, theirs["id"])) == [("10", "0", "10")]


def test_fully_invoiced_order_is_409(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(client, tenant.headers, customer["id"])
    assert invoice_order(client, tenant.headers, order["id"]).status_code == 201
    for lines in (None, [(order["lines"][0]["id"], "1")]):
        response = invoice_order(client, tenant.headers, order["id"], lines)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "order_fully_invoiced"


def test_quantity_above_remaining_is_409_naming_line_and_quantities(client, tenant, session_factory) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(
        client, tenant.headers, customer["id"], [order_line(quantity="5"), order_line(quantity="2")]
    )
    first, second = (ln["id"] for ln in order["lines"])
    assert invoice_order(client, tenant.headers, order["id"], [(first, "4")]).status_code == 201
    invoices_before = _count(session_factory, Invoice)
    response = invoice_order(client, tenant.headers, order["id"], [(second, "1"), (first, "1.5")])
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "quantity_exceeds_remaining"
    assert first in error["message"] and "1.5" in error["message"]
    assert error["details"] == [
        {
            "field": "lines[1].quantity",
            "reason": "requested 1.5, remaining 1",
            "order_line_id": first,
            "requested_quantity": "1.5",
            "remaining_quantity": "1",
        }
    ]
    assert _count(session_factory, Invoice) == invoices_before


def test_a_line_of_another_order_is_422(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(client, tenant.headers, customer["id"])
    other = create_order(client, tenant.headers, customer["id"])
    response = invoice_order(client, tenant.headers, order["id"], [(other["lines"][0]["id"], "1")])
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "order_line_not_in_order"
    assert error["details"][0]["field"] == "lines[0].order_line_id"
    assert _lines(_get(client, tenant.headers, other["id"])) == [("10", "0", "10")]


def test_voiding_an_invoice_gives_its_quantities_back(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(
        client,
        tenant.headers,
        customer["id"],
        [order_line(quantity="3", unit_price="10.00", discount={"amount": "10.00"})],
    )
    line_id = order["lines"][0]["id"]
    first = invoice_order(client, tenant.headers, order["id"], [(line_id, "2")], finalize=True).json()
    assert first["lines"][0]["allowances"][0]["amount"] == "6.67"
    assert invoice_order(client, tenant.headers, order["id"]).status_code == 201
    assert invoice_order(client, tenant.headers, order["id"]).status_code == 409
    voided = client.post(f"/v1/invoices/{first['id']}/void", headers=tenant.headers)
    assert voided.status_code == 200, voided.text
    after_void = _get(client, tenant.headers, order["id"])
    assert _lines(after_void) == [("3", "1", "2")]
    assert after_void["status"] == "partially_invoiced"
    again = invoice_order(client, tenant.headers, order["id"])
    assert again.status_code == 201
    assert again.json()["lines"][0]["quantity"] == "2"
    # the live shares still add up to the discount: 3.33 (second invoice) + 6.67
    assert again.json()["lines"][0]["allowances"][0]["amount"] == "6.67"
    assert len(_get(client, tenant.headers, order["id"])["invoice_ids"]) == 3


def test_draft_invoice_of_an_order_cannot_have_its_lines_replaced(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(client, tenant.headers, customer["id"])
    invoice = invoice_order(client, tenant.headers, order["id"]).json()
    response = client.patch(
        f"/v1/invoices/{invoice['id']}",
        json={
            "lines": [
                {
                    "description": "x",
                    "quantity": "99",
                    "unit_price": "1",
                    "tax": {"category": "S", "percent": "19"},
                }
            ]
        },
        headers=tenant.headers,
    )
    assert response.status_code == 409
    assert _lines(_get(client, tenant.headers, order["id"])) == [("10", "10", "0")]


def test_tax_rate_lines_are_invoiced_with_the_rate(client, tenant) -> None:
    rate = client.post(
        "/v1/tax-rates", json={"name": "Reduced", "percent": "7", "category": "S"}, headers=tenant.headers
    ).json()
    customer = create_customer(client, tenant.headers)
    line = {"name": "Book", "quantity": "2", "unit_price": "20.00", "tax_rate_id": rate["id"]}
    order = create_order(client, tenant.headers, customer["id"], [line])
    assert order["lines"][0]["tax_rate_id"] == rate["id"] and order["lines"][0]["tax"] is None
    invoice = invoice_order(client, tenant.headers, order["id"]).json()
    assert invoice["lines"][0]["tax_rate_id"] == rate["id"]
    assert invoice["tax_total"] == "2.80"


def test_list_orders_pages_newest_first_and_filters_by_customer(client, tenant, other_tenant) -> None:
    one = create_customer(client, tenant.headers)
    two = create_customer(client, tenant.headers, name="Zwei")
    ids = [create_order(client, tenant.headers, c["id"])["id"] for c in (one, two, one)]
    create_order(client, other_tenant.headers, create_customer(client, other_tenant.headers)["id"])
    first = client.get("/v1/orders?limit=2", headers=tenant.headers).json()
    assert first["has_more"] is True
    rest = client.get(f"/v1/orders?limit=2&cursor={first['next_cursor']}", headers=tenant.headers).json()
    assert [o["id"] for o in first["data"] + rest["data"]] == ids[::-1]
    assert rest["has_more"] is False
    mine = client.get(f"/v1/orders?customer_id={one['id']}", headers=tenant.headers).json()
    assert {o["id"] for o in mine["data"]} == {ids[0], ids[2]}


def test_idempotency_key_replays_the_invoice_instead_of_invoicing_twice(
    client, tenant, session_factory
) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(client, tenant.headers, customer["id"], [order_line(quantity="4")])
    headers = {**tenant.headers, "Idempotency-Key": "ship-1"}
    body = {"lines": [{"order_line_id": order["lines"][0]["id"], "quantity": "1"}]}
    first = client.post(f"/v1/orders/{order['id']}/invoices", json=body, headers=headers)
    second = client.post(f"/v1/orders/{order['id']}/invoices", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["id"] == second.json()["id"]
    assert _lines(_get(client, tenant.headers, order["id"])) == [("4", "1", "3")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": []}, "lines"),
        (
            {
                "lines": [
                    {
                        "name": "x",
                        "quantity": "0",
                        "unit_price": "1",
                        "tax": {"category": "S", "percent": "19"},
                    }
                ]
            },
            "lines[0].quantity",
        ),
        (
            {
                "lines": [
                    {
                        "name": "x",
                        "quantity": "-1",
                        "unit_price": "1",
                        "tax": {"category": "S", "percent": "19"},
                    }
                ]
            },
            "lines[0].quantity",
        ),
        (
            {
                "lines": [
                    {
                        "name": "x",
                        "quantity": "1e20",
                        "unit_price": "1",
                        "tax": {"category": "S", "percent": "19"},
                    }
                ]
            },
            "lines[0].quantity",
        ),
        (
            {
                "lines": [
                    {
                        "name": "x",
                        "quantity": "1",
                        "unit_price": "-1",
                        "tax": {"category": "S", "percent": "19"},
                    }
                ]
            },
            "lines[0]",
        ),
        ({"lines": [{"name": "x", "quantity": "1", "unit_price": "1"}]}, "lines[0]"),
        ({"lines": [order_line(discount={"amount": "1", "percent": "5"})]}, "lines[0].discount"),
        ({"lines": [order_line(discount={"percent": "101"})]}, "lines[0].discount"),
        ({"lines": [order_line()], "currency": "XXQ"}, "currency"),
        ({"lines": [order_line()], "created_at": "2026-01-01T00:00:00"}, "created_at"),
        ({"lines": [order_line()], "metadata": {"k": 1}}, "metadata"),
        ({"lines": [order_line()], "unknown": 1}, "unknown"),
        ({"lines": [order_line(name="a\u0000b")]}, "lines[0].name"),
    ],
)
def test_invalid_orders_are_422_and_store_nothing(client, tenant, session_factory, body, field) -> None:
    customer = create_customer(client, tenant.headers)
    response = client.post("/v1/orders", json={"customer_id": customer["id"], **body}, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"].startswith(field)
    assert _count(session_factory, Order) == 0


def test_orders_refused_by_the_engine_or_for_unknown_references_store_nothing(
    client, tenant, other_tenant, session_factory
) -> None:
    customer = create_customer(client, tenant.headers)
    foreign_rate = client.post(
        "/v1/tax-rates", json={"name": "R", "percent": "7", "category": "S"}, headers=other_tenant.headers
    ).json()
    cases = [
        ({"customer_id": str(uuid.uuid4()), "lines": [order_line()]}, 404, "customer_not_found"),
        (
            {
                "customer_id": customer["id"],
                "lines": [
                    {"name": "x", "quantity": "1", "unit_price": "1", "tax_rate_id": foreign_rate["id"]}
                ],
            },
            404,
            "tax_rate_not_found",
        ),
        (
            {"customer_id": customer["id"], "lines": [order_line(discount={"amount": "0.001"})]},
            422,
            "amount_precision",
        ),
        (
            {
                "customer_id": customer["id"],
                "lines": [order_line(quantity="1", unit_price="5", discount={"amount": "6"})],
            },
            422,
            "discount_exceeds_line_amount",
        ),
        (
            {
                "customer_id": customer["id"],
                "lines": [order_line(percent="0", tax={"category": "E", "percent": "0"})],
            },
            422,
            "tax_rule_violation",
        ),
    ]
    for body, status, code in cases:
        response = client.post("/v1/orders", json=body, headers=tenant.headers)
        assert response.status_code == status, (body, response.text)
        if code:
            assert response.json()["error"]["code"] == code
    assert _count(session_factory, Order) == 0
    assert _count(session_factory, OrderLine) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"lines": []},
        {"lines": [{"order_line_id": "not-a-uuid", "quantity": "1"}]},
        {"lines": [{"order_line_id": str(uuid.uuid4()), "quantity": "0"}]},
        {"lines": [{"order_line_id": str(uuid.uuid4()), "quantity": "1e30"}]},
        {"finalize": "yes"},
        {"payment_terms_days": True},
        {"metadata": {"order_id": "mine"}},
        {"extra": 1},
    ],
)
def test_invalid_invoice_requests_are_422_and_invoice_nothing(client, tenant, session_factory, body) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(client, tenant.headers, customer["id"])
    response = client.post(f"/v1/orders/{order['id']}/invoices", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert _count(session_factory, Invoice) == 0


def test_duplicate_line_ids_and_malformed_json_are_rejected(client, tenant, session_factory) -> None:
    customer = create_customer(client, tenant.headers)
    order = create_order(client, tenant.headers, customer["id"])
    line_id = order["lines"][0]["id"]
    twice = invoice_order(client, tenant.headers, order["id"], [(line_id, "1"), (line_id, "1")])
    assert twice.status_code == 422
    broken = client.post(
        f"/v1/orders/{order['id']}/invoices",
        content=b'{"lines": [',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "malformed_json"
    assert client.get("/v1/orders/not-a-uuid", headers=tenant.headers).status_code == 422
    assert client.get("/v1/orders?cursor=garbage", headers=tenant.headers).status_code == 400
    assert _count(session_factory, Invoice) == 0
