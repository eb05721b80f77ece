"""The customer's credit balance is applied by every path that finalizes an invoice, not only
`POST /finalize`: create with `finalize: true`, billing runs, orders, the pending-items gather (a
batch with several invoices of one customer) and the dialects; never below zero, never twice.
A customer without credit costs no query on customer_balances of its own (whether it holds any is
read with the customer), and nothing is locked. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import event

from conftest import Tenant
from factories import create_customer, create_invoice, line
from faktur.billing import runs
from faktur.db import session_scope
from invoice_items.item_factories import create_item, gather
from orders.order_factories import create_order, invoice_order, order_line
from recurring_factories import create_contract, flat

# 84.03 net + 19 % VAT (15.97) = 100.00
HUNDRED = [line("Consulting", "1", "84.03", "19")]
UBL_NS = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}


def _credit(client: TestClient, tenant: Tenant, customer: str, amount: str) -> None:
    response = client.post(
        f"/v1/customers/{customer}/balance-transactions",
        json={"amount": amount, "description": "Goodwill"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text


def _balance(client: TestClient, tenant: Tenant, customer: str) -> dict[str, str]:
    body = client.get(f"/v1/customers/{customer}/balance", headers=tenant.headers).json()
    return {b["currency"]: b["amount"] for b in body["balances"]}


def _ledger(client: TestClient, tenant: Tenant, customer: str) -> list[dict[str, Any]]:
    url = f"/v1/customers/{customer}/balance-transactions"
    return client.get(url, headers=tenant.headers).json()["data"]


def _stored(client: TestClient, tenant: Tenant, invoice_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _applied(invoice: dict[str, Any]) -> tuple[str, str, str, str]:
    return invoice["status"], invoice["prepaid_amount"], invoice["amount_paid"], invoice["amount_due"]


def test_create_with_finalize_applies_the_balance(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    _credit(client, tenant, customer, "30.00")
    issued = create_invoice(client, tenant.headers, customer, HUNDRED, finalize=True)
    assert _applied(issued) == ("open", "30.00", "30.00", "70.00")
    [transaction, _] = _ledger(client, tenant, customer)
    assert (transaction["kind"], transaction["amount"], transaction["balance_after"]) == (
        "applied_to_invoice",
        "-30.00",
        "0.00",
    )
    assert transaction["invoice_id"] == issued["id"]
    assert [(p["amount"], p["method"], p["reference"]) for p in issued["payments"]] == [
        ("30.00", "customer_balance", transaction["id"])
    ]
    assert _stored(client, tenant, issued["id"]) == issued  # what was answered is what was stored
    ubl = etree.fromstring(client.get(f"/v1/invoices/{issued['id']}/ubl", headers=tenant.headers).content)
    prepaid = [
        ubl.findtext(f".//cbc:{name}", namespaces=UBL_NS) for name in ("PrepaidAmount", "PayableAmount")
    ]
    assert prepaid == ["30.00", "70.00"]
    assert _balance(client, tenant, customer) == {"EUR": "0.00"}

    # A balance larger than the next invoice pays it; the rest stays; a draft uses nothing.
    _credit(client, tenant, customer, "150.00")
    assert create_invoice(client, tenant.headers, customer, HUNDRED)["amount_due"] == "100.00"
    paid = create_invoice(client, tenant.headers, customer, HUNDRED, finalize=True)
    assert _applied(paid) == ("paid", "100.00", "100.00", "0.00")
    assert paid["status_history"][-1]["reason"] == "paid from the customer's credit balance"
    assert _balance(client, tenant, customer) == {"EUR": "50.00"}
    events = client.get(f"/v1/events?object_id={paid['id']}", headers=tenant.headers).json()["data"]
    assert sorted(e["type"] for e in events) == ["invoice.created", "invoice.finalized", "invoice.paid"]


def test_a_billing_run_applies_the_balance(client: TestClient, tenant: Tenant, session_factory) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    other = create_customer(client, tenant.headers, name="Ohne Guthaben")["id"]
    _credit(client, tenant, customer, "50.00")
    for buyer in (customer, other):
        create_contract(client, tenant.headers, [flat("100.00")], customer_id=buyer, start_date="2024-01-01")
    now = datetime.now(UTC)
    with session_scope(session_factory) as session:
        run_id = runs.start_run(session, tenant.organisation_id, date(2024, 3, 15), now).id
    runs.run_in_process(session_factory, tenant.organisation_id, run_id, now)

    def issued_to(buyer: str) -> list[dict[str, Any]]:
        url = f"/v1/invoices?customer_id={buyer}"
        rows = client.get(url, headers=tenant.headers).json()["data"]
        return sorted(rows, key=lambda i: i["period_start"])

    # January and February, 119.00 each: the 50.00 go to January, the first in the run's order.
    assert [_applied(i) for i in issued_to(customer)] == [
        ("open", "50.00", "50.00", "69.00"),
        ("open", "0.00", "0.00", "119.00"),
    ]
    assert [_applied(i) for i in issued_to(other)] == [("open", "0.00", "0.00", "119.00")] * 2
    assert _balance(client, tenant, customer) == {"EUR": "0.00"}


def test_the_gather_applies_the_balance_across_one_customers_invoices(
    client: TestClient, tenant: Tenant
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    _credit(client, tenant, customer, "40.00")
    # Two invoices of one customer in one batch (payment modes differ): 35.70 each.
    create_item(client, tenant.headers, customer, description="Seats")
    create_item(client, tenant.headers, customer, description="Seats", payment_mode="manual")
    response = gather(client, tenant.headers, customer_id=customer, finalize=True)
    assert response.status_code == 201, response.text
    stored = [_stored(client, tenant, i["id"]) for i in response.json()["invoices"]]
    assert sorted(_applied(i) for i in stored) == [
        ("open", "4.30", "4.30", "31.40"),
        ("paid", "35.70", "35.70", "0.00"),
    ]
    assert _balance(client, tenant, customer) == {"EUR": "0.00"}
    ledger = _ledger(client, tenant, customer)
    assert sorted((t["amount"], t["balance_after"]) for t in ledger if t["kind"] == "applied_to_invoice") == [
        ("-35.70", "4.30"),
        ("-4.30", "0.00"),
    ]


def test_invoicing_an_order_applies_the_balance(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    _credit(client, tenant, customer, "20.00")
    order = create_order(client, tenant.headers, customer, [order_line(quantity="1", unit_price="84.03")])
    response = invoice_order(client, tenant.headers, order["id"], finalize=True)
    assert response.status_code == 201, response.text
    assert _applied(_stored(client, tenant, response.json()["id"])) == ("open", "20.00", "20.00", "80.00")


def _balance_statements(engine, work) -> list[str]:
    """The statements that read or write customer_balances themselves (not the customer lookups,
    which ask in a subquery whether the customer holds credit)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        flat = " ".join(statement.split())
        if "customer_balances" in flat and not flat.startswith("SELECT customers."):
            seen.append(flat)

    event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_customers_without_credit_cost_no_balance_query(engine, client: TestClient, tenant: Tenant) -> None:
    customers = [create_customer(client, tenant.headers, name=f"K{n}")["id"] for n in range(4)]
    for customer in customers:
        create_item(client, tenant.headers, customer)
    body = {"customer_id": customers[0], "lines": HUNDRED, "finalize": True}

    created = _balance_statements(
        engine, lambda: client.post("/v1/invoices", json=body, headers=tenant.headers).raise_for_status()
    )
    assert created == []

    gathered = _balance_statements(
        engine, lambda: gather(client, tenant.headers, finalize=True).raise_for_status()
    )
    assert gathered == []  # four invoices, four customers read with their credit

    drafted = _balance_statements(
        engine, lambda: client.post("/v1/invoices", json={**body, "finalize": False}, headers=tenant.headers)
    )
    assert drafted == []


