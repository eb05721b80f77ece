"""Contracts over HTTP: creation with every component kind, terms versions, and bad input."""

from __future__ import annotations

import pytest

from factories import create_customer
from recurring_factories import create_contract, create_metric, flat, one_off, usage


def test_contract_keeps_its_calendar_and_components(client, tenant) -> None:
    create_metric(client, tenant.headers, "api_calls")
    contract = create_contract(
        client,
        tenant.headers,
        [flat("99.90"), one_off("250"), usage("api_calls", {"model": "per_unit", "unit_price": "0.0125"})],
        start_date="2024-01-31",
        billing_interval="quarter",
        billing_timing="in_advance",
        payment_mode="automatic",
        payment_terms_days=14,
    )
    assert contract["billing_cycle_start_day"] == 31  # defaults to the start day
    assert (contract["billing_interval"], contract["billing_timing"], contract["payment_mode"]) == (
        "quarter",
        "in_advance",
        "automatic",
    )
    assert contract["currency"] == "EUR"
    assert [(c["kind"], c["amount"], c["metric_code"]) for c in contract["components"]] == [
        ("flat", "99.90", None),
        ("one_off", "250", None),
        ("usage", None, "api_calls"),
    ]
    assert contract["components"][2]["charge_model"] == {"model": "per_unit", "unit_price": "0.0125"}
    fetched = client.get(f"/v1/contracts/{contract['id']}", headers=tenant.headers).json()
    assert fetched == contract
    listed = client.get("/v1/contracts", headers=tenant.headers).json()
    assert [c["id"] for c in listed["data"]] == [contract["id"]]


