"""Zenskar (seed 001) walked field by field, and the calls of Zenskar's official client replayed.

The client is Zenskar's MCP server, github.com/zenskar/mcp-zenskar: `src/server.js`
(executeAPICall) builds every request, `src/mcp-config.json` names the tools. Read there:

* headers on every call: `Content-Type: application/json`, `User-Agent: Zenskar-MCP-Server/1.0.0`,
  `apiversion: 20230501`, `organisation: <ZENSKAR_ORGANIZATION>` and, for a key that is not a
  JWT, `x-api-key: <key>`;
* generateInvoice: POST /invoices/generate_invoice, body built from the tool's args in their
  order: contract_id, customer_id, from_date, to_date (Unix seconds, JSON numbers);
* getInvoiceById: GET /invoices/{invoiceId}, `include_line_items` as a query parameter when given;
* getInvoiceGenerationStatus: GET /invoices/invoice_generation_status/{invoiceId}?contract_id=...;
* approveInvoice: PATCH /invoices/{invoiceId}/approve, `send_email` in the query when given,
  `check_duplicate_invoice` in the body when given, else the body `{}` ("some endpoints (e.g.,
  approveInvoice) require a body"); zod's `.default()` under `.optional()` leaves an omitted
  argument out.

The client treats any non-2xx answer as a failure and otherwise JSON.parse()s the body, handing
it on whole (response-processor.js); the invoice id it passes on comes from `id`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_schema_validator import OAS31Validator
from seed_openapi import seed_openapi

from factories import create_customer
from recurring_factories import create_contract, flat

PREFIX = "/compat/zenskar"
SCHEMA = seed_openapi("001")["components"]["schemas"]["GenerateInvoiceRequestSchema"]
GENERATE = seed_openapi("001")["paths"]["/invoices/generate_invoice"]["post"]


def mcp_headers(tenant: Any) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Zenskar-MCP-Server/1.0.0",
        "apiversion": "20230501",
        "organisation": str(tenant.organisation_id),
        "x-api-key": tenant.api_key,
    }


def contract_of(client: TestClient, tenant: Any) -> dict[str, Any]:
    customer = create_customer(client, tenant.headers)
    return create_contract(
        client, tenant.headers, [flat("100.00")], customer_id=customer["id"], billing_cycle_start_day=1
    )


def parsed(response: Any) -> Any:
    """What the MCP server does with an answer: response.ok or throw, then JSON.parse."""
    assert 200 <= response.status_code < 300, response.text
    return json.loads(response.text)


def test_mcp_generate_get_status_approve(client, tenant) -> None:
    contract = contract_of(client, tenant)
    headers = mcp_headers(tenant)
    # The tool's own example: 1709251200 (2024-03-01) to 1711929600 (2024-04-01).
    body = json.dumps(
        {
            "contract_id": contract["id"],
            "customer_id": contract["customer_id"],
            "from_date": 1709251200,
            "to_date": 1711929600,
        }
    )
    generated = parsed(client.post(f"{PREFIX}/invoices/generate_invoice", content=body, headers=headers))
    invoice_id = generated["id"]
    assert (generated["status"], generated["from_date"], generated["to_date"]) == (
        "draft",
        "2024-03-01T00:00:00Z",
        "2024-04-01T00:00:00Z",
    )

    read = parsed(client.get(f"{PREFIX}/invoices/{invoice_id}?include_line_items=true", headers=headers))
    assert (read["id"], read["status"], read["total_amount"]) == (
        invoice_id,
        "draft",
        generated["total_amount"],
    )
    assert [(li["description"], li["amount_without_tax"]) for li in read["line_items"]] == [
        ("Platform fee, 2024-03-01 to 2024-03-31 (in arrears)", 100)
    ]
    assert "line_items" not in parsed(client.get(f"{PREFIX}/invoices/{invoice_id}", headers=headers))

    status = parsed(
        client.get(
            f"{PREFIX}/invoices/invoice_generation_status/{invoice_id}?contract_id={contract['id']}",
            headers=headers,
        )
    )
    assert status == {
        "invoice_id": invoice_id,
        "contract_id": contract["id"],
        "generation_status": "completed",
        "invoice_status": "draft",
    }

    approved = parsed(
        client.patch(
            f"{PREFIX}/invoices/{invoice_id}/approve?send_email=false",
            content=json.dumps({"check_duplicate_invoice": True}),
            headers=headers,
        )
    )
    assert approved["id"] == invoice_id and approved["status"] == "approved"
    assert approved["invoice_number"].startswith("INV-") and approved["invoice_date"]
    native = client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers).json()
    assert (native["status"], native["number"]) == ("open", approved["invoice_number"])
    again = parsed(client.get(f"{PREFIX}/invoices/{invoice_id}", headers=headers))
    assert again["status"] == "approved"


def test_mcp_approve_with_no_arguments_sends_an_empty_body(client, tenant) -> None:
    contract = contract_of(client, tenant)
    headers = mcp_headers(tenant)
    body = {"contract_id": contract["id"], "customer_id": contract["customer_id"]}
    generated = parsed(
        client.post(
            f"{PREFIX}/invoices/generate_invoice",
            json={**body, "from_date": 1704067200, "to_date": 1706745600},
            headers=headers,
        )
    )
    approved = parsed(
        client.patch(f"{PREFIX}/invoices/{generated['id']}/approve", content="{}", headers=headers)
    )
    assert approved["status"] == "approved"


def test_follow_up_calls_refuse_what_they_cannot_do(client, tenant, other_tenant) -> None:
    contract = contract_of(client, tenant)
    headers = mcp_headers(tenant)
    body = {"contract_id": contract["id"], "customer_id": contract["customer_id"]}
    invoice_id = parsed(
        client.post(
            f"{PREFIX}/invoices/generate_invoice",
            json={**body, "from_date": 1704067200, "to_date": 1706745600},
            headers=headers,
        )
    )["id"]
    # faktur sends no e-mail: send_email=true is refused, never ignored, and nothing is approved.
    refused = client.patch(
        f"{PREFIX}/invoices/{invoice_id}/approve?send_email=true", content="{}", headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["type"] == "send_email_not_available"
    assert client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers).json()["status"] == "draft"
    # Another organisation's key finds nothing; an unknown field in the body is refused.
    foreign = client.get(f"{PREFIX}/invoices/{invoice_id}", headers=mcp_headers(other_tenant))
    assert foreign.status_code == 404 and "detail" in foreign.json()
    odd = client.patch(f"{PREFIX}/invoices/{invoice_id}/approve", json={"approve": True}, headers=headers)
    assert odd.status_code == 422
    other = client.get(
        f"{PREFIX}/invoices/invoice_generation_status/{invoice_id}?contract_id={other_tenant.organisation_id}",
        headers=headers,
    )
    assert other.status_code == 404
    # Approved once, an invoice is immutable: approving again is a conflict.
    assert (
        client.patch(f"{PREFIX}/invoices/{invoice_id}/approve", content="{}", headers=headers).status_code
        == 200
    )
    assert (
        client.patch(f"{PREFIX}/invoices/{invoice_id}/approve", content="{}", headers=headers).status_code
        == 409
    )


VALID = {
    "from_date": "2024-01-01T00:00:00Z",
    "to_date": "2024-02-01T00:00:00Z",
    "check_duplicate_invoice": None,
    "bill_for_date": None,
    "billing_cycle_start_day": None,
}
# A value of the documented type for each field, and one of another type.
TYPES = {
    "customer_id": (None, "not-a-uuid"),
    "contract_id": (None, 12),
    "from_date": ("2024-01-01T00:00:00Z", "yesterday"),
    "to_date": (1706745600, [1]),
    "check_duplicate_invoice": (False, "maybe"),
    "bill_for_date": ("2024-01-15T00:00:00Z", "soon"),
    "billing_cycle_start_day": (1, "first"),
}


def test_the_walk_covers_every_documented_field() -> None:
    assert set(TYPES) == set(SCHEMA["properties"])
    assert set(SCHEMA["required"]) == {"customer_id", "contract_id", "from_date", "to_date"}
    assert set(GENERATE["responses"]) == {"200", "422"}


@pytest.mark.parametrize("name", sorted(TYPES))
def test_every_request_field_takes_its_type_and_refuses_another(client, tenant, name) -> None:
    contract = contract_of(client, tenant)
    ids = {"customer_id": contract["customer_id"], "contract_id": contract["id"]}
    good, bad = TYPES[name]
    accepted = {**ids, **VALID, **({name: good} if good is not None else {})}
    response = client.post(f"{PREFIX}/invoices/generate_invoice", json=accepted, headers=mcp_headers(tenant))
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), dict)
    refused = client.post(
        f"{PREFIX}/invoices/generate_invoice", json={**accepted, name: bad}, headers=mcp_headers(tenant)
    )
    assert refused.status_code == 422
    assert ["body", name] == refused.json()["detail"][0]["loc"][:2]


@pytest.mark.parametrize("name", ["customer_id", "contract_id", "from_date", "to_date"])
def test_every_required_field_missing_is_the_documented_422(client, tenant, name) -> None:
    contract = contract_of(client, tenant)
    body = {"customer_id": contract["customer_id"], "contract_id": contract["id"], **VALID}
    del body[name]
    response = client.post(f"{PREFIX}/invoices/generate_invoice", json=body, headers=mcp_headers(tenant))
    assert response.status_code == 422
    assert ["body", name] in [d["loc"] for d in response.json()["detail"]]


def test_the_apiversion_header_takes_an_integer(client, tenant) -> None:
    contract = contract_of(client, tenant)
    body = {"customer_id": contract["customer_id"], "contract_id": contract["id"], **VALID}
    headers = {**mcp_headers(tenant), "apiversion": "v2"}
    response = client.post(f"{PREFIX}/invoices/generate_invoice", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "apiversion"]


def test_follow_up_answers_are_the_ones_faktur_documents(client, tenant, other_tenant) -> None:
    """faktur's own OpenAPI document declares each follow-up call's statuses and their shapes."""
    document = client.get("/openapi.json").json()
    contract = contract_of(client, tenant)
    headers = mcp_headers(tenant)
    body = {"contract_id": contract["id"], "customer_id": contract["customer_id"]}
    invoice_id = parsed(
        client.post(
            f"{PREFIX}/invoices/generate_invoice",
            json={**body, "from_date": 1704067200, "to_date": 1706745600},
            headers=headers,
        )
    )["id"]
    invoice = f"{PREFIX}/invoices/{{invoice_id}}"
    status = f"{PREFIX}/invoices/invoice_generation_status/{{invoice_id}}"
    approve = f"{PREFIX}/invoices/{{invoice_id}}/approve"
    calls = [
        ("get", invoice, f"/invoices/{invoice_id}?include_line_items=true", headers, None, 200),
        ("get", invoice, f"/invoices/{invoice_id}", mcp_headers(other_tenant), None, 404),
        ("get", invoice, "/invoices/not-an-id", headers, None, 422),
        ("get", status, f"/invoices/invoice_generation_status/{invoice_id}", headers, None, 200),
        ("get", status, f"/invoices/invoice_generation_status/{invoice_id}", {}, None, 422),
        ("patch", approve, f"/invoices/{invoice_id}/approve", headers, "{", 400),
        ("patch", approve, f"/invoices/{invoice_id}/approve?send_email=true", headers, "{}", 422),
        ("patch", approve, f"/invoices/{invoice_id}/approve", headers, "{}", 200),
        ("patch", approve, f"/invoices/{invoice_id}/approve", headers, "{}", 409),
    ]
    for method, path, url, call_headers, content, expected in calls:
        response = client.request(method.upper(), PREFIX + url, headers=call_headers, content=content)
        assert response.status_code == expected, (method, url, response.text)
        declared = document["paths"][path][method]["responses"][str(expected)]
        schema = {**declared["content"]["application/json"]["schema"], "components": document["components"]}
        errors = [error.message for error in OAS31Validator(schema).iter_errors(response.json())]
        assert errors == [], (method, url, errors)
