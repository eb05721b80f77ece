"""Decimal strings are read strictly: ASCII digits, optional sign, point and exponent. Python's
Decimal() alone would also take "1_000", full-width or Arabic-Indic digits and spaces."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer, line
from recurring_factories import usage


@pytest.mark.parametrize("value", ["1_000", "１２３", "١٢٣", "۱۲۳", " 5", "5 ", "1,5", "0x10", "½"])
def test_lenient_number_spellings_are_refused_naming_the_field(
    client: TestClient, tenant: Tenant, value: str
) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    body = {"customer_id": customer, "lines": [line(quantity=value)]}
    response = client.post("/v1/invoices/preview", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == ["lines[0].quantity"]


@pytest.mark.parametrize("value", ["1000", "+5", "1.50", ".5", "1e3", "1E+3"])
def test_plain_decimal_spellings_are_read(client: TestClient, tenant: Tenant, value: str) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    body = {"customer_id": customer, "lines": [line(quantity=value)]}
    assert client.post("/v1/invoices/preview", json=body, headers=tenant.headers).status_code == 200


def test_negative_zero_is_zero(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    body = {"customer_id": customer, "lines": [line(unit_price="-0"), line(unit_price="-0.00")]}
    response = client.post("/v1/invoices", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    assert [line["unit_price"] for line in response.json()["lines"]] == ["0", "0.00"]


def test_charge_model_prices_are_read_strictly_too(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)["id"]
    component = usage("api_calls", {"model": "per_unit", "unit_price": "1_000"})
    body = {"customer_id": customer, "start_date": "2024-01-01", "components": [component]}
    response = client.post("/v1/contracts", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert "components[0].usage.charge_model" in [d["field"] for d in response.json()["error"]["details"]]
