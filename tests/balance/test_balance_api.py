"""Customer credit balance over HTTP: the ledger, manual adjustments (never below zero), paging,
Idempotency-Key, tenant isolation and refused input; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer


def _adjust(client: TestClient, tenant: Tenant, customer: str, amount: Any, **extra: Any) -> Any:
    body = {"amount": amount, "description": "Goodwill", **extra}
    return client.post(f"/v1/customers/{customer}/balance-transactions", json=body, headers=tenant.headers)


def _balances(client: TestClient, tenant: Tenant, customer: str) -> dict[str, str]:
    response = client.get(f"/v1/customers/{customer}/balance", headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json()["customer_id"] == customer
    return {b["currency"]: b["amount"] for b in response.json()["balances"]}


def _ledger(client: TestClient, tenant: Tenant, customer: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(
        f"/v1/customers/{customer}/balance-transactions",
        params={"limit": 100, **params},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_a_customer_without_transactions_has_no_balance(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    assert _balances(client, tenant, customer) == {}
    assert _ledger(client, tenant, customer) == []


def test_credit_and_debit_change_the_balance_and_are_in_the_ledger(
    client: TestClient, tenant: Tenant
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    credit = _adjust(client, tenant, customer, "30.00", description="Refund of the outage")
    assert credit.status_code == 201, credit.text
    body = credit.json()
    assert (body["amount"], body["balance_after"], body["currency"]) == ("30.00", "30.00", "EUR")
    assert (body["kind"], body["description"], body["invoice_id"]) == (
        "manual_adjustment",
        "Refund of the outage",
        None,
    )
    debit = _adjust(client, tenant, customer, "-12.50")
    assert debit.status_code == 201, debit.text
    assert (debit.json()["amount"], debit.json()["balance_after"]) == ("-12.50", "17.50")
    assert _balances(client, tenant, customer) == {"EUR": "17.50"}
    assert [t["amount"] for t in _ledger(client, tenant, customer)] == ["-12.50", "30.00"]


def test_a_debit_beyond_the_balance_is_409_and_changes_nothing(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    assert _adjust(client, tenant, customer, "10.00").status_code == 201
    refused = _adjust(client, tenant, customer, "-10.01")
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "insufficient_balance"
    assert error["details"] == [
        {
            "field": "amount",
            "reason": "larger than the available balance",
            "requested": "10.01",
            "available": "10.00",
            "currency": "EUR",
        }
    ]
    assert _balances(client, tenant, customer) == {"EUR": "10.00"}
    assert len(_ledger(client, tenant, customer)) == 1
    # All of it can be used: the balance reaches zero, never below.
    assert _adjust(client, tenant, customer, "-10.00").json()["balance_after"] == "0.00"
    assert _adjust(client, tenant, customer, "-0.01").status_code == 409


def test_a_debit_of_a_customer_who_never_had_credit_is_409(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    refused = _adjust(client, tenant, customer, "-1")
    assert refused.status_code == 409
    assert refused.json()["error"]["details"][0]["available"] == "0.00"
    assert _balances(client, tenant, customer) == {}


def test_balances_are_kept_per_currency(client: TestClient, tenant: Tenant) -> None:
    euro_customer = create_customer(client, tenant.headers)["id"]
    dollar_customer = create_customer(client, tenant.headers, currency="USD")["id"]
    # Without a currency: the customer's, else the organisation's default (EUR).
    assert _adjust(client, tenant, euro_customer, "5").json()["currency"] == "EUR"
    assert _adjust(client, tenant, dollar_customer, "7").json()["currency"] == "USD"
    assert _adjust(client, tenant, dollar_customer, "1000", currency="JPY").json()["amount"] == "1000"
    assert _balances(client, tenant, dollar_customer) == {"JPY": "1000", "USD": "7.00"}
    assert _adjust(client, tenant, dollar_customer, "-8", currency="USD").status_code == 409
    assert [t["currency"] for t in _ledger(client, tenant, dollar_customer, currency="JPY")] == ["JPY"]


def test_the_ledger_pages_newest_first_with_a_cursor(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    ids = [_adjust(client, tenant, customer, f"{n}.00").json()["id"] for n in range(1, 6)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(
            f"/v1/customers/{customer}/balance-transactions", params=params, headers=tenant.headers
        ).json()
        seen += [t["id"] for t in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == ids[::-1]
    assert _balances(client, tenant, customer) == {"EUR": "15.00"}


def test_an_idempotency_key_credits_once(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    url = f"/v1/customers/{customer}/balance-transactions"
    headers = {**tenant.headers, "Idempotency-Key": "goodwill-1"}
    body = {"amount": "30.00", "description": "Goodwill"}
    first = client.post(url, json=body, headers=headers)
    again = client.post(url, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = client.post(url, json={**body, "amount": "31.00"}, headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert _balances(client, tenant, customer) == {"EUR": "30.00"}


def test_another_organisations_customer_is_not_found(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = create_customer(client, other_tenant.headers)["id"]
    assert _adjust(client, other_tenant, theirs, "50").status_code == 201
    for response in (
        client.get(f"/v1/customers/{theirs}/balance", headers=tenant.headers),
        client.get(f"/v1/customers/{theirs}/balance-transactions", headers=tenant.headers),
        _adjust(client, tenant, theirs, "-50"),
        _adjust(client, tenant, theirs, "50"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "customer_not_found"
    assert _balances(client, other_tenant, theirs) == {"EUR": "50.00"}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount": "30.001", "description": "x"}, 422, "amount_precision"),
        ({"amount": "1.5", "currency": "JPY", "description": "x"}, 422, "amount_precision"),
        ({"amount": "0", "description": "x"}, 422, "amount_zero"),
        ({"amount": "-0.00", "description": "x"}, 422, "amount_zero"),
        ({"amount": "30,00", "description": "x"}, 422, "validation_error"),
        ({"amount": "NaN", "description": "x"}, 422, "validation_error"),
        ({"amount": "1e400", "description": "x"}, 422, "validation_error"),
        ({"amount": "10", "description": "x", "currency": "XXX"}, 422, "validation_error"),
        ({"amount": "10", "description": "   "}, 422, "validation_error"),
        ({"amount": "10", "description": "x" * 501}, 422, "validation_error"),
        ({"amount": "10"}, 422, "validation_error"),
        ({"description": "x"}, 422, "validation_error"),
        ({"amount": "10", "description": "x", "kind": "applied_to_invoice"}, 422, "validation_error"),
        ({"amount": "10", "description": "bell \u0007"}, 422, None),
        ({"amount": ["10"], "description": "x"}, 422, "validation_error"),
        ([], 422, "validation_error"),
    ],
)
def test_garbage_is_refused_and_nothing_is_stored(
    client: TestClient, tenant: Tenant, body: Any, status: int, code: str | None
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    response = client.post(
        f"/v1/customers/{customer}/balance-transactions", json=body, headers=tenant.headers
    )
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code
    assert _balances(client, tenant, customer) == {}
    assert _ledger(client, tenant, customer) == []


def test_garbage_in_paths_and_queries_is_4xx(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    base = f"/v1/customers/{customer}"
    for url, status in [
        ("/v1/customers/not-an-id/balance", 422),
        ("/v1/customers/not-an-id/balance-transactions", 422),
        (f"{base}/balance-transactions?cursor=garbage", 400),
        (f"{base}/balance-transactions?limit=0", 422),
        (f"{base}/balance-transactions?limit=101", 422),
        (f"{base}/balance-transactions?currency=EURO", 422),
    ]:
        response = client.get(url, headers=tenant.headers)
        assert response.status_code == status, (url, response.text)
        assert set(response.json()["error"]) == {"code", "message", "details"}
    malformed = client.post(
        f"{base}/balance-transactions",
        content=b"{",
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert client.get(f"{base}/balance").status_code == 401
