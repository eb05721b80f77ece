"""Pending invoice items end to end: creation, the attachable filter, deletion while pending,
gathering into one invoice per (customer, contract, currency, payment mode), skipped and unknown
ids, voids that make items attachable again, and bad input (each backend)."""

from __future__ import annotations

import uuid

import pytest
from item_factories import create_item, gather, item_body
from sqlalchemy import func, select

from factories import create_customer
from faktur.db import session_scope
from faktur.models import Invoice, InvoiceItem
from recurring_factories import create_contract, flat


def _count(session_factory, model) -> int:
    with session_scope(session_factory) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def _attachable(client, headers, **params) -> list[str]:
    response = client.get(
        "/v1/invoice-items", params={"attachable": "true", "limit": 100, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def test_create_item_and_get_it(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    contract_id = create_contract(client, tenant.headers, [flat()], customer_id=customer["id"])["id"]
    item = create_item(
        client,
        tenant.headers,
        customer["id"],
        contract_id=contract_id,
        quantity="3",
        unit_price="0.333",
        period_start="2026-05-01",
        period_end="2026-06-01",
        payment_mode="manual",
        metadata={"seat": "admin"},
    )
    assert item["status"] == "pending" and item["invoice_id"] is None
    assert (item["currency"], item["payment_mode"], item["contract_id"]) == ("EUR", "manual", contract_id)
    assert (item["quantity"], item["unit_price"], item["amount"]) == ("3", "0.333", "1.00")
    assert (item["period_start"], item["period_end"]) == ("2026-05-01", "2026-06-01")
    assert client.get(f"/v1/invoice-items/{item['id']}", headers=tenant.headers).json() == item


def test_defaults_payment_mode_automatic_quantity_one_and_the_customers_currency(client, tenant) -> None:
    customer = create_customer(client, tenant.headers, currency="CHF")
    body = item_body(customer["id"])
    del body["quantity"]
    response = client.post("/v1/invoice-items", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    item = response.json()
    assert (item["payment_mode"], item["currency"], item["quantity"]) == ("automatic", "CHF", "1")


def test_gather_makes_one_invoice_per_customer_contract_currency_and_payment_mode(client, tenant) -> None:
    one = create_customer(client, tenant.headers)
    two = create_customer(client, tenant.headers, name="Zwei")
    contract = create_contract(client, tenant.headers, [flat()], customer_id=one["id"])["id"]
    groups = {
        "one-plain-auto": [
            create_item(client, tenant.headers, one["id"], description=f"a{i}") for i in range(3)
        ],
        "one-contract-auto": [create_item(client, tenant.headers, one["id"], contract_id=contract)],
        "one-plain-manual": [create_item(client, tenant.headers, one["id"], payment_mode="manual")],
        "one-plain-usd": [create_item(client, tenant.headers, one["id"], currency="USD")],
        "two-plain-auto": [create_item(client, tenant.headers, two["id"]) for _ in range(2)],
    }
    response = gather(client, tenant.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["skipped"] == []
    invoices = body["invoices"]
    assert len(invoices) == 5
    billed = sorted(sorted(line["source"]["id"] for line in inv["lines"]) for inv in invoices)
    assert billed == sorted(sorted(item["id"] for item in items) for items in groups.values())
    for invoice in invoices:
        assert invoice["source"] == "invoice_items"
        assert all(line["source"]["kind"] == "invoice_item" for line in invoice["lines"])
    by_first = {inv["lines"][0]["source"]["id"]: inv for inv in invoices}
    assert by_first[groups["one-plain-manual"][0]["id"]]["metadata"] == {"payment_mode": "manual"}
    assert by_first[groups["one-contract-auto"][0]["id"]]["metadata"] == {
        "payment_mode": "automatic",
        "contract_id": contract,
    }
    assert by_first[groups["one-plain-usd"][0]["id"]]["currency"] == "USD"
    three = by_first[groups["one-plain-auto"][0]["id"]]
    assert [line["description"] for line in three["lines"]] == ["a0", "a1", "a2"]
    assert three["total"] == "107.10"  # 3 x 30.00 + 19 %
    assert _attachable(client, tenant.headers) == []
    listed = client.get("/v1/invoice-items?attachable=false", headers=tenant.headers).json()["data"]
    assert len(listed) == 8 and all(item["status"] == "invoiced" and item["invoice_id"] for item in listed)


def test_gather_with_nothing_attachable_answers_200_and_an_empty_list(
    client, tenant, session_factory
) -> None:
    response = gather(client, tenant.headers)
    assert response.status_code == 200
    assert response.json() == {"invoices": [], "skipped": []}
    customer = create_customer(client, tenant.headers)
    create_item(client, tenant.headers, customer["id"])
    assert gather(client, tenant.headers).status_code == 201
    again = gather(client, tenant.headers)
    assert (again.status_code, again.json()) == (200, {"invoices": [], "skipped": []})
    assert _count(session_factory, Invoice) == 1


def test_gather_scoped_to_a_customer_or_a_contract(client, tenant) -> None:
    one = create_customer(client, tenant.headers)
    two = create_customer(client, tenant.headers, name="Zwei")
    contract = create_contract(client, tenant.headers, [flat()], customer_id=two["id"])["id"]
    mine = create_item(client, tenant.headers, one["id"])
    on_contract = create_item(client, tenant.headers, two["id"], contract_id=contract)
    other = create_item(client, tenant.headers, two["id"])
    first = gather(client, tenant.headers, customer_id=one["id"]).json()["invoices"]
    assert [line["source"]["id"] for inv in first for line in inv["lines"]] == [mine["id"]]
    second = gather(client, tenant.headers, contract_id=contract).json()["invoices"]
    assert [line["source"]["id"] for inv in second for line in inv["lines"]] == [on_contract["id"]]
    assert _attachable(client, tenant.headers) == [other["id"]]


def test_gather_by_ids_skips_and_reports_items_already_invoiced(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    a, b, c = (create_item(client, tenant.headers, customer["id"]) for _ in range(3))
    first = gather(client, tenant.headers, item_ids=[a["id"]]).json()
    invoice_a = first["invoices"][0]["id"]
    response = gather(client, tenant.headers, item_ids=[b["id"], a["id"]])
    assert response.status_code == 201
    body = response.json()
    assert [line["source"]["id"] for line in body["invoices"][0]["lines"]] == [b["id"]]
    assert body["skipped"] == [{"item_id": a["id"], "reason": "already_invoiced", "invoice_id": invoice_a}]
    only_invoiced = gather(client, tenant.headers, item_ids=[a["id"]])
    assert only_invoiced.status_code == 200
    assert only_invoiced.json()["invoices"] == []
    assert [s["item_id"] for s in only_invoiced.json()["skipped"]] == [a["id"]]
    assert _attachable(client, tenant.headers) == [c["id"]]


def test_unknown_and_foreign_item_ids_are_404_naming_them_and_invoice_nothing(
    client, tenant, other_tenant, session_factory
) -> None:
    customer = create_customer(client, tenant.headers)
    mine = create_item(client, tenant.headers, customer["id"])
    theirs = create_item(client, other_tenant.headers, create_customer(client, other_tenant.headers)["id"])
    unknown = str(uuid.uuid4())
    response = gather(client, tenant.headers, item_ids=[mine["id"], unknown, theirs["id"]])
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "invoice_item_not_found"
    assert unknown in error["message"] and theirs["id"] in error["message"]
    assert [(d["field"], d["item_id"]) for d in error["details"]] == [
        ("item_ids[1]", unknown),
        ("item_ids[2]", theirs["id"]),
    ]
    assert _count(session_factory, Invoice) == 0
    assert client.get(f"/v1/invoice-items/{theirs['id']}", headers=tenant.headers).status_code == 404
    assert client.delete(f"/v1/invoice-items/{theirs['id']}", headers=tenant.headers).status_code == 404
    assert _attachable(client, other_tenant.headers) == [theirs["id"]]


def test_item_ids_outside_the_given_customer_are_422(client, tenant, session_factory) -> None:
    one = create_customer(client, tenant.headers)
    two = create_customer(client, tenant.headers, name="Zwei")
    item = create_item(client, tenant.headers, two["id"])
    response = gather(client, tenant.headers, customer_id=one["id"], item_ids=[item["id"]])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invoice_item_out_of_scope"
    assert _count(session_factory, Invoice) == 0
    unknown_customer = gather(client, tenant.headers, customer_id=str(uuid.uuid4()))
    assert unknown_customer.status_code == 404


def test_voiding_the_invoice_makes_its_items_attachable_again(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    items = [create_item(client, tenant.headers, customer["id"]) for _ in range(2)]
    invoice = gather(client, tenant.headers, finalize=True).json()["invoices"][0]
    assert invoice["status"] == "open"
    assert _attachable(client, tenant.headers) == []
    assert client.post(f"/v1/invoices/{invoice['id']}/void", headers=tenant.headers).status_code == 200
    assert sorted(_attachable(client, tenant.headers)) == sorted(i["id"] for i in items)
    again = gather(client, tenant.headers).json()["invoices"]
    assert len(again) == 1 and again[0]["id"] != invoice["id"]
    assert sorted(line["source"]["id"] for line in again[0]["lines"]) == sorted(i["id"] for i in items)


def test_delete_only_while_pending(client, tenant, session_factory) -> None:
    customer = create_customer(client, tenant.headers)
    pending = create_item(client, tenant.headers, customer["id"])
    invoiced = create_item(client, tenant.headers, customer["id"])
    invoice = gather(client, tenant.headers, item_ids=[invoiced["id"]]).json()["invoices"][0]
    refused = client.delete(f"/v1/invoice-items/{invoiced['id']}", headers=tenant.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invoice_item_invoiced"
    assert invoice["id"] in refused.json()["error"]["message"]
    assert client.delete(f"/v1/invoice-items/{pending['id']}", headers=tenant.headers).status_code == 204
    assert client.get(f"/v1/invoice-items/{pending['id']}", headers=tenant.headers).status_code == 404
    assert client.delete(f"/v1/invoice-items/{pending['id']}", headers=tenant.headers).status_code == 404
    assert _count(session_factory, InvoiceItem) == 1


def test_inclusive_and_exclusive_items_never_share_an_invoice(client, tenant) -> None:
    rate = client.post(
        "/v1/tax-rates",
        json={"name": "Gross", "percent": "19", "category": "S", "inclusive": True},
        headers=tenant.headers,
    ).json()
    customer = create_customer(client, tenant.headers)
    gross = create_item(
        client, tenant.headers, customer["id"], tax=None, tax_rate_id=rate["id"], unit_price="119.00"
    )
    create_item(client, tenant.headers, customer["id"])
    assert gross["prices_include_tax"] is True
    invoices = gather(client, tenant.headers).json()["invoices"]
    assert sorted(inv["prices_include_tax"] for inv in invoices) == [False, True]
    inclusive = next(inv for inv in invoices if inv["prices_include_tax"])
    assert (inclusive["total"], inclusive["tax_total"]) == ("238.00", "38.00")  # 2 x 119.00 gross


def test_idempotent_gather_replays_instead_of_invoicing_again(client, tenant, session_factory) -> None:
    customer = create_customer(client, tenant.headers)
    create_item(client, tenant.headers, customer["id"])
    headers = {**tenant.headers, "Idempotency-Key": "run-1"}
    first = client.post("/v1/invoice-items/invoice", json={}, headers=headers)
    second = client.post("/v1/invoice-items/invoice", json={}, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json() == first.json()
    assert _count(session_factory, Invoice) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-2"}, "quantity"),
        ({"quantity": "1e20"}, "quantity"),
        ({"unit_price": "-1"}, "body"),
        ({"unit_price": "0.0000001"}, "unit_price"),
        ({"tax": None}, "body"),
        ({"tax_rate_id": str(uuid.uuid4())}, "body"),
        ({"payment_mode": "sometimes"}, "payment_mode"),
        ({"currency": "EURO"}, "currency"),
        ({"period_start": "2026-05-01"}, "body"),
        ({"period_start": "2026-05-01", "period_end": "2026-05-01"}, "body"),
        ({"contract_id": "c-1"}, "contract_id"),
        ({"description": ""}, "description"),
        ({"description": "x" * 1001}, "description"),
        ({"metadata": {"k": ["v"]}}, "metadata"),
        ({"customer_id": "nope"}, "customer_id"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_invalid_items_are_422_and_store_nothing(client, tenant, session_factory, overrides, field) -> None:
    customer = create_customer(client, tenant.headers)
    body = {**item_body(customer["id"]), **overrides}
    response = client.post("/v1/invoice-items", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == field
    assert _count(session_factory, InvoiceItem) == 0


def test_items_refused_by_references_or_the_engine_store_nothing(
    client, tenant, other_tenant, session_factory
) -> None:
    customer = create_customer(client, tenant.headers)
    foreign_rate = client.post(
        "/v1/tax-rates", json={"name": "R", "percent": "7", "category": "S"}, headers=other_tenant.headers
    ).json()
    foreign_customer = create_customer(client, other_tenant.headers)
    cases = [
        (item_body(str(uuid.uuid4())), 404, "customer_not_found"),
        (item_body(foreign_customer["id"]), 404, "customer_not_found"),
        (item_body(customer["id"], tax=None, tax_rate_id=foreign_rate["id"]), 404, "tax_rate_not_found"),
        (item_body(customer["id"], tax={"category": "E", "percent": "0"}), 422, "tax_rule_violation"),
    ]
    for body, status, code in cases:
        response = client.post("/v1/invoice-items", json=body, headers=tenant.headers)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert _count(session_factory, InvoiceItem) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"item_ids": []},
        {"item_ids": ["not-a-uuid"]},
        {"item_ids": [str(uuid.UUID(int=1))] * 2},
        {"item_ids": [str(uuid.uuid4()) for _ in range(1001)]},
        {"customer_id": 5},
        {"finalize": "true"},
        {"payment_terms_days": -1},
        {"due_date": "tomorrow"},
        {"everything": True},
    ],
)
def test_invalid_gathers_are_422_and_invoice_nothing(client, tenant, session_factory, body) -> None:
    customer = create_customer(client, tenant.headers)
    create_item(client, tenant.headers, customer["id"])
    response = gather(client, tenant.headers, **body)
    assert response.status_code == 422, response.text
    assert _count(session_factory, Invoice) == 0


def test_garbage_requests_are_4xx(client, tenant) -> None:
    broken = client.post(
        "/v1/invoice-items/invoice",
        content=b"{",
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "malformed_json")
    assert client.get("/v1/invoice-items?attachable=maybe", headers=tenant.headers).status_code == 422
    assert client.get("/v1/invoice-items?cursor=%%%", headers=tenant.headers).status_code == 400
    assert client.delete("/v1/invoice-items/123", headers=tenant.headers).status_code == 422
    assert client.post("/v1/invoice-items/invoice", json={}).status_code == 401


def test_list_pages_newest_first(client, tenant) -> None:
    customer = create_customer(client, tenant.headers)
    ids = [create_item(client, tenant.headers, customer["id"])["id"] for _ in range(3)]
    first = client.get("/v1/invoice-items?limit=2", headers=tenant.headers).json()
    rest = client.get(
        f"/v1/invoice-items?limit=2&cursor={first['next_cursor']}", headers=tenant.headers
    ).json()
    assert [i["id"] for i in first["data"] + rest["data"]] == ids[::-1]
    assert (first["has_more"], rest["has_more"]) == (True, False)


def test_item_contract_must_be_a_contract_of_the_organisation_and_customer(
    client, tenant, other_tenant, session_factory
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    foreign = create_contract(client, other_tenant.headers, [flat()])["id"]
    response = client.post(
        "/v1/invoice-items", json=item_body(customer, contract_id=foreign), headers=tenant.headers
    )
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "contract_not_found"
    assert response.json()["error"]["details"][0]["field"] == "contract_id"

    someone_elses = create_contract(client, tenant.headers, [flat()])["id"]  # for a new customer
    response = client.post(
        "/v1/invoice-items", json=item_body(customer, contract_id=someone_elses), headers=tenant.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "contract_of_other_customer"
    assert _count(session_factory, InvoiceItem) == 0

    own = create_contract(client, tenant.headers, [flat()], customer_id=customer)["id"]
    created = client.post(
        "/v1/invoice-items", json=item_body(customer, contract_id=own), headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["contract_id"] == own