def test_new_components_start_a_new_terms_version(client, tenant) -> None:
    contract = create_contract(client, tenant.headers, [flat("100.00")])
    response = client.patch(
        f"/v1/contracts/{contract['id']}",
        json={"components": [flat("120.00")], "terms_effective_from": "2024-07-01", "end_date": "2025-01-01"},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(t["version"], t["effective_from"]) for t in body["terms"]] == [
        (1, "2024-01-01"),
        (2, "2024-07-01"),
    ]
    assert body["components"][0]["amount"] == "120.00"
    assert body["end_date"] == "2025-01-01"
    too_early = client.patch(
        f"/v1/contracts/{contract['id']}",
        json={"components": [flat("130.00")], "terms_effective_from": "2024-07-01"},
        headers=tenant.headers,
    )
    assert too_early.status_code == 422
    assert too_early.json()["error"]["code"] == "terms_effective_from_too_early"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start_date": "2024-02-01", "end_date": "2024-02-01"}, "body"),
        ({"billing_cycle_start_day": 32}, "billing_cycle_start_day"),
        ({"billing_cycle_start_day": True}, "billing_cycle_start_day"),
        ({"billing_interval": "week"}, "billing_interval"),
        ({"billing_timing": "sometimes"}, "billing_timing"),
        ({"components": []}, "components"),
        (
            {
                "components": [
                    {"kind": "flat", "name": "x", "amount": "1e20", "tax": {"category": "S", "percent": "19"}}
                ]
            },
            "components[0].flat.amount",
        ),
        (
            {
                "components": [
                    {"kind": "flat", "name": "x", "amount": "-1", "tax": {"category": "S", "percent": "19"}}
                ]
            },
            "components[0].flat.amount",
        ),
        ({"components": [{"kind": "flat", "name": "x", "amount": "1"}]}, "components[0].flat"),
        ({"components": [{"kind": "bonus", "name": "x"}]}, "components[0]"),
        ({"start_date": "0001-01-01"}, "body"),
        ({"currency": "XXQ"}, "currency"),
    ],
)
def test_invalid_contracts_are_refused_and_nothing_is_stored(client, tenant, change, field) -> None:
    customer = create_customer(client, tenant.headers)
    body = {"customer_id": customer["id"], "start_date": "2024-01-01", "components": [flat()], **change}
    response = client.post("/v1/contracts", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert any(d["field"].startswith(field) for d in response.json()["error"]["details"]), response.json()
    assert client.get("/v1/contracts", headers=tenant.headers).json()["data"] == []


@pytest.mark.parametrize(
    "charge_model",
    [
        {"model": "per_unit"},
        {"model": "per_unit", "unit_price": "0.1234567"},
        {"model": "graduated", "tiers": [{"up_to": "10", "unit_price": "1"}]},
        {
            "model": "graduated",
            "tiers": [
                {"up_to": "10", "unit_price": "1"},
                {"up_to": "5", "unit_price": "1"},
                {"up_to": None, "unit_price": "1"},
            ],
        },
        {"model": "package", "package_size": "2.5", "package_price": "1"},
        {"model": "volume", "tiers": "cheap"},
        {"model": "per_unit", "unit_price": "1", "minimun": "5"},
        {"model": "stairs", "unit_price": "1"},
    ],
)
def test_invalid_charge_models_are_422(client, tenant, charge_model) -> None:
    create_metric(client, tenant.headers, "api_calls")
    customer = create_customer(client, tenant.headers)
    body = {
        "customer_id": customer["id"],
        "start_date": "2024-01-01",
        "components": [usage("api_calls", charge_model)],
    }
    response = client.post("/v1/contracts", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text


def test_unknown_references_are_404(client, tenant, other_tenant) -> None:
    customer = create_customer(client, tenant.headers)
    foreign_customer = create_customer(client, other_tenant.headers)
    create_metric(client, other_tenant.headers, "theirs")
    cases = [
        ({"customer_id": foreign_customer["id"], "components": [flat()]}, "customer_not_found"),
        (
            {
                "customer_id": customer["id"],
                "components": [usage("theirs", {"model": "per_unit", "unit_price": "1"})],
            },
            "metric_not_found",
        ),
        (
            {
                "customer_id": customer["id"],
                "components": [
                    {"kind": "flat", "name": "x", "amount": "1", "tax_rate_id": foreign_customer["id"]}
                ],
            },
            "tax_rate_not_found",
        ),
    ]
    for body, code in cases:
        response = client.post(
            "/v1/contracts", json={"start_date": "2024-01-01", **body}, headers=tenant.headers
        )
        assert (response.status_code, response.json()["error"]["code"]) == (404, code)
    contract = create_contract(client, other_tenant.headers, [flat()])
    for method, path in [
        ("get", f"/v1/contracts/{contract['id']}"),
        ("patch", f"/v1/contracts/{contract['id']}"),
        ("post", f"/v1/contracts/{contract['id']}/invoices"),
        ("get", f"/v1/contracts/{contract['id']}/usage"),
        ("get", f"/v1/contracts/{contract['id']}/upcoming-invoice"),
    ]:
        response = client.request(method, path, json={} if method != "get" else None, headers=tenant.headers)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "contract_not_found"), path


def test_malformed_json_is_400(client, tenant) -> None:
    response = client.post(
        "/v1/contracts",
        content=b'{"customer_id": ',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert response.json()["error"]["code"] == "malformed_json"


def test_contract_end_cannot_move_before_an_invoiced_period(client, tenant) -> None:
    contract = create_contract(client, tenant.headers, [flat()])
    response = client.post(
        f"/v1/contracts/{contract['id']}/invoices",
        json={"period_start": "2024-02-01", "period_end": "2024-03-01"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    shortened = client.patch(
        f"/v1/contracts/{contract['id']}", json={"end_date": "2024-02-15"}, headers=tenant.headers
    )
    assert (shortened.status_code, shortened.json()["error"]["code"]) == (
        409,
        "contract_end_before_invoiced_period",
    )
    assert client.get(f"/v1/contracts/{contract['id']}", headers=tenant.headers).json()["end_date"] is None
