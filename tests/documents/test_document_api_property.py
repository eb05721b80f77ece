"""Any invoice the API accepts and finalizes yields UBL and CII that pass XSD and the EN 16931 schematron."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from document_api import BUYER_DETAILS, complete_seller
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from conftest import Tenant
from factories import create_customer
from faktur.documents.validation import validate_cii, validate_ubl

TAXES = [
    {"category": "S", "percent": "19"},
    {"category": "S", "percent": "7"},
    {"category": "Z", "percent": "0"},
    {"category": "E", "percent": "0", "exemption_reason": "Steuerfrei nach § 4 Nr. 21 UStG"},
    {"category": "E", "percent": "0", "exemption_reason_code": "VATEX-EU-132"},
]


def _money(currency: str, low: int, high: int) -> st.SearchStrategy[str]:
    places = 0 if currency == "JPY" else 2
    scale = 10**places
    return st.integers(low * scale, high * scale).map(lambda n: str(Decimal(n).scaleb(-places)))


@st.composite
def adjustment(draw: st.DrawFn, currency: str, high: int, is_charge: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if draw(st.booleans()):
        body["amount"] = draw(_money(currency, 1, high))
    else:
        body["percent"] = str(draw(st.integers(1, 20)))
    # EN 16931 wants a reason text or code on each (BR-33, BR-38, BR-42, BR-44); the API insists too.
    if draw(st.booleans()):
        body["reason"] = draw(st.sampled_from(["Volume discount", "Express handling", "Früh-Bucher"]))
    else:
        # UNCL5189 (allowances) and UNCL7161 (charges), as the CEN code-list rules check them.
        body["reason_code"] = draw(st.sampled_from(["FC", "ZZZ"] if is_charge else ["95", "100"]))
    return body


@st.composite
def invoice_body(draw: st.DrawFn) -> dict[str, Any]:
    currency = draw(st.sampled_from(["EUR", "JPY"]))
    taxes = draw(st.lists(st.sampled_from(TAXES), min_size=1, max_size=2, unique_by=lambda t: str(t)))
    high = 50_000 if currency == "JPY" else 500
    lines = []
    for index in range(draw(st.integers(1, 4))):
        quantity = draw(st.decimals(Decimal("0.5"), Decimal("40"), places=2))
        body: dict[str, Any] = {
            "description": f"Item {index + 1}",
            "quantity": str(quantity),
            "unit_price": draw(_money(currency, 1, high)),
            "tax": draw(st.sampled_from(taxes)),
        }
        if draw(st.booleans()):
            body["allowances"] = [draw(adjustment(currency, high // 20, False))]
        if draw(st.booleans()):
            body["charges"] = [draw(adjustment(currency, high // 20, True))]
        lines.append(body)
    adjustments = []
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["allowance", "charge"]))
        adj = {"kind": kind, **draw(adjustment(currency, high // 20, kind == "charge"))}
        adj["tax"] = draw(st.sampled_from(taxes))
        if "percent" in adj:
            adj["base_amount"] = draw(_money(currency, 1, high))
        adjustments.append(adj)
    return {
        "currency": currency,
        "prices_include_tax": draw(st.booleans()),
        "lines": lines,
        "adjustments": adjustments,
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=invoice_body())
def test_every_accepted_invoice_yields_valid_ubl_and_cii(
    client: TestClient, tenant: Tenant, body: dict[str, Any]
) -> None:
    lines = body.pop("lines")
    response = client.post(
        "/v1/invoices",
        json={"customer_id": _customer(client, tenant), "lines": lines, "finalize": True, **body},
        headers=tenant.headers,
    )
    if response.status_code != 201:
        print("REJ", response.text[:300])
        reject()  # the API refused it (e.g. a negative total): not an invoice to render
    invoice_id = response.json()["id"]
    ubl = client.get(f"/v1/invoices/{invoice_id}/ubl", headers=tenant.headers)
    cii = client.get(f"/v1/invoices/{invoice_id}/cii", headers=tenant.headers)
    assert ubl.status_code == 200, ubl.text
    assert cii.status_code == 200, cii.text
    assert validate_ubl(ubl.content) == []
    assert validate_cii(cii.content) == []


# Fixtures are set up once for all examples of a test: so are the seller's details and the customer.
_CUSTOMERS: dict[str, str] = {}


def _customer(client: TestClient, tenant: Tenant) -> str:
    if tenant.api_key not in _CUSTOMERS:
        complete_seller(client, tenant.headers)
        _CUSTOMERS[tenant.api_key] = create_customer(client, tenant.headers, **BUYER_DETAILS)["id"]
    return _CUSTOMERS[tenant.api_key]
