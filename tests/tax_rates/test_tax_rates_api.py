"""/v1/tax-rates: create (with EN 16931 category rules), list newest first, use on invoices."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import Tenant
from factories import create_customer


def create_rate(client: TestClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/tax-rates", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()


def list_rates(client: TestClient, tenant: Tenant, query: str = "") -> dict[str, Any]:
    response = client.get(f"/v1/tax-rates{query}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_create_standard_rate_19(client: TestClient, tenant: Tenant) -> None:
    rate = create_rate(client, tenant, name="USt 19%", percent="19")
    assert rate["name"] == "USt 19%"
    assert rate["percent"] == "19"
    assert rate["category"] == "S"
    assert rate["inclusive"] is False
    assert rate["active"] is True
    assert rate["exemption_reason"] is None


def test_percent_keeps_its_exact_decimal_digits(client: TestClient, tenant: Tenant) -> None:
    # 7.7 is not exact in binary floating point; a JSON number must come back as written.
    from_string = create_rate(client, tenant, name="MWST", percent="7.7")
    response = client.post(
        "/v1/tax-rates",
        content=b'{"name": "MWST number", "percent": 7.7}',
        headers={**tenant.headers, "content-type": "application/json"},
    )
    assert from_string["percent"] == "7.7"
    assert response.status_code == 201
    assert response.json()["percent"] == "7.7"


def test_create_inclusive_rate(client: TestClient, tenant: Tenant) -> None:
    rate = create_rate(client, tenant, name="USt 19% incl.", percent="19", inclusive=True)
    assert rate["inclusive"] is True


def test_create_exempt_rate_with_reason(client: TestClient, tenant: Tenant) -> None:
    rate = create_rate(
        client,
        tenant,
        name="Exempt (§4 UStG)",
        percent="0",
        category="E",
        exemption_reason="Steuerfrei nach §4 Nr. 14 UStG",
        exemption_reason_code="VATEX-EU-132",
    )
    assert rate["category"] == "E"
    assert rate["percent"] == "0"
    assert rate["exemption_reason"] == "Steuerfrei nach §4 Nr. 14 UStG"
    assert rate["exemption_reason_code"] == "VATEX-EU-132"


def test_exempt_rate_without_reason_is_422_tax_rule_violation(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/v1/tax-rates", json={"name": "Exempt", "percent": "0", "category": "E"}, headers=tenant.headers
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "tax_rule_violation"
    assert "exemption_reason" in [d["field"] for d in error["details"]]
    assert list_rates(client, tenant)["data"] == []


def test_zero_rated_with_percent_5_is_422_naming_percent(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/v1/tax-rates", json={"name": "Zero", "percent": "5", "category": "Z"}, headers=tenant.headers
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "tax_rule_violation"
    assert "percent" in [d["field"] for d in error["details"]]
    assert list_rates(client, tenant)["data"] == []


def test_standard_rate_with_zero_percent_is_422(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/v1/tax-rates", json={"name": "S0", "percent": "0"}, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "tax_rule_violation"
    assert "percent" in [d["field"] for d in response.json()["error"]["details"]]


def test_standard_rate_with_exemption_reason_is_422(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/v1/tax-rates",
        json={"name": "S", "percent": "19", "exemption_reason": "not exempt at all"},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "tax_rule_violation"
    assert "exemption_reason" in [d["field"] for d in response.json()["error"]["details"]]


def test_reverse_charge_needs_zero_percent(client: TestClient, tenant: Tenant) -> None:
    bad = client.post(
        "/v1/tax-rates",
        json={"name": "RC", "percent": "19", "category": "AE", "exemption_reason": "Reverse charge"},
        headers=tenant.headers,
    )
    good = client.post(
        "/v1/tax-rates",
        json={"name": "RC", "percent": "0", "category": "AE", "exemption_reason": "Reverse charge"},
        headers=tenant.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "tax_rule_violation"
    assert good.status_code == 201


def test_list_returns_rates_newest_first(client: TestClient, tenant: Tenant) -> None:
    names = ["USt 19%", "USt 7%", "Zero"]
    percents = ["19", "7", "0"]
    categories = ["S", "S", "Z"]
    created = [
        create_rate(client, tenant, name=n, percent=p, category=c)["id"]
        for n, p, c in zip(names, percents, categories, strict=True)
    ]
    page = list_rates(client, tenant)
    assert [r["id"] for r in page["data"]] == list(reversed(created))
    assert [r["name"] for r in page["data"]] == list(reversed(names))
    assert page["has_more"] is False
    assert page["next_cursor"] is None


def test_list_pages_with_cursor_without_duplicates(client: TestClient, tenant: Tenant) -> None:
    created = [create_rate(client, tenant, name=f"Rate {n}", percent=str(n + 1))["id"] for n in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        page = list_rates(client, tenant, "?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen.extend(r["id"] for r in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(created))


def test_invoice_line_takes_category_and_percent_from_the_rate(client: TestClient, tenant: Tenant) -> None:
    rate = create_rate(client, tenant, name="USt 7%", percent="7")
    customer = create_customer(client, tenant.headers)
    body = {
        "customer_id": customer["id"],
        "lines": [{"description": "Book", "quantity": "2", "unit_price": "10.00", "tax_rate_id": rate["id"]}],
    }
    response = client.post("/v1/invoices", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    invoice = response.json()
    assert invoice["lines"][0]["tax_rate_id"] == rate["id"]
    assert invoice["lines"][0]["tax"]["category"] == "S"
    assert invoice["lines"][0]["tax"]["percent"] == "7"
    assert invoice["tax_total"] == "1.40"
    assert invoice["total"] == "21.40"


def test_unknown_tax_rate_on_a_line_is_404_naming_the_line(client: TestClient, tenant: Tenant) -> None:
    customer = create_customer(client, tenant.headers)
    body = {
        "customer_id": customer["id"],
        "lines": [
            {
                "description": "Book",
                "unit_price": "10.00",
                "tax_rate_id": "00000000-0000-4000-8000-000000000000",
            }
        ],
    }
    response = client.post("/v1/invoices", json=body, headers=tenant.headers)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "tax_rate_not_found"
    assert [d["field"] for d in error["details"]] == ["lines[0].tax_rate_id"]


def test_igic_and_ipsi_at_zero_percent_are_refused_on_rates_and_lines(
    client: TestClient, tenant: Tenant
) -> None:
    """The CII rules want IGIC/IPSI above 0 (BR-AF-05, BR-AG-05); a supply taxed at 0 % is category Z."""
    customer = create_customer(client, tenant.headers)
    for category, rule in (("L", "BR-AF-05"), ("M", "BR-AG-05")):
        rate = client.post(
            "/v1/tax-rates",
            json={"name": category, "percent": "0", "category": category},
            headers=tenant.headers,
        )
        assert rate.status_code == 422, rate.text
        assert [(d["field"], d["rule"]) for d in rate.json()["error"]["details"]] == [("percent", rule)]
        line = {
            "description": "x",
            "quantity": "1",
            "unit_price": "10",
            "tax": {"category": category, "percent": "0"},
        }
        invoice = client.post(
            "/v1/invoices", json={"customer_id": customer["id"], "lines": [line]}, headers=tenant.headers
        )
        assert invoice.status_code == 422, invoice.text
        assert invoice.json()["error"]["code"] == "tax_rule_violation"
    assert list_rates(client, tenant)["data"] == []


def test_untaxed_rates_without_a_reason_state_the_vatex_default_on_invoices(
    client: TestClient, tenant: Tenant
) -> None:
    rate = create_rate(client, tenant, name="Reverse charge", percent="0", category="AE")
    assert (rate["exemption_reason"], rate["exemption_reason_code"]) == (None, None)
    customer = create_customer(client, tenant.headers)
    line = {"description": "Licences", "quantity": "2", "unit_price": "50", "tax_rate_id": rate["id"]}
    response = client.post(
        "/v1/invoices",
        json={"customer_id": customer["id"], "lines": [line], "finalize": True},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    (group,) = response.json()["tax_breakdown"]
    assert (group["exemption_reason_code"], group["exemption_reason"]) == ("VATEX-EU-AE", "Reverse charge")
