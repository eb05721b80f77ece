"""A customer's credit balance is applied to their invoice when it is finalized, up to its amount
due: a payment from the balance, the prepaid amount (BT-113), a ledger transaction naming the
invoice; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, create_invoice, line

# 84.03 net + 19 % VAT (15.97) = 100.00
HUNDRED = [line("Consulting", "1", "84.03", "19")]


def _credit(client: TestClient, tenant: Tenant, customer: str, amount: str, **extra: Any) -> None:
    response = client.post(
        f"/v1/customers/{customer}/balance-transactions",
        json={"amount": amount, "description": "Goodwill", **extra},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text


def _finalize(client: TestClient, tenant: Tenant, invoice_id: str) -> dict[str, Any]:
    response = client.post(f"/v1/invoices/{invoice_id}/finalize", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _balance(client: TestClient, tenant: Tenant, customer: str) -> dict[str, str]:
    body = client.get(f"/v1/customers/{customer}/balance", headers=tenant.headers).json()
    return {b["currency"]: b["amount"] for b in body["balances"]}


def _ledger(client: TestClient, tenant: Tenant, customer: str) -> list[dict[str, Any]]:
    return client.get(f"/v1/customers/{customer}/balance-transactions", headers=tenant.headers).json()["data"]


def test_a_balance_of_30_reduces_an_invoice_of_100_to_70(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    _credit(client, tenant, customer, "30.00")
    draft = create_invoice(client, tenant.headers, customer, HUNDRED)
    assert draft["amount_due"] == "100.00"
    assert _balance(client, tenant, customer) == {"EUR": "30.00"}  # a draft uses nothing

    issued = _finalize(client, tenant, draft["id"])
    assert (issued["status"], issued["total"], issued["amount_due"]) == ("open", "100.00", "70.00")
    assert (issued["amount_paid"], issued["prepaid_amount"], issued["payment_status"]) == (
        "30.00",
        "30.00",
        "partially_paid",
    )
    applied = _ledger(client, tenant, customer)[0]
    assert (applied["kind"], applied["amount"], applied["balance_after"], applied["invoice_id"]) == (
        "applied_to_invoice",
        "-30.00",
        "0.00",
        draft["id"],
    )
    assert [(p["amount"], p["method"], p["reference"]) for p in issued["payments"]] == [
        ("30.00", "customer_balance", applied["id"])
    ]
    assert _balance(client, tenant, customer) == {"EUR": "0.00"}
    stored = client.get(f"/v1/invoices/{draft['id']}", headers=tenant.headers).json()
    assert stored["amount_due"] == "70.00"


def test_a_balance_larger_than_the_invoice_pays_it_and_keeps_the_rest(
    client: TestClient, tenant: Tenant
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    _credit(client, tenant, customer, "150.00")
    issued = _finalize(client, tenant, create_invoice(client, tenant.headers, customer, HUNDRED)["id"])
    assert (issued["status"], issued["amount_due"], issued["prepaid_amount"]) == ("paid", "0.00", "100.00")
    assert issued["status_history"][-1]["from_status"] == "open"
    assert issued["status_history"][-1]["reason"] == "paid from the customer's credit balance"
    assert _balance(client, tenant, customer) == {"EUR": "50.00"}
    # The next invoice takes what is left.
    second = _finalize(client, tenant, create_invoice(client, tenant.headers, customer, HUNDRED)["id"])
    assert (second["status"], second["amount_due"]) == ("open", "50.00")
    assert _balance(client, tenant, customer) == {"EUR": "0.00"}
    third = _finalize(client, tenant, create_invoice(client, tenant.headers, customer, HUNDRED)["id"])
    assert (third["amount_due"], third["payments"]) == ("100.00", [])
    assert [t["kind"] for t in _ledger(client, tenant, customer)] == [
        "applied_to_invoice",
        "applied_to_invoice",
        "manual_adjustment",
    ]


def test_only_the_balance_in_the_invoice_currency_is_applied(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    _credit(client, tenant, customer, "30.00", currency="USD")
    issued = _finalize(client, tenant, create_invoice(client, tenant.headers, customer, HUNDRED)["id"])
    assert (issued["currency"], issued["amount_due"], issued["prepaid_amount"]) == ("EUR", "100.00", "0.00")
    assert _balance(client, tenant, customer) == {"USD": "30.00"}


def test_another_customers_balance_is_not_applied(client: TestClient, tenant: Tenant) -> None:
    rich = create_customer(client, tenant.headers)["id"]
    poor = create_customer(client, tenant.headers)["id"]
    _credit(client, tenant, rich, "30.00")
    issued = _finalize(client, tenant, create_invoice(client, tenant.headers, poor, HUNDRED)["id"])
    assert issued["amount_due"] == "100.00"
    assert _balance(client, tenant, rich) == {"EUR": "30.00"}


def test_jpy_balance_is_applied_in_whole_yen(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers, currency="JPY")["id"]
    _credit(client, tenant, customer, "500")
    draft = create_invoice(client, tenant.headers, customer, [line("Tea", "3", "1000", "10")], currency="JPY")
    issued = _finalize(client, tenant, draft["id"])
    assert (issued["total"], issued["amount_due"], issued["prepaid_amount"]) == ("3300", "2800", "500")


def test_a_failed_finalization_leaves_the_balance_untouched(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    _credit(client, tenant, customer, "30.00")
    draft = create_invoice(client, tenant.headers, customer, HUNDRED, due_date="2000-01-01")
    refused = client.post(f"/v1/invoices/{draft['id']}/finalize", headers=tenant.headers)
    assert refused.status_code == 422, refused.text
    assert _balance(client, tenant, customer) == {"EUR": "30.00"}
    assert len(_ledger(client, tenant, customer)) == 1