def test_credit_spent_or_in_another_currency_is_looked_up_and_not_applied(
    engine, client: TestClient, tenant: Tenant
) -> None:
    spent = create_customer(client, tenant.headers, name="Spent")["id"]
    _credit(client, tenant, spent, "100.00")
    create_invoice(client, tenant.headers, spent, HUNDRED, finalize=True)  # uses all of it
    assert _balance(client, tenant, spent) == {"EUR": "0.00"}
    body = {"customer_id": spent, "lines": HUNDRED, "finalize": True}
    again = _balance_statements(
        engine, lambda: client.post("/v1/invoices", json=body, headers=tenant.headers).raise_for_status()
    )
    assert again == []  # a balance of zero is no credit

    dollars = create_customer(client, tenant.headers, name="Dollars")["id"]
    response = client.post(
        f"/v1/customers/{dollars}/balance-transactions",
        json={"amount": "50.00", "currency": "USD", "description": "Goodwill"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    issued: list[dict[str, Any]] = []
    body = {"customer_id": dollars, "lines": HUNDRED, "finalize": True}
    looked_up = _balance_statements(
        engine,
        lambda: issued.append(client.post("/v1/invoices", json=body, headers=tenant.headers).json()),
    )
    assert len(looked_up) == 1 and looked_up[0].startswith("SELECT customer_balances."), looked_up
    assert _applied(issued[0]) == ("open", "0.00", "0.00", "100.00")  # euros are not paid in dollars
    assert _balance(client, tenant, dollars) == {"USD": "50.00"}
